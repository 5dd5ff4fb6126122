import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedis } from './support/fixture';
import { packIntoApp, tsc, type PackedApp } from './support/packed-app';

const root = join(__dirname, '..');
const redis = useRedis();

describe('the built package', () => {
  // dist/ is built once by the global setup (test/support/build.ts)
  it('loads with both require and import as one copy', async () => {
    const program = `
      const cjs = require('tusker');
      import('tusker').then(async (esm) => {
        if (esm.Tusker !== cjs.Tusker || esm.LockLostError !== cjs.LockLostError) throw new Error('two copies');
        const tusker = new esm.Tusker({ connection: process.env.URL, prefix: process.env.PREFIX });
        const result = await tusker.withLock('pkg', (lease) => lease.fencingToken);
        await tusker.close();
        console.log(JSON.stringify({ result, exports: Object.keys(esm).sort() }));
      });`;
    const out = execFileSync(process.execPath, ['-e', program], {
      cwd: root,
      env: { ...process.env, URL: redis.url, PREFIX: redis.prefix },
      encoding: 'utf8',
    });
    const { result, exports } = JSON.parse(out) as { result: number; exports: string[] };
    expect(result).toBe(1);
    expect(exports).toEqual(expect.arrayContaining(['Tusker', 'Mutex', 'Lease', 'TuskerError', 'InvalidArgumentError', 'default']));
  });

  it('exposes the classic APIs as their classes, for require and import', () => {
    const program = `
      const locking = require('tusker/compat/redis-locking-worker');
      const paired = require('tusker/compat/redis-paired-worker');
      const classic = require('tusker/compat/tusker');
      Promise.all([import('tusker/compat/redis-locking-worker'), import('tusker/compat/redis-paired-worker'), import('tusker/compat/tusker')]).then(([l, p, t]) => {
        console.log(JSON.stringify({
          same: l.default === locking && p.default === paired && t.initialize === classic.initialize,
          levels: locking.StatusLevels,
          kinds: [typeof locking, typeof paired, typeof classic.initialize],
        }));
      });`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', program], { cwd: root, encoding: 'utf8' }));
    expect(out).toEqual({ same: true, levels: { Verbose: 1, Normal: 2 }, kinds: ['function', 'function', 'function'] });
  });
});

