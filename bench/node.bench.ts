/**
 * Node cores benchmark (issue 12): connection-manager operations per second in the pure core,
 * driven through the composed node step (connection manager + inbound governor) exactly as a shell
 * would drive it.
 *
 * One outbound cycle = 6 events: acquireOutbound, connected, handshakeDone (duplex; the inbound
 * governor is told), releaseOutbound (the remote's idle timer still runs: InboundIdle), the inbound
 * idle timer (commit: TIME_WAIT, socket reset) and the time-wait timer (Terminated, entry removed).
 * One inbound cycle = 7 events: accepted, handshakeDone, a responder starting and ending (remote
 * warm, then idle), the idle timer (commit) and the time-wait timer.
 *
 * Baseline: the same cycles on an otherwise empty connection manager; measured: with 500 other
 * connections held (a loaded relay just under the 512 hard limit). The ratio shows whether the
 * cost per operation depends on how many connections the manager holds (it should not).
 *
 * The shell's cost per accepted connection against a bare `net.Server` accept loop comes with the
 * shell (next session); this module measures the pure core only.
 */
import { createRng } from '../src/governor/rng.js';
import { defaultCmConfig } from '../src/node/connection-manager/core.js';
import { initialNodeState, type NodeState, nodeStep } from '../src/node/node-core.js';
import type { BenchResult } from './run.js';

const ME = '10.0.0.1:3001';

function setup(held: number): { s: NodeState; now: () => number } {
  const s = initialNodeState(defaultCmConfig(ME, 512), createRng(1));
  let t = 0;
  for (let i = 0; i < held; i++) {
    const sock = `h${i}`;
    const r = nodeStep(s, { type: 'accepted', peer: `10.1.${i >> 8}.${i & 255}:3001`, sock }, t);
    if (r.result && typeof r.result === 'object' && r.result.kind === 'included') {
      nodeStep(s, { type: 'handshakeDone', conn: r.result.conn, sock, dataFlow: 'duplex' }, t);
      // keep them busy (remote warm), so no idle timer ever closes them
      nodeStep(s, { type: 'responderStarted', conn: r.result.conn, hot: false }, t);
    }
  }
  return { s, now: () => t++ };
}

function outboundCycles(s: NodeState, now: () => number, n: number): number {
  let events = 0;
  for (let i = 0; i < n; i++) {
    const peer = `10.2.${(i >> 8) & 255}.${i & 255}:3001`;
    const acq = nodeStep(s, { type: 'acquireOutbound', peer }, now());
    const dial = acq.actions.find((a) => a.type === 'connect');
    if (dial?.type !== 'connect') throw new Error('no dial');
    nodeStep(s, { type: 'connected', conn: dial.conn, sock: dial.sock }, now());
    nodeStep(s, { type: 'handshakeDone', conn: dial.conn, sock: dial.sock, dataFlow: 'duplex' }, now());
    nodeStep(s, { type: 'releaseOutbound', conn: dial.conn }, now());
    nodeStep(s, { type: 'timer', conn: dial.conn, timer: 'inboundIdle' }, now() + 10_000);
    nodeStep(s, { type: 'timer', conn: dial.conn, timer: 'timeWait' }, now() + 100_000);
    events += 6;
  }
  return events;
}

function inboundCycles(s: NodeState, now: () => number, n: number): number {
  let events = 0;
  for (let i = 0; i < n; i++) {
    const peer = `10.3.${(i >> 8) & 255}.${i & 255}:3001`;
    const sock = `i${i}`;
    const r = nodeStep(s, { type: 'accepted', peer, sock }, now());
    if (r.result === undefined || typeof r.result !== 'object' || r.result.kind !== 'included')
      throw new Error('refused');
    const conn = r.result.conn;
    nodeStep(s, { type: 'handshakeDone', conn, sock, dataFlow: 'duplex' }, now());
    nodeStep(s, { type: 'responderStarted', conn, hot: false }, now());
    nodeStep(s, { type: 'responderTerminated', conn, hot: false, clean: true }, now());
    nodeStep(s, { type: 'timer', conn, timer: 'inboundIdle' }, now() + 10_000);
    nodeStep(s, { type: 'timer', conn, timer: 'timeWait' }, now() + 100_000);
    events += 6;
  }
  return events;
}

/** Cycles per second, best of `rounds` rounds of `n` cycles (after a warm-up round). */
function measure(
  held: number,
  kind: 'outbound' | 'inbound',
  n: number,
  rounds = 5,
): { cyclesPerSec: number; eventsPerSec: number } {
  const { s, now } = setup(held);
  const run = kind === 'outbound' ? outboundCycles : inboundCycles;
  run(s, now, n);
  let best = 0;
  let bestEvents = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    const events = run(s, now, n);
    const dt = (performance.now() - t0) / 1000;
    if (n / dt > best) {
      best = n / dt;
      bestEvents = events / dt;
    }
  }
  if (s.cm.conns.size !== held) throw new Error(`cycles leaked connections: ${s.cm.conns.size} != ${held}`);
  return { cyclesPerSec: best, eventsPerSec: bestEvents };
}

export default async function (): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  for (const kind of ['outbound', 'inbound'] as const) {
    const base = measure(0, kind, 20_000);
    const loaded = measure(500, kind, 20_000);
    out.push({
      name: `connection manager core: ${kind} cycles/s (empty manager)`,
      value: base.cyclesPerSec,
      unit: 'cycles/s',
    });
    out.push({
      name: `connection manager core: events/s in ${kind} cycles (empty manager)`,
      value: base.eventsPerSec,
      unit: 'events/s',
    });
    out.push({
      name: `connection manager core: ${kind} cycles/s with 500 connections held`,
      value: loaded.cyclesPerSec,
      unit: 'cycles/s',
      baseline: { name: 'empty manager', value: base.cyclesPerSec },
      ratio: loaded.cyclesPerSec / base.cyclesPerSec,
      target: '>= 0.5x the empty manager (cost independent of the connections held)',
      met: loaded.cyclesPerSec / base.cyclesPerSec >= 0.5,
    });
  }
  return out;
}
