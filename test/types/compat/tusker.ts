// The Tusker README's patterns under `strict`, through the main entry as `require('tusker')` gives
// it. Compiled, never run. Against the package, the import is `import * as tusker from 'tusker'`.
import * as tusker from '../../../src/index';
import { expectType, type Equal } from './expect';

export function encodingChunks(): void {
  const taskManager = tusker.initialize();
  const lockname = '' + Math.random();
  taskManager.lock('the-task', lockname);
  taskManager.unlock('the-task', lockname);
}

export function closingTheStream(): void {
  const taskManager = tusker.initialize();
  const info = { some_data: 10 };
  const options = {};
  taskManager.close('the-task', info, options);
  taskManager.close('the-task', info, { attempts: 3, timeout: 60_000 });
  taskManager.close('the-task', info, (err) => void err);
}

export function receivingReleasedTasks(): void {
  const taskManager = tusker.initialize();
  taskManager.fetchReleased(function (err, taskName, info, completed) {
    expectType<Equal<typeof taskName, string>>();
    // the README's lines are `var err = null; completed(err);`: redeclaring the parameter `err`
    // with `var` is TS2403 in any typed code, so the fixture names it differently
    const error = null;
    completed(error);
    completed(new Error('merge failed'));
    completed();
    completed(null, (recorded) => void recorded);
    completed((recorded) => void recorded);
  });
  taskManager.fetchReleased<{ some_data: number }>((err, taskName, info, completed) => {
    expectType<Equal<typeof info.some_data, number>>();
    completed(err);
  });
}

export function timeoutsAndStats(): void {
  const taskManager = tusker.initialize({ redis: 'redis://127.0.0.1:6380', prefix: 'app', group: 'encode' });
  taskManager.timeoutLocks(60 * 1000, function (err) {
    expectType<Equal<typeof err, Error | null>>();
  });
  taskManager.timeoutProcessing(function (err) {
    void err;
  });
  taskManager.stats(function (err, stats) {
    expectType<Equal<typeof stats, tusker.ClassicStats>>();
  });
}

export async function exactReturnTypes(manager: tusker.TaskManager): Promise<void> {
  const callbackForm = manager.lock('t', 'l', () => undefined);
  expectType<Equal<typeof callbackForm, void>>();
  const pending = manager.stats();
  expectType<Equal<typeof pending, Promise<tusker.ClassicStats>>>();
  const stats = await pending;
  expectType<Equal<typeof stats.completed, number>>();
  const closed = manager.close('t', {});
  expectType<Equal<typeof closed, Promise<void>>>();
  const quit = manager.quit(() => undefined);
  expectType<Equal<typeof quit, void>>();
  expectType<Equal<ReturnType<typeof tusker.initialize>, tusker.TaskManager>>();
}
