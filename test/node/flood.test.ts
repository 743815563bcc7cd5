/**
 * Issue 12's flood in virtual time, for the pure parts: 2,000 connection attempts queued at once
 * against one node whose accept loop follows `acceptGate` / `remainingPause` (governor.md §9) and
 * hands each socket to the composed node core. Half the clients go quiet (the inbound idle timeout
 * closes them), half use the connection for 30-120 s. Checked: inbound connections never exceed the
 * hard limit, every accept between soft and hard waited at least the ramp's delay, accepts resumed
 * after a block only once the total pause reached the configured delay, and everything ends. The
 * live flood against `spo serve` (real sockets, memory, keep-alive latency) belongs to the shell.
 */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/governor/rng.js';
import type { Timer } from '../../src/lib/clock.js';
import { defaultCmConfig } from '../../src/node/connection-manager/core.js';
import { initialNodeState, type NodeEvent, nodeStep } from '../../src/node/node-core.js';
import {
  acceptGate,
  DEFAULT_ACCEPTED_CONNECTIONS_LIMIT as L,
  remainingPause,
} from '../../src/node/server/rate-limit.js';
import { Scheduler } from '../../src/sim/scheduler.js';

describe('accept loop under a flood (virtual time)', () => {
  it('2,000 attempts at once: never above the hard limit, the ramp and the block respected, all served', () => {
    const sched = new Scheduler(0);
    const rng = createRng(7);
    const s = initialNodeState(defaultCmConfig('10.0.0.1:3001', L.hard), createRng(8));
    const timers = new Map<string, Timer>();
    const errors: string[] = [];
    let maxInbound = 0;
    const step = (e: NodeEvent) => {
      const r = nodeStep(s, e, sched.now());
      maxInbound = Math.max(maxInbound, s.cm.counters.inboundConns);
      for (const a of r.actions) {
        if (a.type === 'armTimer') {
          const key = `${a.conn}/${a.timer}`;
          timers.get(key)?.cancel();
          timers.set(
            key,
            sched.at(a.at, () => step({ type: 'timer', conn: a.conn, timer: a.timer })),
          );
        } else if (a.type === 'cancelTimer') timers.get(`${a.conn}/${a.timer}`)?.cancel();
        else if (a.type === 'armWakeup') sched.at(a.at, () => step({ type: 'wakeup' }));
        else if (a.type === 'connectionClosed') onClosed();
      }
      return r;
    };

    const queue = Array.from({ length: 2_000 }, (_, i) => `10.9.${i >> 8}.${i & 255}:40000`);
    let accepted = 0;
    let refused = 0;
    let blockedSince: number | undefined;
    let belowHard: (() => void) | undefined;
    const onClosed = () => {
      if (belowHard && s.cm.counters.inboundConns < L.hard) {
        const go = belowHard;
        belowHard = undefined;
        sched.setTimer(0, go);
      }
    };
    let lastAccept = 0;
    let ramped = 0;
    let blocks = 0;
    const acceptOne = (waited: number) => {
      const peer = queue.shift();
      if (peer === undefined) return;
      const n = s.cm.counters.inboundConns;
      const g = acceptGate(n, L);
      if (g.kind === 'delay' && waited < g.delay - 1e-9) errors.push(`accept at ${n} after ${waited} < ${g.delay}`);
      if (g.kind === 'delay' && g.delay > 0) ramped++;
      lastAccept = sched.now();
      const sock = `i${accepted + refused}`;
      const r = step({ type: 'accepted', peer, sock });
      if (r.result && typeof r.result === 'object' && r.result.kind === 'included') {
        accepted++;
        const conn = r.result.conn;
        sched.setTimer(10, () => step({ type: 'handshakeDone', conn, sock, dataFlow: 'duplex' }));
        if (rng.chance(0.8)) {
          // an active client: uses the connection for 10-30 min, then leaves
          sched.setTimer(20, () => step({ type: 'responderStarted', conn, hot: false }));
          sched.setTimer(600_000 + rng.int(1_200_000), () => step({ type: 'connectionError', conn }));
        }
      } else refused++;
      loop();
    };
    const loop = () => {
      if (queue.length === 0) return;
      const g = acceptGate(s.cm.counters.inboundConns, L);
      if (g.kind === 'delay') {
        const started = sched.now();
        sched.setTimer(g.delay, () => acceptOne(sched.now() - started));
        return;
      }
      blocks++;
      blockedSince = sched.now();
      const resume = () => {
        const since = blockedSince as number;
        sched.setTimer(remainingPause(since, sched.now(), L), () => {
          if (sched.now() - since < L.delay) errors.push(`resumed after ${sched.now() - since} ms`);
          acceptOne(Number.POSITIVE_INFINITY);
        });
      };
      if (s.cm.counters.inboundConns < L.hard) resume();
      else belowHard = resume;
    };
    loop();
    sched.run({ maxEvents: 1_000_000 });

    expect(errors).toEqual([]);
    expect(maxInbound).toBe(L.hard); // reached, never passed
    expect(refused).toBe(0); // the accept loop's gate keeps includeInbound's re-check from refusing
    expect(accepted).toBe(2_000);
    expect(queue).toEqual([]);
    expect(s.cm.conns.size).toBe(0);
    expect(s.ig.conns.size).toBe(0);
    expect(ramped).toBeGreaterThan(100); // accepts between soft and hard waited on the ramp
    expect(blocks).toBeGreaterThan(0); // and at the hard limit the loop blocked
    expect(lastAccept).toBeGreaterThan(600_000);
  });
});
