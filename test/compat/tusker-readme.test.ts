import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initialize } from '../../src/compat/tusker';
import { useRedis } from '../support/fixture';
import { root, runScript } from './script';

// a server of its own: the snippets use the classic defaults (prefix, group, task name), which
// other tests' stats would count
const redis = useRedis();

describe("compat: the Tusker README's snippets, as written, each in its own process", () => {
  const readme = (name: string) => join(root, 'examples', 'compat', 'tusker', 'readme', `${name}.js`);

  it("require('tusker').initialize() with no arguments: chunks, close, fetchReleased, stats and the timeouts", async () => {
    // REDIS_URL is all the snippets get: initialize() must find the private server through it
    const env = { REDIS_URL: redis.url };
    const fetcher = runScript(readme('fetch-released'), env, { observe: true });
    const encoder = runScript(readme('encode-chunk'), env, { observe: true });
    await encoder.line('observed: lock ok');
    await encoder.line('observed: unlock ok');
    const closer = runScript(readme('close-stream'), env, { observe: true });
    await closer.line('observed: close ok');
    await fetcher.line('observed: released the-task {"some_data":10}');
    await fetcher.line('observed: completed(null) ok');
    const stats = runScript(readme('stats'), env, { observe: true });
    expect(await stats.line('observed: stats')).toBe(
      'observed: stats {"completed":1,"released":0,"locked":0,"failed":0,"processing":0}',
    );
    await runScript(readme('timeout-locks'), env, { observe: true }).line('observed: timeoutLocks ok');
    await runScript(readme('timeout-processing'), env, { observe: true }).line('observed: timeoutProcessing ok');
    expect(fetcher.stdout.filter((l) => l.includes('released'))).toHaveLength(1);
    // it was this server the snippets used, under the classic default prefix
    const manager = initialize({ redis: redis.url });
    expect(await manager.stats()).toMatchObject({ completed: 1 });
    await manager.quit();
  });

  it("initialize is one function whichever way it is loaded: require('tusker'), import, or the compat path first", () => {
    const program = `
      const classic = require('tusker/compat/tusker');
      const main = require('tusker');
      import('tusker').then((esm) => console.log(JSON.stringify([
        main.initialize === classic.initialize, esm.initialize === classic.initialize,
        esm.default.initialize === classic.initialize, typeof main.Tusker,
      ])));`;
    expect(JSON.parse(execFileSync(process.execPath, ['-e', program], { cwd: root, encoding: 'utf8' }))).toEqual([true, true, true, 'function']);
  });
});

