import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useRedis } from '../support/fixture';
import { root, runScript } from './script';

const redis = useRedis();
const fixture = join(root, 'test', 'fixtures', 'throwing-callback.ts');

describe('compat: an error thrown in a user callback is an uncaught exception, as in the originals', () => {
  it.each([
    'locking acquired listener',
    'locking status listener',
    'paired lock callback',
    'tusker fetchReleased handler',
    'tusker completed callback',
    'tusker stats callback',
    'thoonk onFinish',
    'thoonk registerObject callback',
    'thoonk get callback',
  ])('%s: the process dies with a non-zero code and the error on stderr', async (which) => {
    const child = runScript(fixture, { REDIS_URL: redis.url, PREFIX: redis.prefix }, { args: [which] });
    const { code } = await child.exited;
    expect(child.stderr()).toContain(`Error: thrown in ${which}`);
    expect(code).not.toBe(0);
  });
});
