import { spawn, type ChildProcess } from 'node:child_process';
import IORedis from 'ioredis';

/**
 * What the standalone, Cluster and Sentinel harnesses share: starting one redis-server process
 * and waiting for the line that says it serves, stopping it (SIGTERM, then SIGKILL), and asking
 * a node something on a short-lived connection. Every process started here is killed when the
 * test process exits, whatever happened.
 */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Start `binary args…` and resolve once it prints `ready`; reject (and kill it) if it exits or takes over 10 s. */
export function launchRedis(binary: string, args: readonly string[], what: string, ready = 'Ready to accept connections'): Promise<ChildProcess> {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`${what} did not start in time:\n${output}`)), 10_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(ready)) {
        clearTimeout(timer);
        child.stdout?.removeAllListeners('data');
        child.stdout?.resume();
        resolve(child);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => fail(new Error(`${what} exited (${code}):\n${output}`)));
  });
}

/** Stop `child` with `signal` (SIGKILL after 3 s); resolves once it has exited. */
export function terminate(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill(signal);
  });
}

/** Run `fn` on a short-lived connection to 127.0.0.1:`port` (no retries: a dead node fails at once). */
export async function ask<T>(port: number, fn: (c: IORedis) => Promise<T>): Promise<T> {
  const c = new IORedis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return await fn(c);
  } finally {
    c.disconnect();
  }
}

/** `ask` the first of `ports` that answers; rejects with the last failure (or `none`) if none does. */
export async function askAny<T>(ports: readonly number[], fn: (c: IORedis) => Promise<T>, none: string): Promise<T> {
  let failure: unknown = new Error(none);
  for (const port of ports) {
    try {
      return await ask(port, fn);
    } catch (error) {
      failure = error;
    }
  }
  throw failure;
}
