/**
 * The probe scheduler: relays in, one result per (relay, address) out, as a stream.
 *
 * - Bounded concurrency: at most `concurrency` attempts in flight; targets are pulled from the
 *   input only when there is room, so memory does not grow with the registry (the caller decides
 *   what to keep of the stream).
 * - A watchdog per attempt: whatever the stage function does, an attempt ends at the sum of its
 *   stage timeouts plus a margin, reported as a timeout of the stage it was in.
 * - Shared endpoints (the same address:port behind several relays or pools) are probed once and
 *   reported for each relay that names them.
 * - Timeouts are held back and, when the run shows signs of local congestion (or always, as asked),
 *   retried at a lower concurrency before being reported: a busy local network must not turn into
 *   false failures.
 */
import { setMaxListeners } from 'node:events';
import { formatEndpoint } from '../lib/address.js';
import { InterruptedError } from '../lib/errors.js';
import { round3 } from '../lib/round.js';
import { resolvedAddressFlag } from '../registry/hygiene.js';
import {
  type AttemptOutcome,
  type FailureCode,
  type ProbeAddressResult,
  type ProbeEndpoint,
  type ProbeRelay,
  type ProbeStage,
  type ProbeTarget,
  TIMEOUT_CODES,
} from './model.js';
import { classifyError } from './status.js';

/** What a stage function learns about its attempt; `stage()` says which stage it has reached. */
export interface AttemptContext {
  signal: AbortSignal;
  stage(stage: ProbeStage): void;
}

/** Probes one endpoint: connect, handshake, keep-alive, tip; returns (never throws for a peer's fault). */
export type StageFunction = (endpoint: ProbeEndpoint, ctx: AttemptContext) => Promise<AttemptOutcome>;

/** Resolves a relay to its endpoints; throws a DnsError (or any SpoError) when it cannot. */
export type ResolveFunction = (relay: ProbeRelay, signal: AbortSignal) => Promise<ProbeEndpoint[]>;

export type RetryPolicy = 'auto' | 'always' | 'never';

export interface ScheduleOptions {
  resolve: ResolveFunction;
  attempt: StageFunction;
  /** Attempts in flight at once. */
  concurrency: number;
  /** Name resolutions in flight at once (the DNS client has its own, lower limit). Default 64. */
  resolveConcurrency?: number;
  /** The longest one attempt may take before the watchdog ends it (sum of its stage timeouts). */
  attemptDeadlineMs: number;
  /** The per-stage timeout (for the congestion signal: a success slower than half of it). */
  stageTimeoutMs: number;
  retry?: RetryPolicy;
  /** Concurrency of the retry pass; default concurrency / 8 (at least 1). */
  retryConcurrency?: number;
  signal?: AbortSignal | undefined;
  onProgress?: (p: ScheduleProgress) => void;
}

export interface ScheduleProgress {
  phase: 'probe' | 'retry';
  relays: number;
  endpoints: number;
  done: number;
  ok: number;
  failed: number;
  inFlight: number;
  retrying: number;
}

const TIMEOUT_OF_STAGE: Record<ProbeStage, FailureCode> = {
  resolve: 'DNS_TIMEOUT',
  connect: 'CONNECT_TIMEOUT',
  handshake: 'HANDSHAKE_TIMEOUT',
  keepalive: 'KEEPALIVE_TIMEOUT',
  tip: 'CHAINSYNC_TIMEOUT',
};

/** Wakes whoever waits for "something changed" (a slot freed, a target finished). */
class Notifier {
  private waiters: Array<() => void> = [];
  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  notify(): void {
    if (this.waiters.length === 0) return;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/** A counting semaphore with a FIFO queue. */
class Slots {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(
    private limit: number,
    private readonly changed?: Notifier,
  ) {}
  get inUse(): number {
    return this.active;
  }
  get queued(): number {
    return this.waiting.length;
  }
  async acquire(): Promise<void> {
    if (this.active < this.limit) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
    this.changed?.notify();
  }
}

/** An unbounded single-consumer queue with a wake-up for the consumer and for a waiting producer. */
class ResultQueue<T> {
  private items: T[] = [];
  private head = 0;
  private wake: (() => void) | undefined;
  private drained: Array<() => void> = [];
  closed = false;
  get length(): number {
    return this.items.length - this.head;
  }
  push(item: T): void {
    this.items.push(item);
    this.wake?.();
  }
  close(): void {
    this.closed = true;
    this.wake?.();
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++] as T;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (this.length === 0) for (const d of this.drained.splice(0)) d();
    return item;
  }
  waitForItem(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        resolve();
      };
    });
  }
  waitUntilBelow(n: number): Promise<void> {
    if (this.length < n) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }
}

