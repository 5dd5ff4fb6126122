import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach } from 'vitest';

/**
 * Runs a classic example as its users would (`node file.js`, loading the built package) and lets
 * a test wait for lines of its output. Most README examples never exit (their Redis client stays
 * open, as it did with the originals), so the test waits for what it expects and then kills them.
 */

export const root = join(__dirname, '..', '..');
const observer = join(root, 'test', 'fixtures', 'observe-classic.js');

export interface Script {
  readonly stdout: string[];
  stderr(): string;
  /** The first stdout line (seen or to come) that contains `text` or matches it. */
  line(text: string | RegExp, timeoutMs?: number): Promise<string>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): void;
}

const running = new Set<ChildProcess>();
afterEach(() => {
  running.forEach((p) => p.kill('SIGKILL'));
  running.clear();
});

/**
 * `observe`: preload test/fixtures/observe-classic.js, for examples that print nothing themselves;
 * `preload`: more files to preload. A .ts file runs under tsx.
 */
export function runScript(file: string, env: NodeJS.ProcessEnv, options: { observe?: boolean; preload?: string[]; args?: string[] } = {}): Script {
  const preload = [...(options.observe ? [observer] : []), ...(options.preload ?? [])];
  const args = [...(file.endsWith('.ts') ? ['--import', 'tsx'] : []), ...preload.flatMap((p) => ['-r', p]), file, ...(options.args ?? [])];
  const proc = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  const stdout: string[] = [];
  let stderr = '';
  let partial = '';
  const listeners = new Set<() => void>();
  let done = false;
  proc.stdout.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    stdout.push(...lines);
    listeners.forEach((l) => l());
  });
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('close', (code, signal) => {
      running.delete(proc);
      done = true;
      if (partial) stdout.push(partial);
      listeners.forEach((l) => l());
      resolve({ code, signal });
    }),
  );
  const find = (text: string | RegExp) => stdout.find((l) => (typeof text === 'string' ? l.includes(text) : text.test(l)));
  return {
    stdout,
    stderr: () => stderr,
    exited,
    kill: () => proc.kill('SIGKILL'),
    line(text, timeoutMs = 20_000) {
      return new Promise<string>((resolve, reject) => {
        const check = () => {
          const found = find(text);
          if (found !== undefined || done) {
            listeners.delete(check);
            clearTimeout(timer);
            if (found !== undefined) resolve(found);
            else reject(new Error(`${file} exited without printing ${String(text)}:\n${stdout.join('\n')}\n${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`${file} printed no ${String(text)} within ${timeoutMs} ms:\n${stdout.join('\n')}\n${stderr}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
  };
}
