/**
 * The event kernel of every simulation in spo: a clock in virtual time whose timers are events in
 * a binary heap ordered by (time, sequence), so runs are deterministic and ties run in the order
 * they were scheduled (the reference's IOSim, architecture.md §1.6). The governor's dry run, the
 * tests of the live components and `spo simulate` all run on it; it knows nothing of what its
 * events do.
 */
import type { Clock, Millis, Timer } from '../lib/clock.js';

/**
 * One scheduled event, and the timer that cancels it: the event is its own `Timer` (a method, not
 * a closure made per event: a one-day dry run schedules thousands of events).
 */
class SimEvent implements Timer {
  constructor(
    readonly at: Millis,
    readonly seq: number,
    public run: (() => void) | undefined,
  ) {}

  cancel(): void {
    this.run = undefined;
  }
}

export interface RunOptions {
  /** Run events up to and including this time, then stop with the clock at it. */
  until?: Millis;
  /** Stop after this many events (a guard against a run that never ends). */
  maxEvents?: number;
}

export class Scheduler implements Clock {
  private readonly heap: SimEvent[] = [];
  private seq = 0;
  private time: Millis;
  /** Events run so far. */
  eventCount = 0;

  constructor(start: Millis = 0) {
    this.time = start;
  }

  now(): Millis {
    return this.time;
  }

  /** Schedules `fn` at an absolute time (a time in the past runs at the current time). */
  at(time: Millis, fn: () => void): Timer {
    const e = new SimEvent(Math.max(time, this.time), this.seq++, fn);
    this.push(e);
    return e;
  }

  setTimer(delay: Millis, fn: () => void): Timer {
    return this.at(this.time + Math.max(0, delay), fn);
  }

  /**
   * Moves the clock forward to `time` without running anything (never backwards). A simulation that
   * stopped early (its node gave up) still reports the time it was asked to run to; events still
   * waiting would then run at the new time.
   */
  advance(time: Millis): void {
    if (time > this.time) this.time = time;
  }

  /** The time of the next live event, or undefined when none is left. */
  next(): Millis | undefined {
    this.dropCancelled();
    return this.heap[0]?.at;
  }

  /** Number of events waiting (cancelled ones included until they reach the top). */
  get pending(): number {
    return this.heap.length;
  }

  /**
   * Runs every event of the earliest instant, including those scheduled for that same instant while
   * it runs. Returns the instant, or undefined when nothing was left.
   */
  runInstant(): Millis | undefined {
    const t = this.next();
    if (t === undefined) return undefined;
    this.time = t;
    for (let e = this.heap[0]; e !== undefined && e.at === t; e = this.heap[0]) {
      this.pop();
      const fn = e.run;
      if (fn) {
        e.run = undefined;
        this.eventCount++;
        fn();
      }
    }
    return t;
  }

  /** Runs events in order until none is left, `until` is passed or `maxEvents` have run. */
  run(options: RunOptions = {}): void {
    const stopAt = this.eventCount + (options.maxEvents ?? Number.POSITIVE_INFINITY);
    for (;;) {
      const t = this.next();
      if (t === undefined || (options.until !== undefined && t > options.until) || this.eventCount >= stopAt) break;
      this.runInstant();
    }
    if (options.until !== undefined && this.time < options.until && this.eventCount < stopAt) this.time = options.until;
  }

  /**
   * As `run`, for code that awaits promises: after each instant, gives the promise jobs that the
   * instant's events started a few turns of the event loop to settle (they may schedule more
   * events at the same instant) before time moves on. A heuristic: a chain that needs more turns
   * than that (e.g. one waiting on real I/O) sees time move on under it.
   */
  async runAsync(options: RunOptions = {}): Promise<void> {
    const stopAt = this.eventCount + (options.maxEvents ?? Number.POSITIVE_INFINITY);
    await settle();
    for (;;) {
      const t = this.next();
      if (t === undefined || (options.until !== undefined && t > options.until) || this.eventCount >= stopAt) break;
      this.runInstant();
      await settle();
    }
    if (options.until !== undefined && this.time < options.until && this.eventCount < stopAt) this.time = options.until;
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && (this.heap[0] as SimEvent).run === undefined) this.pop();
  }

  private less(a: SimEvent, b: SimEvent): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(e: SimEvent): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as SimEvent;
      if (!this.less(e, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = e;
  }

  private pop(): SimEvent | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const m = r < h.length && this.less(h[r] as SimEvent, h[l] as SimEvent) ? r : l;
      if (!this.less(h[m] as SimEvent, last)) break;
      h[i] = h[m] as SimEvent;
      i = m;
    }
    h[i] = last;
    return top;
  }
}

/**
 * Lets pending promise jobs run: a macrotask turn drains the microtask queue, and a few turns let
 * chains that hop through I/O-free callbacks finish too.
 */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
}
