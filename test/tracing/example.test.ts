import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { useRedis } from '../support/fixture';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');
const redis = useRedis();

describe('examples/tracing.ts', () => {
  it('prints the spans docs/tracing.md shows: send, process linked to it, lock acquire/hold inside, the task handler', async () => {
    const { stdout } = await run(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'examples', 'tracing.ts')], { env: { ...process.env, REDIS_URL: redis.url } });
    const line = (name: string) => stdout.split('\n').find((l) => l.startsWith(`${name} `)) ?? '';
    const sendSpan = /span (\w+)/.exec(line('send emails'))?.[1];
    expect(line('send emails')).toContain('PRODUCER');
    expect(line('process emails')).toContain(`link→${sendSpan}`);
    expect(line('process emails')).toContain('tusker.job.outcome=finished');
    const processSpan = /span (\w+)/.exec(line('process emails'))?.[1];
    expect(line('lock acquire')).toContain(`parent ${processSpan}`);
    expect(line('lock hold')).toContain('tusker.lock.group=orders');
    expect(line('process encode')).toContain('tusker.task.outcome=completed');
  });
});
