import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/**
 * Child processes for multi-process tests: a fixture from test/fixtures runs under tsx with an IPC
 * channel; tests await its messages instead of sleeping, and crash it with real signals.
 */

export interface Child<M> {
  readonly process: ChildProcess;
  readonly pid: number;
  /** Every message received so far. */
  readonly messages: M[];
  /** The first message (already received or future) that matches. */
  next(match: (message: M) => boolean, timeoutMs?: number): Promise<M>;
  send(message: unknown): void;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  signal(name: NodeJS.Signals): void;
}

const children = new Set<ChildProcess>();
process.once('exit', () => children.forEach((c) => c.kill('SIGKILL')));

export function startChild<M>(fixture: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Child<M> {
  const proc = fork(join(__dirname, '..', 'fixtures', fixture), args, {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(proc);
  const messages: M[] = [];
  const waiting = new Set<{ match: (m: M) => boolean; resolve: (m: M) => void }>();
  proc.on('message', (message) => {
    messages.push(message as M);
    for (const w of waiting) {
      if (w.match(message as M)) {
        waiting.delete(w);
        w.resolve(message as M);
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => {
      children.delete(proc);
      resolve({ code, signal });
    }),
  );
  return {
    process: proc,
    pid: proc.pid as number,
    messages,
    exited,
    next(match, timeoutMs = 20_000) {
      const found = messages.find(match);
      if (found) return Promise.resolve(found);
      return new Promise<M>((resolve, reject) => {
        const entry = {
          match,
          resolve: (m: M) => {
            clearTimeout(timer);
            resolve(m);
          },
        };
        const timer = setTimeout(() => {
          waiting.delete(entry);
          reject(new Error(`child ${fixture} sent no matching message within ${timeoutMs} ms; got ${JSON.stringify(messages)}`));
        }, timeoutMs);
        waiting.add(entry);
        void exited.then(() => {
          if (waiting.delete(entry)) {
            clearTimeout(timer);
            reject(new Error(`child ${fixture} exited before sending a matching message; got ${JSON.stringify(messages)}`));
          }
        });
      });
    },
    send(message) {
      proc.send(message as never);
    },
    signal(name) {
      proc.kill(name);
    },
  };
}
