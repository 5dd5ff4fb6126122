import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createDashboard, InvalidArgumentError, JobCancelledError, startDashboard } from '../../src/index';
import { CONTENT_SECURITY_POLICY } from '../../src/dashboard/security';
import { useRedis } from '../support/fixture';
import { request, useDashboards } from './serve';

/**
 * The dashboard over HTTP: its security checks (token, same origin, loopback-only without a token,
 * read-only, CSP), its reads and its actions, against a real redis-server.
 */
const redis = useRedis();
const serve = useDashboards();
const TOKEN = 's3cret-token';
const bearer = { Authorization: `Bearer ${TOKEN}` };

describe('dashboard security', () => {
  it('sends a strict CSP, nosniff and no-referrer on every response, pages, API, errors alike', async () => {
    const d = await serve(redis.tusker(), { token: TOKEN });
    for (const path of ['', 'dashboard.js', 'dashboard.css', 'uplot.js', 'uplot.css', 'api/overview', 'nope', 'api/nope']) {
      const r = await request(d.url + path, { headers: bearer });
      expect(r.headers['content-security-policy'], path).toBe(CONTENT_SECURITY_POLICY);
      expect(r.headers['x-content-type-options'], path).toBe('nosniff');
      expect(r.headers['referrer-policy'], path).toBe('no-referrer');
    }
    const page = await request(d.url);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    // no inline script or style: everything the page runs comes from its own files
    expect(page.text).not.toMatch(/<script>|<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=/i);
    expect((await request(`${d.url}uplot.js`)).text).toContain('uPlot');
  });

  it('needs the token for the API and /metrics, in Authorization or X-Tusker-Token; the page itself has no data', async () => {
    const d = await serve(redis.tusker(), { token: TOKEN });
    expect((await request(d.url)).status).toBe(200);
    for (const path of ['api/overview', 'metrics', 'api/queues/q/jobs?state=failed']) {
      expect((await request(d.url + path)).status, path).toBe(401);
      expect((await request(d.url + path, { headers: { Authorization: 'Bearer wrong' } })).status, path).toBe(401);
      expect((await request(d.url + path, { headers: { Cookie: `token=${TOKEN}` } })).status, path).toBe(401);
      expect((await request(d.url + path, { headers: bearer })).status, path).toBe(200);
      expect((await request(d.url + path, { headers: { 'X-Tusker-Token': TOKEN } })).status, path).toBe(200);
    }
    const refused = await request(`${d.url}api/queues/q/pause`, { method: 'POST' });
    expect(refused.status).toBe(401);
    expect(refused.json().error).toMatch(/token/);
  });

  it('refuses cross-site callers (Sec-Fetch-Site, Origin) even with the token', async () => {
    const t = redis.tusker();
    await t.queue('q').publish(1);
    const d = await serve(t, { token: TOKEN });
    const own = d.url.replace(/\/$/, '');
    const pause = (headers: Record<string, string>) => request(`${d.url}api/queues/q/pause`, { method: 'POST', headers: { ...bearer, ...headers } });
    expect((await pause({ 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
    expect((await pause({ 'Sec-Fetch-Site': 'same-site' })).status).toBe(403);
    expect((await pause({ Origin: 'http://evil.example' })).status).toBe(403);
    expect((await pause({ Origin: 'null' })).status).toBe(403);
    expect((await pause({ Origin: own.replace(/:\d+$/, ':1') })).status).toBe(403); // same host name, another port
    expect((await request(`${d.url}api/overview`, { headers: { ...bearer, 'Sec-Fetch-Site': 'cross-site' } })).status).toBe(403);
    expect((await t.queue('q').stats()).paused).toBe(false);
    expect((await pause({ 'Sec-Fetch-Site': 'same-origin', Origin: own })).status).toBe(200);
    expect((await t.queue('q').stats()).paused).toBe(true);
    // behind a proxy that ends TLS the page's origin is https, this server's socket plain http
    const resume = await request(`${d.url}api/queues/q/resume`, { method: 'POST', headers: { ...bearer, Origin: own.replace(/^http:/, 'https:') } });
    expect(resume.status).toBe(200);
    expect((await t.queue('q').stats()).paused).toBe(false);
  });

  it('without a token, answers only requests addressed to a loopback host (no DNS rebinding)', async () => {
    const d = await serve(redis.tusker());
    expect((await request(`${d.url}api/overview`)).status).toBe(200);
    for (const host of ['evil.example', 'evil.example:4680', '10.0.0.5']) {
      const r = await request(`${d.url}api/overview`, { headers: { Host: host } });
      expect(r.status, host).toBe(403);
      expect((await request(d.url, { headers: { Host: host } })).status, host).toBe(403);
    }
    expect((await request(`${d.url}api/overview`, { headers: { Host: `localhost:${d.port}` } })).status).toBe(200);
  });

  it('refuses to listen on a non-loopback address without a token, before listening', async () => {
    const t = redis.tusker();
    for (const host of ['0.0.0.0', '::', '192.168.1.10']) {
      const error = await startDashboard(t, { host, port: 0 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).argument).toBe('token');
    }
    const withToken = await serve(t, { host: '0.0.0.0', token: TOKEN });
    expect(withToken.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+\/$/);
  });

  it('checks its options before anything runs', async () => {
    const t = redis.tusker();
    const argument = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return error instanceof InvalidArgumentError ? error.argument : `not InvalidArgumentError: ${String(error)}`;
      }
      return 'nothing thrown';
    };
    expect(argument(() => createDashboard(t, { token: '' }))).toBe('options.token');
    expect(argument(() => createDashboard(t, { token: 'has space' }))).toBe('options.token');
    expect(argument(() => createDashboard(t, { readOnly: 'yes' as unknown as boolean }))).toBe('options.readOnly');
    expect(argument(() => createDashboard(t, { basePath: 'tusker/' }))).toBe('options.basePath');
    expect(argument(() => createDashboard(t, { tokn: 'x' } as never))).toMatch(/^options/);
    await expect(startDashboard(t, { port: 70_000 })).rejects.toMatchObject({ argument: 'options.port' });
  });

  it('read-only: every action is refused with 403, the overview says so', async () => {
    const t = redis.tusker();
    const q = t.queue('q');
    await q.publish(1, { id: 'a' });
    const d = await serve(t, { token: TOKEN, readOnly: true });
    expect((await request(`${d.url}api/overview`, { headers: bearer })).json().readOnly).toBe(true);
    for (const path of ['queues/q/pause', 'queues/q/resume', 'queues/q/retry-failed', 'queues/q/jobs/a/retract', 'queues/q/jobs/a/cancel', 'groups/g/tasks/x/retry-failed']) {
      expect((await request(`${d.url}api/${path}`, { method: 'POST', headers: bearer })).status, path).toBe(403);
    }
    expect((await q.getJob('a'))?.state).toBe('available');
  });
});

describe('dashboard reads and actions', () => {
  it('serves /metrics as Prometheus text', async () => {
    const t = redis.tusker();
    await t.queue('orders').publish(1);
    const d = await serve(t, { token: TOKEN });
    const r = await request(`${d.url}metrics`, { headers: bearer });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(r.text).toContain('tusker_jobs{queue="orders",state="available"} 1');
  });

  it('lists jobs by state in pages of at most 50, and shows one job with its data, result and error', async () => {
    const t = redis.tusker();
    const q = t.queue<{ n: number }>('pages');
    await q.publishMany(Array.from({ length: 120 }, (_, n) => ({ data: { n }, options: { id: `j${n}` } })));
    const claimed = await q.claim({ wait: 0 });
    await claimed?.fail('it broke');
    const d = await serve(t, { token: TOKEN });
    const get = async <T>(path: string) => (await request(`${d.url}api/${path}`, { headers: bearer })).json<T>();
    const first = await get<{ total: number; jobs: { id: string; data?: unknown }[]; pageSize: number }>('queues/pages/jobs?state=available');
    expect(first.total).toBe(119);
    expect(first.pageSize).toBe(50);
    expect(first.jobs).toHaveLength(50);
    expect(first.jobs[0]).not.toHaveProperty('data');
    const last = await get<{ jobs: unknown[] }>('queues/pages/jobs?state=available&page=2');
    expect(last.jobs).toHaveLength(19);
    const failed = await get<{ jobs: { id: string; error: string }[] }>('queues/pages/jobs?state=failed');
    expect(failed.jobs).toEqual([expect.objectContaining({ id: 'j0', error: 'it broke', state: 'failed' })]);
    expect(await get('queues/pages/jobs/j0')).toMatchObject({ id: 'j0', state: 'failed', data: { n: 0 }, error: 'it broke', attempt: 1 });
    expect((await request(`${d.url}api/queues/pages/jobs/nope`, { headers: bearer })).status).toBe(404);
    expect((await request(`${d.url}api/queues/pages/jobs?state=lost`, { headers: bearer })).status).toBe(400);
    expect((await request(`${d.url}api/queues/pages/jobs?page=-1`, { headers: bearer })).status).toBe(400);
  });

  it('overview: queues, task groups, locks with holder and token, once keys', async () => {
    const t = redis.tusker();
    await t.queue('emails').publish('x');
    const group = t.tasks('encode');
    await group.lock('video-1', 'part-1');
    const lease = await t.mutex('invoice-42').acquire();
    await t.once('migrate', () => 'done');
    const d = await serve(t, { token: TOKEN });
    const o = (await request(`${d.url}api/overview`, { headers: bearer })).json<Record<string, { name?: string; key?: string }[]>>();
    expect(o.queues).toEqual([expect.objectContaining({ name: 'emails', available: 1, paused: false })]);
    expect(o.taskGroups).toEqual([expect.objectContaining({ name: 'encode', open: 1 })]);
    expect(o.locks).toEqual([expect.objectContaining({ name: 'invoice-42', held: true, owner: expect.any(String), fencingToken: lease.fencingToken })]);
    expect(o.once).toEqual([expect.objectContaining({ key: 'migrate', status: 'done' })]);
    const task = (await request(`${d.url}api/groups/encode/tasks/video-1`, { headers: bearer })).json<{ parts: { name: string }[] }>();
    expect(task.parts.map((p) => p.name)).toEqual(['part-1']);
    const page = (await request(`${d.url}api/groups/encode`, { headers: bearer })).json<{ inFlight: { parts: { task: string; part: string; deadline: string }[] } }>();
    expect(page.inFlight.parts).toEqual([{ task: 'video-1', part: 'part-1', deadline: expect.any(String) }]);
    await lease.release();
  });

  it('acts: retry, retract, cancel, retry-failed, pause, resume, and a task retry-failed', async () => {
    const t = redis.tusker();
    const q = t.queue('work');
    await q.publishMany(['a', 'b', 'c', 'd'].map((id) => ({ data: id, options: { id } })));
    for (let i = 0; i < 3; i += 1) await (await q.claim({ wait: 0 }))?.fail('boom');
    const d = await serve(t, { token: TOKEN });
    const post = (path: string, body?: unknown) =>
      request(`${d.url}api/${path}`, { method: 'POST', headers: { ...bearer, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

    expect((await post('queues/work/jobs/a/retry')).json()).toEqual({ id: 'a', from: 'failed' });
    expect((await q.getJob('a'))?.state).toBe('available');
    expect((await post('queues/work/jobs/a/retry')).status).toBe(409); // not failed any more
    expect((await post('queues/work/jobs/b/retract')).status).toBe(200);
    expect(await q.getJob('b')).toBeNull();
    expect((await post('queues/work/retry-failed')).json()).toEqual({ retried: 1 });
    expect((await q.stats()).failed).toBe(0);

    const job = await q.claim({ wait: 0 });
    // the holder hears of the cancel on the queue's cancel channel: its signal aborts a moment later
    const abortedSignal = new Promise<unknown>((resolve) => job?.signal.addEventListener('abort', () => resolve(job.signal.reason), { once: true }));
    const cancelled = await post(`queues/work/jobs/${job?.id}/cancel`, { reason: 'operator said stop' });
    expect(cancelled.json()).toMatchObject({ state: 'failed', wasRunning: true });
    await expect(abortedSignal).resolves.toBeInstanceOf(JobCancelledError);
    expect((await q.getJob(job?.id as string))?.error).toBe('operator said stop');

    await post('queues/work/pause');
    expect((await q.stats()).paused).toBe(true);
    await post('queues/work/resume');
    expect((await q.stats()).paused).toBe(false);

    const group = t.tasks('g');
    await group.lock('t1', 'p');
    await group.unlock('t1', 'p');
    await group.closeTask('t1', null, { attempts: 1 });
    // listening before the processor starts: a failure before the listener would never be heard
    let heard: () => void = () => undefined;
    const failed = new Promise<void>((resolve) => (heard = resolve));
    await group.on('failed', () => heard());
    const processor = group.process(() => {
      throw new Error('handler broke');
    });
    await failed;
    await processor.stop();
    expect((await group.stats()).failed).toBe(1);
    expect((await post('groups/g/tasks/t1/retry-failed')).json()).toEqual({ task: 't1' });
    expect((await group.stats()).failed).toBe(0);
    expect((await post('groups/g/tasks/t1/retry-failed')).status).toBe(409);
    expect((await post('queues/work/jobs/zz/retract')).status).toBe(200); // retracting nothing is not an error
    expect((await post('queues/work/nope')).status).toBe(404);
    expect((await post('queues/work/jobs/c/cancel', [1])).status).toBe(400);
  });

  it('mounts under a base path in an existing server', async () => {
    const t = redis.tusker();
    const dashboard = createDashboard(t, { token: TOKEN, basePath: '/ops/tusker' });
    const server = createServer((req, res) => {
      if (req.url?.startsWith('/ops/tusker')) dashboard(req, res);
      else res.writeHead(200).end('the app');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect((await request(`${base}/`)).text).toBe('the app');
      const redirect = await request(`${base}/ops/tusker`);
      expect(redirect.status).toBe(302);
      expect(redirect.headers.location).toBe('/ops/tusker/');
      expect((await request(`${base}/ops/tusker/`)).text).toContain('dashboard.js');
      expect((await request(`${base}/ops/tusker/api/overview`, { headers: bearer })).status).toBe(200);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
