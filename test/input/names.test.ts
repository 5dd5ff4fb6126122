import { afterAll, describe, it } from 'vitest';
import { Tusker } from '../../src/index';
import { expectInvalidArguments } from '../support/invalid';
import { freePort } from '../support/redis-server';

/**
 * A name with a lone UTF-16 surrogate reaches Redis as U+FFFD, so 'lock-\uD800' and
 * 'lock-\uDC00' would be one lock. Every name and id goes through one check that refuses it, before
 * any Redis call (this instance points at a port nobody listens on).
 */
describe('names that are not well-formed UTF-16', async () => {
  const port = await freePort();
  const tusker = new Tusker({ connection: { port, host: '127.0.0.1', lazyConnect: true } });
  afterAll(() => tusker.close());
  const handler = () => undefined;

  it.each(['lock-\uD800', 'lock-\uDC00', '\uDC00\uD800', 'x\uD83D'])('%j is refused wherever a name goes', async (bad) => {
    const queue = tusker.queue('q');
    const tasks = tusker.tasks('g');
    await expectInvalidArguments([
      ['name', () => tusker.mutex(bad)],
      ['options.group', () => tusker.mutex('ok', { group: bad })],
      ['name', () => tusker.withLock(bad, handler)],
      ['name', () => tusker.queue(bad)],
      ['options.id', () => queue.publish({}, { id: bad })],
      ['items[0].options.id', () => queue.publishMany([{ data: {}, options: { id: bad } }])],
      ['id', () => queue.retry(bad)],
      ['id', () => queue.waitFor(bad)],
      ['group', () => tusker.tasks(bad)],
      ['task', () => tasks.lock(bad, 'part')],
      ['part', () => tasks.lock('task', bad)],
      ['task', () => tasks.close(bad, {})],
      ['options.expectParts[1]', () => tasks.close('task', {}, { expectParts: ['a', bad] })],
      ['key', () => tusker.once(bad, handler)],
      ['key', () => tusker.paired(bad, handler)],
      ['options.group', () => tusker.once('ok', handler, { group: bad })],
    ]);
  });

  it('a surrogate pair (an emoji) is a well-formed name', () => {
    tusker.mutex('lock-😀');
    tusker.queue('😀');
  });
});

describe('enum-like arguments are looked up as own properties', async () => {
  const port = await freePort();
  const tusker = new Tusker({ connection: { port, host: '127.0.0.1', lazyConnect: true } });
  afterAll(() => tusker.close());

  it.each(['__proto__', 'toString', 'constructor', 'hasOwnProperty', 'nope'])('queue.list(%j)', async (state) => {
    await expectInvalidArguments([['state', () => tusker.queue('q').list(state as never)]]);
  });
});
