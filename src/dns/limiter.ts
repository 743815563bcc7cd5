/** At most `limit` tasks in flight (the node allows 8 concurrent lookups); waiting honours AbortSignal. */
export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency must be >= 1, got ${limit}`);
  }

  get inFlight(): number {
    return this.active;
  }

  /** Takes a slot when one is free (the caller must `release` it); false when all are taken. */
  tryAcquire(): boolean {
    if (this.active >= this.limit) return false;
    this.active++;
    return true;
  }

  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.active < this.limit && !signal?.aborted) {
      // fast path, no extra await: a free slot is taken at once
      this.active++;
      return this.runHeld(task);
    }
    return this.acquire(signal).then(() => this.runHeld(task));
  }

  private runHeld<T>(task: () => Promise<T>): Promise<T> {
    let p: Promise<T>;
    try {
      p = task();
    } catch (error) {
      this.release();
      return Promise.reject(error);
    }
    p.then(this.released, this.released);
    return p;
  }

  private readonly released = (): void => this.release();

  private acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const grant = (): void => {
        signal?.removeEventListener('abort', onAbort);
        this.active++;
        resolve();
      };
      const onAbort = (): void => {
        const i = this.waiting.indexOf(grant);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(grant);
    });
  }

  /** Gives back a slot taken by `tryAcquire`, to the longest waiting task if any. */
  release(): void {
    this.active--;
    const next = this.waiting.shift();
    if (next) next();
  }
}
