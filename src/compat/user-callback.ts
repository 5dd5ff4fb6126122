/**
 * How the classic APIs call their users' callbacks and listeners.
 *
 * The originals called them straight from a Redis reply, so an error thrown in one became an
 * uncaught exception: the process died with the error on stderr. Here the same callbacks run
 * inside promise chains and the primitives' progress hooks, where a throw would turn into a
 * rejection nobody sees, or a failed attempt with no trace. So every user callback goes through
 * `callBack`: a throw is raised again on a fresh tick, outside any promise, where Node treats it
 * as the uncaught exception the original would have caused (and `process.on('uncaughtException')`
 * sees it, as it did before).
 */

/** What a callback did: returned, or threw `error`. */
export type CallbackOutcome = { readonly threw: false } | { readonly threw: true; readonly error: unknown };

const RETURNED: CallbackOutcome = { threw: false };

/** Call `fn(...args)`; if it throws, the error surfaces as an uncaught exception on the next tick. */
export function callBack<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): CallbackOutcome {
  try {
    fn(...args);
    return RETURNED;
  } catch (error) {
    process.nextTick(() => {
      throw error;
    });
    return { threw: true, error };
  }
}

/** Like `callBack`, but later: for the callbacks the originals always called asynchronously. */
export function callBackSoon<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): void {
  setImmediate(() => callBack(fn, ...args));
}