interface Held {
  key: string;
  endpoint: ProbeEndpoint;
  results: ProbeAddressResult[];
}

const MAX_QUEUED_RESULTS = 10_000;

/** Median of a short list (the keep-alive samples of one address). */
function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** A time for output: three decimals, as every figure in --json (src/lib/round.ts). */
const ms = round3;

/**
 * An outcome with its keep-alive samples reduced to median/min/max/count: what the scheduler keeps
 * (for shared endpoints and retries), so no per-sample array outlives its attempt.
 */
export type ReducedOutcome = Omit<AttemptOutcome, 'rttSamplesMs'> & {
  rtt?: { medianMs: number; minMs: number; maxMs: number; count: number };
};

export function reduceOutcome(o: AttemptOutcome): ReducedOutcome {
  const { rttSamplesMs: samples, ...rest } = o;
  if (!samples || samples.length === 0) return rest;
  return {
    ...rest,
    rtt: { medianMs: median(samples), minMs: Math.min(...samples), maxMs: Math.max(...samples), count: samples.length },
  };
}

/** The per-address result of an outcome, for one target. */
export function toAddressResult(
  target: ProbeTarget,
  endpoint: ProbeEndpoint | undefined,
  outcome: ReducedOutcome,
  attempts: number,
): ProbeAddressResult {
  const r: ProbeAddressResult = {
    pool: target.pool,
    relay: target.relay.host,
    relayKind: target.relay.kind,
    address: endpoint?.address ?? target.relay.host,
    port: endpoint?.port ?? target.relay.port ?? null,
    status: outcome.status,
    attempts,
  };
  if (target.ticker !== undefined) r.ticker = target.ticker;
  if (endpoint) r.family = endpoint.family;
  if (endpoint?.srvTarget !== undefined) r.srvTarget = endpoint.srvTarget;
  if (outcome.stage !== undefined) r.stage = outcome.stage;
  if (outcome.message !== undefined && outcome.status !== 'ok') r.message = outcome.message;
  if (outcome.connectMs !== undefined) r.connectMs = ms(outcome.connectMs);
  if (outcome.handshakeMs !== undefined) r.handshakeMs = ms(outcome.handshakeMs);
  if (outcome.rtt) {
    r.rttMs = ms(outcome.rtt.medianMs);
    r.rttMinMs = ms(outcome.rtt.minMs);
    r.rttMaxMs = ms(outcome.rtt.maxMs);
    r.samples = outcome.rtt.count;
  }
  if (outcome.version !== undefined) r.version = outcome.version;
  // Only the documented fields: src/net's tip carries its own timing, reported here as tipMs.
  if (outcome.tip !== undefined)
    r.tip = { slot: outcome.tip.slot, blockNo: outcome.tip.blockNo, hash: outcome.tip.hash };
  if (outcome.tipMs !== undefined) r.tipMs = ms(outcome.tipMs);
  return r;
}

/**
 * Runs one attempt under a watchdog: the stage function gets a signal that fires at the deadline
 * (or when the run is cancelled), and the attempt is reported as a timeout of the stage it was in
 * even if the stage function does not return promptly.
 */
export async function runAttempt(
  attempt: StageFunction,
  endpoint: ProbeEndpoint,
  deadlineMs: number,
  outer: AbortSignal | undefined,
  /** When given, the caller aborts these controllers itself (cheaper than one listener per attempt). */
  active?: Set<AbortController>,
): Promise<AttemptOutcome> {
  const controller = new AbortController();
  let stage: ProbeStage = 'connect';
  let timer: NodeJS.Timeout | undefined;
  const onOuter = (): void => controller.abort(outer?.reason);
  if (active) active.add(controller);
  else outer?.addEventListener('abort', onOuter, { once: true });
  if (outer?.aborted) controller.abort(outer.reason);
  const watchdog = new Promise<AttemptOutcome>((resolve) => {
    timer = setTimeout(() => {
      const status = TIMEOUT_OF_STAGE[stage];
      controller.abort(new Error(`${stage} timed out`));
      resolve({
        status,
        stage,
        message: `${formatEndpoint({ host: endpoint.address, port: endpoint.port })}: no answer in the ${stage} stage within the deadline`,
      });
    }, deadlineMs);
  });
  const ctx: AttemptContext = {
    signal: controller.signal,
    stage: (s) => {
      stage = s;
    },
  };
  const work = attempt(endpoint, ctx).catch((error: unknown): AttemptOutcome => {
    const c = classifyError(error, 'ERROR');
    return { status: c.status, stage: c.stage ?? stage, message: c.message };
  });
  try {
    return await Promise.race([work, watchdog]);
  } finally {
    clearTimeout(timer);
    if (active) active.delete(controller);
    else outer?.removeEventListener('abort', onOuter);
  }
}

