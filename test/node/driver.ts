/**
 * A minimal shell for unit tests of the composed node core: feeds events, runs the timers it asks
 * for on a virtual-time `Scheduler`, records traces and checks the counters after every step.
 */
import { createRng } from '../../src/governor/rng.js';
import type { Timer } from '../../src/lib/clock.js';
import {
  type AcquireResult,
  type CmAction,
  type CmConfig,
  type CmTrace,
  deriveCmCounters,
} from '../../src/node/connection-manager/core.js';
import { deriveIgCounters, type IgTrace } from '../../src/node/inbound-governor/core.js';
import { initialNodeState, type NodeEvent, type NodeState, nodeStep } from '../../src/node/node-core.js';
import { Scheduler } from '../../src/sim/scheduler.js';

export class Driver {
  readonly sched = new Scheduler(0);
  readonly state: NodeState;
  readonly cmTrace: CmTrace[] = [];
  readonly igTrace: IgTrace[] = [];
  readonly actions: CmAction[] = [];
  readonly answers = new Map<number, AcquireResult>();
  readonly counterErrors: string[] = [];
  private readonly timers = new Map<string, Timer>();

  constructor(config: CmConfig, seed = 1) {
    this.state = initialNodeState(config, createRng(seed));
  }

  step(event: NodeEvent): ReturnType<typeof nodeStep> {
    const r = nodeStep(this.state, event, this.sched.now());
    this.cmTrace.push(...r.cmTrace);
    this.igTrace.push(...r.igTrace);
    if (JSON.stringify(deriveCmCounters(this.state.cm)) !== JSON.stringify(this.state.cm.counters))
      this.counterErrors.push(`cm counters at ${this.sched.now()}`);
    if (JSON.stringify(deriveIgCounters(this.state.ig)) !== JSON.stringify(this.state.ig.counters))
      this.counterErrors.push(`ig counters at ${this.sched.now()}`);
    for (const a of r.actions) {
      if (a.type === 'armTimer') {
        const key = `${a.conn}/${a.timer}`;
        this.timers.get(key)?.cancel();
        this.timers.set(
          key,
          this.sched.at(a.at, () => this.step({ type: 'timer', conn: a.conn, timer: a.timer })),
        );
      } else if (a.type === 'cancelTimer') {
        this.timers.get(`${a.conn}/${a.timer}`)?.cancel();
      } else if (a.type === 'armWakeup') {
        this.sched.at(a.at, () => this.step({ type: 'wakeup' }));
      } else {
        this.actions.push(a);
        if (a.type === 'acquireDone') this.answers.set(a.req, a.result);
      }
    }
    return r;
  }

  /** Runs `fn` at virtual time `at`. */
  at(at: number, fn: () => void): void {
    this.sched.at(at, fn);
  }

  run(until?: number): void {
    this.sched.run(until === undefined ? { maxEvents: 100_000 } : { until, maxEvents: 100_000 });
  }

  /** Transitions as `from>to` strings, for one connection or all. */
  transitions(conn?: number): string[] {
    return this.cmTrace.flatMap((t) =>
      t.type === 'transition' && (conn === undefined || t.conn === conn) ? [`${t.from}>${t.to}`] : [],
    );
  }

  remote(conn?: number): string[] {
    return this.igTrace.flatMap((t) =>
      t.type === 'remoteTransition' && (conn === undefined || t.conn === conn) ? [`${t.from}>${t.to}`] : [],
    );
  }

  /** The last action of a type. */
  last<T extends CmAction['type']>(type: T): Extract<CmAction, { type: T }> {
    const a = [...this.actions].reverse().find((x) => x.type === type);
    if (!a) throw new Error(`no ${type} action`);
    return a as Extract<CmAction, { type: T }>;
  }

  /** Brings an inbound connection from `peer` to InboundIdle with `dataFlow`; returns its id. */
  inbound(peer: string, sock: string, dataFlow: 'duplex' | 'unidirectional' = 'duplex'): number {
    const r = this.step({ type: 'accepted', peer, sock });
    if (!r.result || typeof r.result !== 'object' || r.result.kind !== 'included') throw new Error('not included');
    const conn = r.result.conn;
    this.step({ type: 'handshakeDone', conn, sock, dataFlow });
    return conn;
  }

  /** Dials `peer` through to a negotiated outbound connection; returns its id. */
  outbound(peer: string, dataFlow: 'duplex' | 'unidirectional' = 'duplex'): number {
    this.step({ type: 'acquireOutbound', peer });
    const c = this.last('connect');
    this.step({ type: 'connected', conn: c.conn, sock: c.sock });
    this.step({ type: 'handshakeDone', conn: c.conn, sock: c.sock, dataFlow });
    return c.conn;
  }
}
