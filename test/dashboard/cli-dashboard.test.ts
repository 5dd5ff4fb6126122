import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { useRedis } from '../support/fixture';
import { runCli } from '../cli/run-cli';
import { request } from './serve';

/**
 * `tusker dashboard` from the built CLI (dist/, so the page files the build copies are the ones
 * served): it prints its URL with the token after `#`, serves until SIGTERM, then exits 0.
 */
const BIN = join(__dirname, '..', '..', 'dist', 'cli', 'index.js');
const redis = useRedis();

/** The environment without a dashboard token of the machine's own. */
function withoutToken(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { TUSKER_DASHBOARD_TOKEN: _token, ...rest } = env;
  return rest;
}

/** Start `tusker dashboard …`; resolves with what it prints first (the URL, or its JSON) and a way to stop it. */
function startCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ line: string; stop(): Promise<number | null> }> {
  const child = spawn(process.execPath, [BIN, '--redis', redis.url, '--prefix', redis.prefix, 'dashboard', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...withoutToken(process.env), REDIS_URL: '', ...env } });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      // a line of text, or (with --json) one JSON document over several lines
      const text = stdout.startsWith('{') ? (/^\{[\s\S]*\n\}\n/.exec(stdout)?.[0] ?? '') : stdout.slice(0, stdout.indexOf('\n') + 1);
      if (text !== '') resolve({ line: text.trimEnd(), stop: () => (child.kill('SIGTERM'), exited) });
    });
    void exited.then((code) => reject(new Error(`tusker dashboard exited (${code}) before printing its URL: ${stderr}`)));
  });
}

describe('tusker dashboard', () => {
  it('prints the URL with #token=, serves the page and the API from the build, and exits 0 on SIGTERM', async () => {
    await redis.tusker().queue('emails').publish('hello');
    const cli = await startCli(['--port', '0', '--token', 'cli-token']);
    const url = /(http:\/\/127\.0\.0\.1:\d+\/)#token=cli-token/.exec(cli.line)?.[1];
    expect(url, cli.line).toBeDefined();
    const page = await request(url as string);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<script src="dashboard.js" defer></script>');
    expect((await request(`${url}dashboard.js`)).text).toContain('sessionStorage');
    expect((await request(`${url}api/overview`)).status).toBe(401);
    const overview = await request(`${url}api/overview`, { headers: { 'X-Tusker-Token': 'cli-token' } });
    expect(overview.json<{ queues: { name: string }[] }>().queues.map((q) => q.name)).toEqual(['emails']);
    expect(await cli.stop()).toBe(0);
  });

  it('--read-only --json prints the URL as JSON; the actions are refused', async () => {
    const cli = await startCli(['--port', '0', '--read-only', '--json']);
    const { url, readOnly } = JSON.parse(cli.line) as { url: string; readOnly: boolean };
    expect(readOnly).toBe(true);
    expect((await request(`${url}api/queues/q/pause`, { method: 'POST' })).status).toBe(403);
    expect(await cli.stop()).toBe(0);
  });

  it('takes the token from $TUSKER_DASHBOARD_TOKEN (kept out of the process list)', async () => {
    const cli = await startCli(['--port', '0'], { TUSKER_DASHBOARD_TOKEN: 'from-env' });
    const url = /(http:\/\/127\.0\.0\.1:\d+\/)#token=from-env/.exec(cli.line)?.[1] as string;
    expect(url, cli.line).toBeDefined();
    expect((await request(`${url}api/overview`)).status).toBe(401);
    expect((await request(`${url}api/overview`, { headers: { Authorization: 'Bearer from-env' } })).status).toBe(200);
    expect(await cli.stop()).toBe(0);
  });

  it('refuses a non-loopback --host without --token (exit 2, naming the token)', async () => {
    const run = await runCli(['--redis', redis.url, '--prefix', redis.prefix, 'dashboard', '--host', '0.0.0.0', '--port', '0']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Invalid argument 'token'.*0\.0\.0\.0/);
  });

  it('keeps serving across a Redis restart: it reconnects instead of failing every refresh after it', async () => {
    const cli = await startCli(['--port', '0']);
    const url = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(cli.line)?.[1] as string;
    expect((await request(`${url}api/overview`)).status).toBe(200);
    await redis.server.restart();
    // awaiting a state: the reconnect
    await vi.waitFor(async () => expect((await request(`${url}api/overview`)).status).toBe(200), { timeout: 20_000, interval: 100 });
    expect(await cli.stop()).toBe(0);
  });
});