/**
 * Probes every target and yields one result per (relay, address), in completion order.
 * Cancelling `signal` stops pulling targets and aborts the attempts in flight (the iterator then throws).
 */
export async function* probeEndpoints(
  targets: Iterable<ProbeTarget> | AsyncIterable<ProbeTarget>,
  options: ScheduleOptions,
): AsyncGenerator<ProbeAddressResult> {
  // Our own controller: cancelled by the caller's signal, and by the consumer leaving early.
  const internal = new AbortController();
  const outer = options.signal;
  const onOuterAbort = (): void => internal.abort(outer?.reason);
  if (outer?.aborted) internal.abort(outer.reason);
  else outer?.addEventListener('abort', onOuterAbort, { once: true });
  const signal = internal.signal;
  setMaxListeners(0, signal);
  // Attempts in flight, aborted together on cancel (one listener, not one per attempt).
  const active = new Set<AbortController>();
  signal.addEventListener('abort', () => {
    for (const c of active) c.abort(signal.reason);
  });
  const concurrency = Math.max(1, Math.floor(options.concurrency));
  const changed = new Notifier();
  const resolveLimit = Math.max(1, options.resolveConcurrency ?? 64);
  const attemptSlots = new Slots(concurrency, changed);
  const resolveSlots = new Slots(resolveLimit, changed);
  const queue = new ResultQueue<ProbeAddressResult>();
  const firstPass = new Map<string, Promise<ReducedOutcome>>();
  const held = new Map<string, Held>();
  const progress: ScheduleProgress = {
    phase: 'probe',
    relays: 0,
    endpoints: 0,
    done: 0,
    ok: 0,
    failed: 0,
    inFlight: 0,
    retrying: 0,
  };
  let attemptsMade = 0;
  let timeouts = 0;
  let congestion = false;
  const report = (): void => options.onProgress?.({ ...progress, inFlight: attemptSlots.inUse });
  const emit = (r: ProbeAddressResult): void => {
    progress.done++;
    if (r.status === 'ok') progress.ok++;
    else progress.failed++;
    queue.push(r);
  };
  // Our own event loop stalling (CPU starvation) makes timers fire before answers are read: a stall
  // longer than half a stage timeout is a congestion sign too.
  let lastTick = performance.now();
  const stallWatch = setInterval(() => {
    const now = performance.now();
    if (now - lastTick - 100 > options.stageTimeoutMs / 2) congestion = true;
    lastTick = now;
  }, 100);
  stallWatch.unref();
  const noteCongestion = (o: AttemptOutcome): void => {
    attemptsMade++;
    if (o.status === 'LOCAL_RESOURCES') congestion = true;
    if (TIMEOUT_CODES.has(o.status)) timeouts++;
    const half = options.stageTimeoutMs / 2;
    if (o.status === 'ok') {
      const slowest = Math.max(o.connectMs ?? 0, o.handshakeMs ?? 0, ...(o.rttSamplesMs ?? []));
      if (slowest > half) congestion = true;
    }
  };

  const probeOne = async (endpoint: ProbeEndpoint): Promise<ReducedOutcome> => {
    await attemptSlots.acquire();
    try {
      if (signal.aborted) throw signal.reason;
      const o = await runAttempt(options.attempt, endpoint, options.attemptDeadlineMs, signal, active);
      // An attempt that passed every stage before the interruption is a result (only its goodbye
      // was cut short); any other outcome may be the interruption's doing and is dropped.
      if (signal.aborted && o.status !== 'ok') throw signal.reason;
      noteCongestion(o);
      return reduceOutcome(o);
    } finally {
      attemptSlots.release();
      report();
    }
  };

  const processTarget = async (target: ProbeTarget): Promise<void> => {
    progress.relays++;
    if (target.skip !== undefined) {
      emit(
        toAddressResult(
          target,
          undefined,
          { status: 'UNUSABLE_ADDRESS', stage: 'resolve', message: `${target.relay.host}: ${target.skip}` },
          0,
        ),
      );
      return;
    }
    let endpoints: ProbeEndpoint[];
    await resolveSlots.acquire();
    try {
      endpoints = await options.resolve(target.relay, signal);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      const c = classifyError(error, 'DNS_ERROR');
      emit(toAddressResult(target, undefined, { status: c.status, stage: 'resolve', message: c.message }, 1));
      return;
    } finally {
      resolveSlots.release();
    }
    if (endpoints.length === 0) {
      emit(
        toAddressResult(
          target,
          undefined,
          {
            status: 'DNS_NO_DATA',
            stage: 'resolve',
            message: `${target.relay.host}: no address of the family asked for`,
          },
          1,
        ),
      );
      return;
    }
    await Promise.all(
      endpoints.map(async (endpoint) => {
        const unusable = target.publicOnly ? resolvedAddressFlag(endpoint.address) : undefined;
        if (unusable !== undefined) {
          const message = `${target.relay.host} resolves to ${endpoint.address}, not usable as a public peer (${unusable}): not probed (--include-unusable probes it)`;
          emit(toAddressResult(target, endpoint, { status: 'UNUSABLE_ADDRESS', stage: 'resolve', message }, 0));
          return;
        }
        const key = `${endpoint.address}|${endpoint.port}`;
        let pending = firstPass.get(key);
        const shared = pending !== undefined;
        if (!pending) {
          progress.endpoints++;
          pending = probeOne(endpoint);
          firstPass.set(key, pending);
        }
        const outcome = await pending;
        const result = toAddressResult(target, endpoint, outcome, 1);
        if (shared) result.shared = true;
        if (TIMEOUT_CODES.has(outcome.status)) {
          const h = held.get(key) ?? { key, endpoint, results: [] };
          h.results.push(result);
          held.set(key, h);
          return;
        }
        emit(result);
      }),
    );
  };

  // The producer: pulls targets only while there is room, so a huge registry is never all in flight.
  const inFlight = new Set<Promise<void>>();
  let producerError: unknown;
  const producer = (async () => {
    try {
      for await (const target of targets) {
        if (signal.aborted) break;
        // Room means: not too many names waiting for the resolver, not too many endpoints waiting for
        // a slot, not too many targets open. Waiting is on any change, never on a whole attempt.
        while (
          resolveSlots.queued >= resolveLimit ||
          attemptSlots.queued >= concurrency ||
          inFlight.size >= concurrency + resolveLimit
        ) {
          await changed.wait();
        }
        await queue.waitUntilBelow(MAX_QUEUED_RESULTS);
        const p = processTarget(target).catch((error: unknown) => {
          producerError ??= error;
        });
        inFlight.add(p);
        void p.finally(() => {
          inFlight.delete(p);
          changed.notify();
        });
      }
      await Promise.all(inFlight);
      if (signal.aborted) return;
      const retry = options.retry ?? 'auto';
      const crowded = attemptsMade > 0 && timeouts / attemptsMade > 0.5;
      const doRetry = held.size > 0 && (retry === 'always' || (retry === 'auto' && (congestion || crowded)));
      if (doRetry) {
        progress.phase = 'retry';
        progress.retrying = held.size;
        report();
        const slots = new Slots(Math.max(1, options.retryConcurrency ?? Math.ceil(concurrency / 8)));
        await Promise.all(
          [...held.values()].map(async (h) => {
            await slots.acquire();
            try {
              if (signal.aborted) return;
              const o = await runAttempt(options.attempt, h.endpoint, options.attemptDeadlineMs, signal, active);
              if (signal.aborted) return;
              for (const r of h.results) {
                const target: ProbeTarget = {
                  pool: r.pool,
                  ticker: r.ticker,
                  relay: { kind: r.relayKind, host: r.relay, port: r.port ?? undefined },
                };
                const again = toAddressResult(target, h.endpoint, reduceOutcome(o), 2);
                if (r.shared) again.shared = true;
                emit(again);
              }
            } finally {
              slots.release();
              progress.retrying--;
              report();
            }
          }),
        );
      } else {
        for (const h of held.values()) for (const r of h.results) emit(r);
      }
      held.clear();
    } catch (error) {
      producerError ??= error;
    } finally {
      clearInterval(stallWatch);
      queue.close();
    }
  })();

  try {
    for (;;) {
      const item = queue.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (queue.closed) break;
      await queue.waitForItem();
    }
    await producer;
    if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new InterruptedError();
    if (producerError !== undefined) throw producerError;
  } finally {
    outer?.removeEventListener('abort', onOuterAbort);
    // The consumer stopped early (break or error): abort the attempts in flight and the producer.
    if (!queue.closed) internal.abort(new InterruptedError());
  }
}
