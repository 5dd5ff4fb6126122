import { describe, expect, it } from 'vitest';
import { startChild } from '../support/child';
import { useRedis } from '../support/fixture';

const redis = useRedis();

type Message =
  | { type: 'started' }
  | { type: 'settled'; settled: 'resolved' | 'rejected'; name?: string; code?: string; beforeCloseEnded: boolean }
  | { type: 'error'; message: string };

/**
 * Issue #9 item 6: `tusker.close()` while Redis is down. Each call runs in a child process, so that
 * one that never settles shows as it does in production: node exits when its event loop empties,
 * with the `await` still pending (the fixture's exit code then stays 99).
 */
describe('close() while Redis is down: every public promise settles before close() resolves', () => {
  const calls = ['once', 'once, ignoring its signal', 'paired', 'acquire', 'claim', 'waitFor', 'tasks.lock', 'stop'] as const;
  for (const call of calls) {
    it(call, async () => {
      await redis.server.restart();
      const child = startChild<Message>('close-while-down.ts', [], { URL: redis.url, PREFIX: redis.prefix, CALL: call });
      await child.next((m) => m.type === 'started' || m.type === 'error');
      expect(child.messages.filter((m) => m.type === 'error')).toEqual([]);
      await redis.server.kill();
      child.send('close');
      const { code } = await child.exited;
      const settled = child.messages.find((m) => m.type === 'settled');
      expect(settled, JSON.stringify(child.messages)).toBeDefined();
      if (settled?.type === 'settled' && settled.settled === 'rejected') expect(['ERR_CLOSED', 'ERR_CONNECTION']).toContain(settled.code);
      expect(settled).toMatchObject({ beforeCloseEnded: true });
      expect(code).toBe(0);
    });
  }
});
