import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useRedis } from './support/fixture';

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
