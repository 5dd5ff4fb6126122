import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useRedis } from './support/fixture';

const root = join(__dirname, '..');
const redis = useRedis();

describe('the built package', () => {
  it('builds, and loads with both require and import as one copy', async () => {
    execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'pipe' });
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
});
