/**
 * Coalesces calls made in the same tick into one batch: `add` queues an item and the batch runs
 * when the tick ends (after the promise callbacks already queued), so a burst of calls — the
 * workers of a processor finishing together, a loop of publishes — costs one script call instead
 * of one each. A lone call waits for nothing: its batch of one leaves in the same tick.
 *
 * Calls that must stay in order with the batched ones `flush()` first.
 *
 * Each item keeps its own outcome: `run` answers one entry per item, in order, and an entry that
 * is a `BatchItemError` rejects that item alone. When `run` itself rejects (a connection error),
 * every item of the batch rejects with that error.
 */

/** An outcome of `run` that fails one item only. */
export class BatchItemError {
  constructor(readonly error: unknown) {}
}

export class Batcher<I, R> {
  readonly #run: (items: I[]) => Promise<(R | BatchItemError)[]>;
  readonly #maxBatch: number;
  #items: I[] = [];
  #settlers: { resolve(value: R): void; reject(error: unknown): void }[] = [];
  #scheduled = false;

  /** `run` sends one batch of at most `maxBatch` items. */
  constructor(run: (items: I[]) => Promise<(R | BatchItemError)[]>, maxBatch: number) {
    this.#run = run;
    this.#maxBatch = maxBatch;
  }

  add(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#items.push(item);
      this.#settlers.push({ resolve, reject });
      if (this.#items.length >= this.#maxBatch) this.#flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        // nextTick queued from a promise callback runs once the whole microtask queue is done
        process.nextTick(() => {
          this.#scheduled = false;
          this.#flush();
        });
      }
    });
  }

  /** Send what is queued now, without waiting for the tick to end (to keep calls in order). */
  flush(): void {
    this.#flush();
  }

  #flush(): void {
    if (this.#items.length === 0) return;
    const items = this.#items;
    const settlers = this.#settlers;
    this.#items = [];
    this.#settlers = [];
    let sent: Promise<(R | BatchItemError)[]>;
    try {
      sent = this.#run(items);
    } catch (error) {
      sent = Promise.reject(error);
    }
    sent.then(
      (outcomes) => {
        settlers.forEach((s, i) => {
          const outcome = outcomes[i];
          if (outcome instanceof BatchItemError) s.reject(outcome.error);
          else s.resolve(outcome as R);
        });
      },
      (error: unknown) => {
        for (const s of settlers) s.reject(error);
      },
    );
  }
}