describe('the packed tarball, installed into an app', () => {
  let app: PackedApp;
  beforeAll(() => {
    app = packIntoApp();
  }, 60_000);
  afterAll(() => app?.remove());

  const shipped = (path: string) => app.files.includes(normalize(path));
  const manifest = () =>
    JSON.parse(readFileSync(join(app.packageDir, 'package.json'), 'utf8')) as {
      scripts?: Record<string, string>;
      repository?: { url: string };
      homepage?: string;
      bugs?: { url: string };
    };

  it('ships no source map that points at a file it does not ship', () => {
    const broken: string[] = [];
    for (const file of app.files) {
      const text = readFileSync(join(app.packageDir, file), 'utf8');
      if (file.endsWith('.map')) {
        const { sources } = JSON.parse(text) as { sources: string[] };
        for (const source of sources) if (!shipped(join(dirname(file), source))) broken.push(`${file} → ${source}`);
      }
      const url = /\/\/# sourceMappingURL=(\S+)/.exec(text)?.[1];
      if (url && !url.startsWith('data:') && !shipped(join(dirname(file), url))) broken.push(`${file} → ${url}`);
    }
    expect(broken).toEqual([]);
  });

  it('runs nothing at install time', () => {
    const scripts = manifest().scripts ?? {};
    for (const hook of ['preinstall', 'install', 'postinstall', 'prepare']) expect(scripts).not.toHaveProperty(hook);
  });

  it('names its repository, homepage and issue tracker', () => {
    const m = manifest();
    expect(m.repository?.url).toContain('github.com/tusker-js/tusker');
    expect(m.homepage).toMatch(/^https:\/\/github\.com\/tusker-js\/tusker/);
    expect(m.bugs?.url).toBe('https://github.com/tusker-js/tusker/issues');
  });

  it("has a README whose relative links point at files it ships (the registry page resolves them in the package)", () => {
    const readme = readFileSync(join(app.packageDir, 'README.md'), 'utf8');
    const relativeLinks = [...readme.matchAll(/\]\(([^)\s]+)\)/g)]
      .map((m) => (m[1] as string).split('#')[0] as string)
      .filter((link) => link !== '' && !/^[a-z]+:/i.test(link));
    expect(relativeLinks.filter((link) => !shipped(link))).toEqual([]);
  });

  describe('examples against a private Redis', () => {
    const run = (file: string) =>
      JSON.parse(
        execFileSync(process.execPath, [file], { cwd: app.dir, env: { ...process.env, URL: redis.url, PREFIX: redis.prefix }, encoding: 'utf8' }),
      ) as unknown;

    it('a CommonJS app', async () => {
      writeFileSync(
        join(app.dir, 'cjs-example.cjs'),
        `const { Tusker } = require('tusker');
        const { createJob } = require('tusker/compat/thoonk-jobs');
        (async () => {
          const tusker = new Tusker({ connection: process.env.URL, prefix: process.env.PREFIX });
          const q = tusker.queue('doubler');
          const worker = q.process(async (job) => job.data.n * 2);
          const { id } = await q.publish({ n: 21 });
          const result = await q.waitFor(id, { wait: 20000 });
          await worker.stop();
          await tusker.close();
          console.log(JSON.stringify({ result, classic: typeof createJob }));
        })().catch((error) => { console.error(error); process.exit(1); });`,
      );
      expect(run('cjs-example.cjs')).toEqual({ result: 42, classic: 'function' });
      // it wrote to this test's server, under this test's prefix
      expect((await redis.redis().keys(`${redis.prefix}:*`)).length).toBeGreaterThan(0);
    });

    it('an ES module app', async () => {
      writeFileSync(
        join(app.dir, 'esm-example.mjs'),
        `import { Tusker, LockLostError } from 'tusker';
        import RedisLockingWorker from 'tusker/compat/redis-locking-worker';
        const tusker = new Tusker({ connection: process.env.URL, prefix: process.env.PREFIX });
        const tokens = [];
        for (let i = 0; i < 2; i++) tokens.push(await tusker.withLock('report', (lease) => lease.fencingToken));
        await tusker.close();
        console.log(JSON.stringify({ tokens, errors: typeof LockLostError, levels: RedisLockingWorker.StatusLevels }));`,
      );
      expect(run('esm-example.mjs')).toEqual({ tokens: [1, 2], errors: 'function', levels: { Verbose: 1, Normal: 2 } });
      expect((await redis.redis().keys(`${redis.prefix}:*`)).length).toBeGreaterThan(0);
    });

    it('the dashboard, serving its page files from the package', () => {
      writeFileSync(
        join(app.dir, 'dashboard-example.cjs'),
        `const { Tusker, startDashboard } = require('tusker');
        (async () => {
          const tusker = new Tusker({ connection: process.env.URL, prefix: process.env.PREFIX });
          await tusker.queue('emails').publish('hi');
          const dashboard = await startDashboard(tusker, { port: 0, token: 'pkg' });
          const get = async (path, headers) => {
            const res = await fetch(dashboard.url + path, { headers });
            return [res.status, (await res.text()).length > 0];
          };
          const statuses = {};
          for (const path of ['', 'dashboard.js', 'dashboard.css', 'uplot.js', 'uplot.css']) statuses[path || 'page'] = await get(path);
          statuses.api = await get('api/overview', { Authorization: 'Bearer pkg' });
          await dashboard.close();
          await tusker.close();
          console.log(JSON.stringify(statuses));
        })().catch((error) => { console.error(error); process.exit(1); });`,
      );
      const ok = [200, true];
      expect(run('dashboard-example.cjs')).toEqual({ page: ok, 'dashboard.js': ok, 'dashboard.css': ok, 'uplot.js': ok, 'uplot.css': ok, api: ok });
    });

    it('a TypeScript app, type-checked and compiled against the declarations', async () => {
      const dir = join(app.dir, 'ts-example');
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        join(dir, 'main.ts'),
        `import { Tusker, type ClaimedJob, type JobProcessor } from 'tusker';
        interface Email { readonly to: string }
        async function main(): Promise<void> {
          const tusker = new Tusker({ connection: process.env.URL, prefix: process.env.PREFIX });
          const q = tusker.queue<Email>('emails');
          const worker: JobProcessor<Email> = q.process(async (job: ClaimedJob<Email>) => ({ sent: job.data.to.toUpperCase() }));
          const { id } = await q.publish({ to: 'ada@example.com' });
          const result = await q.waitFor<{ sent: string }>(id, { wait: 20_000 });
          await worker.stop();
          await tusker.close();
          console.log(JSON.stringify({ sent: result.sent }));
        }
        main().catch((error: unknown) => { console.error(error); process.exit(1); });`,
      );
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'ES2022', lib: ['ES2023', 'ESNext.Disposable'], types: ['node'], outDir: 'out' },
          include: ['main.ts'],
        }),
      );
      tsc(dir, ['-p', 'tsconfig.json']);
      expect(run(join('ts-example', 'out', 'main.js'))).toEqual({ sent: 'ADA@EXAMPLE.COM' });
      expect((await redis.redis().keys(`${redis.prefix}:*`)).length).toBeGreaterThan(0);
    }, 60_000);
  });
});
