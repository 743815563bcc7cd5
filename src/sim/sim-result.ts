/**
 * A result that settles at an event of the simulation: a `PromiseLike` whose callbacks run
 * synchronously when it settles (or at once, when it already has), not in a microtask. The
 * simulated world returns these from the driver's actions, so the driver's reaction happens inside
 * the scheduler event that produced the result, in the order events run, and a synchronous
 * `Scheduler.run` needs no turn of the event loop.
 */
type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export class SimResult<T> implements PromiseLike<T> {
  private settled: Settled<T> | undefined;
  private readonly callbacks: Array<(s: Settled<T>) => void> = [];

  static resolved<T>(value: T): SimResult<T> {
    const r = new SimResult<T>();
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
    const next = new SimResult<R1 | R2>();
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

function adopt<R>(next: SimResult<R>, v: R | PromiseLike<R>): void {
  if (v && typeof (v as PromiseLike<R>).then === 'function')
    (v as PromiseLike<R>).then(
      (x) => next.resolve(x),
      (e) => next.reject(e),
    );
  else next.resolve(v as R);
}
