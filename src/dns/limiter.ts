interface Waiter {
  readonly signal: AbortSignal | undefined;
  grant(): void;
  abort(reason: Error): void;
}

/** At most `limit` tasks in flight (the node allows 8 concurrent lookups); waiting honours AbortSignal. */
export class Limiter {
  private active = 0;
  private waiting: Waiter[] = [];
  private readonly watched = new Map<AbortSignal, { count: number; onAbort: () => void }>();

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
      const waiter: Waiter = {
        signal,
        grant: () => {
          this.unwatch(waiter);
          this.active++;
          resolve();
        },
        abort: (reason) => reject(reason),
      };
      this.waiting.push(waiter);
      this.watch(waiter);
    });
  }

  /**
   * One abort listener per signal, however many tasks wait on it: a listener per waiting task
   * piled up on the command's one signal (MaxListenersExceededWarning with 9+ names).
   */
  private watch(waiter: Waiter): void {
    const { signal } = waiter;
    if (!signal) return;
    const watched = this.watched.get(signal);
    if (watched) {
      watched.count++;
      return;
    }
    const onAbort = (): void => {
      this.watched.delete(signal);
      const reason = signal.reason instanceof Error ? signal.reason : new Error('aborted');
      const dropped = this.waiting.filter((w) => w.signal === signal);
      this.waiting = this.waiting.filter((w) => w.signal !== signal);
      for (const w of dropped) w.abort(reason);
    };
    this.watched.set(signal, { count: 1, onAbort });
    signal.addEventListener('abort', onAbort, { once: true });
  }

  private unwatch(waiter: Waiter): void {
    const { signal } = waiter;
    if (!signal) return;
    const watched = this.watched.get(signal);
    if (!watched) return;
    if (--watched.count > 0) return;
    this.watched.delete(signal);
    signal.removeEventListener('abort', watched.onAbort);
  }

  /** Gives back a slot taken by `tryAcquire`, to the longest waiting task if any. */
  release(): void {
    this.active--;
    const next = this.waiting.shift();
    if (next) next.grant();
  }
}
