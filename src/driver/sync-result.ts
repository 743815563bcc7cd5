/**
 * A `PromiseLike` whose callbacks run synchronously when it settles (or at once, when it already
 * has), not in a microtask. The simulated world returns these from the driver's actions, so the
 * driver's reaction happens inside the scheduler event that produced the result, in the order
 * events run, and a synchronous `Scheduler.run` needs no turn of the event loop; the root-peer
 * provider combines lookups with it, so it settles as fast as its resolver does.
 */
type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export class SyncResult<T> implements PromiseLike<T> {
  private settled: Settled<T> | undefined;
  private readonly callbacks: Array<(s: Settled<T>) => void> = [];

  /** Settles when every input has: the values in order, undefined for a rejected input. */
  static all<T>(inputs: ReadonlyArray<PromiseLike<T>>): SyncResult<Array<T | undefined>> {
    const out = new SyncResult<Array<T | undefined>>();
    const values: Array<T | undefined> = new Array(inputs.length);
    let left = inputs.length;
    if (left === 0) out.resolve(values);
    inputs.forEach((p, i) => {
      p.then(
        (v) => {
          values[i] = v;
          if (--left === 0) out.resolve(values);
        },
        () => {
          if (--left === 0) out.resolve(values);
        },
      );
    });
    return out;
  }

  static resolved<T>(value: T): SyncResult<T> {
    const r = new SyncResult<T>();
    r.resolve(value);
    return r;
  }

  resolve(value: T): void {
    this.settle({ ok: true, value });
  }

  reject(error: unknown): void {
    this.settle({ ok: false, error });
  }

  private settle(s: Settled<T>): void {
    if (this.settled) return;
    this.settled = s;
    const cbs = this.callbacks.splice(0);
    for (const cb of cbs) cb(s);
  }

  // biome-ignore lint/suspicious/noThenProperty: it is a PromiseLike on purpose (settles synchronously at events)
  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): PromiseLike<R1 | R2> {
    const next = new SyncResult<R1 | R2>();
    const run = (s: Settled<T>) => {
      try {
        if (s.ok) {
          if (onFulfilled) adopt(next, onFulfilled(s.value));
          else next.resolve(s.value as unknown as R1);
        } else if (onRejected) adopt(next, onRejected(s.error));
        else next.reject(s.error);
      } catch (e) {
        next.reject(e);
      }
    };
    if (this.settled) run(this.settled);
    else this.callbacks.push(run);
    return next;
  }
}

function adopt<R>(next: SyncResult<R>, v: R | PromiseLike<R>): void {
  if (v && typeof (v as PromiseLike<R>).then === 'function')
    (v as PromiseLike<R>).then(
      (x) => next.resolve(x),
      (e) => next.reject(e),
    );
  else next.resolve(v as R);
}
