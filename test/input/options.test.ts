import { afterAll, describe, expect, it } from 'vitest';
import { Tusker } from '../../src/index';
import { expectInvalidArgument } from '../support/invalid';
import { freePort } from '../support/redis-server';

/**
 * An unknown key in one of Tusker's option objects is a typo that would otherwise fall back to a
 * default without a word (`tll: 5` → a 10 s lease). It is refused before any Redis call: this
 * instance points at a port nobody listens on, so reaching Redis would fail with ConnectionError.
 */
describe('unknown option keys', async () => {
  const port = await freePort();
  const tusker = new Tusker({ connection: { port, host: '127.0.0.1', lazyConnect: true } });
  afterAll(() => tusker.close());

  const refused = async (argument: string, suggestion: string | undefined, run: () => unknown) => {
    const error = await expectInvalidArgument(argument, run);
    if (suggestion) expect(error.message, argument).toContain(`did you mean '${suggestion}'?`);
    else expect(error.message, argument).not.toContain('did you mean');
  };
  const handler = () => undefined;

  it('names the key and the closest valid one', async () => {
    await refused('options.laese', 'lease', () => tusker.mutex('a', { laese: 5 } as never));
    await refused('options.connectoin', 'connection', () => new Tusker({ connectoin: 'redis://127.0.0.1:1' } as never));
    await refused('options.wiat', 'wait', () => tusker.mutex('a').acquire({ wiat: 5 } as never));
    await refused('options.sginal', 'signal', () => tusker.withLock('a', handler, { sginal: 5 } as never));
    await refused('options.keepFinised', 'keepFinished', () => tusker.queue('q', { keepFinised: 5 } as never));
    await refused('options.priorty', 'priority', () => tusker.queue('q').publish({}, { priorty: 1 } as never));
    await refused('items[0].options.dealy', 'delay', () => tusker.queue('q').publishMany([{ data: {}, options: { dealy: 1 } as never }]));
    await refused('options.backoff.factr', 'factor', () => tusker.queue('q').publish({}, { backoff: { delay: 1, factr: 2 } } as never));
    await refused('options.leese', 'lease', () => tusker.queue('q').claim({ leese: 1 } as never));
    await refused('options.concurency', 'concurrency', () => tusker.queue('q').process(handler, { concurency: 2 } as never));
    await refused('options.limt', 'limit', () => tusker.queue('q').list('available', { limt: 2 } as never));
    await refused('options.wiat', 'wait', () => tusker.queue('q').waitFor('id', { wiat: 2 } as never));
    await refused('options.wiat', 'wait', () => tusker.queue('q').claim({ wiat: 2 } as never));
    await refused('options.wiat', 'wait', () => tusker.queue('q').close({ wiat: 2 } as never));
    await refused('options.partLeese', 'partLease', () => tusker.tasks('g', { partLeese: 5 } as never));
    await refused('options.leas', 'lease', () => tusker.tasks('g').lock('t', 'p', { leas: 5 } as never));
    await refused('options.expectedParts', 'expectParts', () => tusker.tasks('g').closeTask('t', {}, { expectedParts: 2 } as never));
    await refused('options.wiat', 'wait', () => tusker.tasks('g').close({ wiat: 2 } as never));
    await refused('options.stoptimeout', 'stopTimeout', () => tusker.tasks('g').process(handler, { stoptimeout: 2 } as never));
    await refused('options.atempts', 'attempts', () => tusker.once('k', handler, { atempts: 2 } as never));
    await refused('options.leaes', 'lease', () => tusker.paired('k', handler, { leaes: 2 } as never));
  });

  it('suggests nothing for a key unlike any option, and refuses once-only options on paired', async () => {
    await refused('options.colour', undefined, () => tusker.mutex('a', { colour: 'red' } as never));
    await refused('options.maxAttempts', undefined, () => tusker.paired('k', handler, { maxAttempts: 2 } as never));
    await refused('options.attempts', undefined, () => tusker.paired('k', handler, { attempts: 2 } as never));
  });

  it('still accepts every documented option', () => {
    expect(tusker.mutex('a', { lease: 5, group: 'g', autoExtend: false }).lease).toBe(5);
    expect(() => tusker.queue('q', { maxDataBytes: 10, keepFinished: 1, keepFailed: 1, keepFinishedFor: 1, keepFailedFor: 1, maxStalls: 1 })).not.toThrow();
    expect(() => tusker.tasks('g', { maxInfoBytes: 10, partLease: 5, retention: 5, idleRetention: 5 })).not.toThrow();
  });
});
