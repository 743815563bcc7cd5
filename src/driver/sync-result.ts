/**
 * A `PromiseLike` whose callbacks run synchronously when it settles (or at once, when it already
 * has), not in a microtask. The simulated world returns these from the driver's actions, so the
 * driver's reaction happens inside the scheduler event that produced the result, in the order
 * events run, and a synchronous `Scheduler.run` needs no turn of the event loop; the root-peer
 * provider combines lookups with it, so it settles as fast as its resolver does.
 */
type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** A `then` waiting for the result: its callbacks and the result it settles (data, not a closure). */
interface Reaction<T> {
  next: SyncResult<unknown>;
  onFulfilled: ((value: T) => unknown) | null | undefined;
  onRejected: ((reason: unknown) => unknown) | null | undefined;
}

export class SyncResult<T> implements PromiseLike<T> {
  private settled: Settled<T> | undefined;
  private readonly reactions: Array<Reaction<T>> = [];

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
    const rs = this.reactions.splice(0);
    for (const r of rs) react(s, r);
  }

  // biome-ignore lint/suspicious/noThenProperty: it is a PromiseLike on purpose (settles synchronously at events)
  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): PromiseLike<R1 | R2> {
    const next = new SyncResult<R1 | R2>();
    const r: Reaction<T> = { next: next as SyncResult<unknown>, onFulfilled, onRejected };
    if (this.settled) react(this.settled, r);
    else this.reactions.push(r);
    return next;
  }
}

/** Runs a `then`'s callback on the result and settles the `then`'s own result with what it returns. */
function react<T>(s: Settled<T>, r: Reaction<T>): void {
  const next = r.next;
  try {
    if (s.ok) {
      if (r.onFulfilled) adopt(next, r.onFulfilled(s.value));
      else next.resolve(s.value);
    } else if (r.onRejected) adopt(next, r.onRejected(s.error));
    else next.reject(s.error);
  } catch (e) {
    next.reject(e);
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
