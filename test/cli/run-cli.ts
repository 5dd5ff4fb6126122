import { spawn } from 'node:child_process';
import { join } from 'node:path';

/**
 * The built CLI (dist/cli/index.js, built by the global setup) run as a real child process with
 * stdin not a terminal (destructive commands refuse without --yes) and no REDIS_URL, so nothing
 * falls back to a Redis the test did not start: every call names its server.
 */
const BIN = join(__dirname, '..', '..', 'dist', 'cli', 'index.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `env`: variables added to the child's environment (REDIS_URL stays empty unless given). */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, REDIS_URL: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
