/**
 * The rules for performing the governor's jobs, written once for every shell (what the reference's
 * jobs do inside themselves, governor.md §2.5, §3): each job is performed through the shell's
 * actions and its outcome becomes the completion the governor expects.
 *
 * - connect: `establish`; a failure is reported at once (the governor backs off).
 * - activate: `activate`; a failure is reported after the 1 s anti-busy-loop pause.
 * - deactivate: `deactivate`; a failure waits (≤ 600 s) until the connection is cold.
 * - close: `close`, then wait (≤ 600 s) until the connection is cold (`becameCold`), whether the
 *   close succeeded or failed: redialling before the connection manager forgot the old connection
 *   fails (the reference's issue #5111).
 * - peerShare: every request at once; results that arrived within the 3 s batch wait are reported
 *   together (partial), the rest when they arrive or at the 10 s overall timeout (final), each
 *   asked peer exactly once.
 * - rootPeers / bigLedgerPeers: the sources' answers, or the failure.
 *
 * Status reports of an older connection of a peer than the newest seen are stale and dropped
 * (connection ids grow), so a late event of a closed connection cannot demote its successor.
 */

import type { GovernorPolicy } from '../governor/policies.js';
import { PEER_DEMOTION_TIMEOUT_MS } from '../governor/policies.js';
import type { Completion, Input, Job, Peer, PeerStatus } from '../governor/types.js';
import type { Clock, Millis, Timer } from '../lib/clock.js';
import { type DriverShell, errorText, type StatusChange } from './actions.js';

/** The anti-busy-loop pause before a failed activation is reported (`jobPromoteWarmPeer`). */
export const ACTIVATE_FAILURE_PAUSE_MS: Millis = 1_000;

type Waiter = (cold: boolean) => void;

/** A timer that leaves the runner's set of armed timers when cancelled (a class: no closure per timer). */
class TrackedTimer implements Timer {
  constructor(
    private readonly timer: Timer,
    private readonly armed: Set<Timer>,
  ) {}

  cancel(): void {
    this.timer.cancel();
    this.armed.delete(this.timer);
  }
}

/** Performs jobs and reports their completions and the connections' statuses as governor inputs. */
export class JobRunner {
  /** The newest connection id seen per peer. */
  private readonly connection = new Map<Peer, number>();
  /** Jobs waiting for a peer's connection to be cold. */
  private readonly coldWaiters = new Map<Peer, Waiter[]>();
  /** Timers armed and not yet run, so that `stop` leaves none behind. */
  private readonly timers = new Set<Timer>();
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly shell: DriverShell,
    private readonly policy: GovernorPolicy,
    /** Where inputs go (the driver's inbox). */
    private readonly input: (i: Input) => void,
  ) {
    shell.peers.onStatus((c) => this.onStatus(c));
  }

  /** Ends the runner: its timers are cancelled and results arriving later are dropped. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) t.cancel();
    this.timers.clear();
    this.coldWaiters.clear();
  }

  private setTimer(delay: Millis, fn: () => void): Timer {
    const timers = this.timers;
    const t = this.clock.setTimer(delay, () => {
      timers.delete(t);
      fn();
    });
    timers.add(t);
    return new TrackedTimer(t, timers);
  }

  private complete(completion: Completion): void {
    if (this.stopped) return;
    this.input({ kind: 'completion', completion });
  }

  private onStatus(c: StatusChange): void {
    if (this.stopped) return;
    const newest = this.connection.get(c.peer);
    if (newest !== undefined && c.connection < newest) return; // a stale report of an older connection
    this.connection.set(c.peer, c.connection);
    this.input({ kind: 'peerStatus', peer: c.peer, status: c.status, repromoteDelayMs: c.repromoteDelayMs });
    if (c.status === 'cold') this.wakeCold(c.peer, true);
  }

  private wakeCold(peer: Peer, cold: boolean): void {
    const waiters = this.coldWaiters.get(peer);
    if (!waiters) return;
    this.coldWaiters.delete(peer);
    for (const w of waiters) w(cold);
  }

  /** Calls `done(true)` once the peer's connection is cold (now, if it is), `done(false)` after 600 s. */
  private whenCold(peer: Peer, done: Waiter): void {
    const st: PeerStatus | undefined = this.shell.peers.status(peer);
    if (st === 'cold' || st === undefined) {
      done(true);
      return;
    }
    let timer: Timer | undefined;
    const waiter: Waiter = (cold) => {
      timer?.cancel();
      done(cold);
    };
    const list = this.coldWaiters.get(peer);
    if (list) list.push(waiter);
    else this.coldWaiters.set(peer, [waiter]);
    timer = this.setTimer(PEER_DEMOTION_TIMEOUT_MS, () => {
      const l = this.coldWaiters.get(peer);
      const i = l?.indexOf(waiter) ?? -1;
      if (l && i >= 0) {
        l.splice(i, 1);
        if (l.length === 0) this.coldWaiters.delete(peer);
        done(false);
      }
    });
  }

  perform(job: Job): void {
    switch (job.kind) {
      case 'rootPeers':
        this.shell.rootPeers.requestRootPeers(job.count, { bootstrap: job.bootstrap === true }).then(
          (a) => this.complete({ kind: 'rootPeers', jobId: job.id, ok: true, peers: a.peers, ttlMs: a.ttlMs }),
          (e) => this.complete({ kind: 'rootPeers', jobId: job.id, ok: false, error: errorText(e) }),
        );
        return;
      case 'bigLedgerPeers':
        this.shell.bigLedgerPeers.requestBigLedgerPeers(job.count).then(
          (a) => this.complete({ kind: 'bigLedgerPeers', jobId: job.id, ok: true, peers: a.peers, ttlMs: a.ttlMs }),
          (e) => this.complete({ kind: 'bigLedgerPeers', jobId: job.id, ok: false, error: errorText(e) }),
        );
        return;
      case 'peerShare':
        this.peerShare(job);
        return;
      case 'connect':
        this.shell.peers
          .establish(job.peer, { diffusionMode: job.diffusionMode, behindFirewall: job.behindFirewall })
          .then(
            (r) => {
              const newest = this.connection.get(job.peer);
              if (newest === undefined || r.connection > newest) this.connection.set(job.peer, r.connection);
              this.complete({ kind: 'connect', jobId: job.id, peer: job.peer, ok: true, sharing: r.sharing });
            },
            (e) => this.complete({ kind: 'connect', jobId: job.id, peer: job.peer, ok: false, error: errorText(e) }),
          );
        return;
      case 'activate':
        this.shell.peers.activate(job.peer).then(
          () => this.complete({ kind: 'activate', jobId: job.id, peer: job.peer, ok: true }),
          (e) => {
            const error = errorText(e);
            this.setTimer(ACTIVATE_FAILURE_PAUSE_MS, () =>
              this.complete({ kind: 'activate', jobId: job.id, peer: job.peer, ok: false, error }),
            );
          },
        );
        return;
      case 'deactivate':
        this.shell.peers.deactivate(job.peer).then(
          () => this.complete({ kind: 'deactivate', jobId: job.id, peer: job.peer, ok: true }),
          () =>
            this.whenCold(job.peer, (cold) =>
              this.complete({ kind: 'deactivate', jobId: job.id, peer: job.peer, ok: false, becameCold: cold }),
            ),
        );
        return;
      case 'close': {
        const waitCold = () =>
          this.whenCold(job.peer, (cold) =>
            this.complete({ kind: 'close', jobId: job.id, peer: job.peer, becameCold: cold }),
          );
        this.shell.peers.close(job.peer).then(waitCold, waitCold);
        return;
      }
    }
  }

  private peerShare(job: Extract<Job, { kind: 'peerShare' }>): void {
    const n = job.peers.length;
    const results: Array<{ peer: Peer; ok: boolean; peers: Peer[] } | undefined> = new Array(n);
    const reported: boolean[] = new Array(n).fill(false);
    let answered = 0;
    let phase: 'batch' | 'stragglers' | 'done' = 'batch';
    const timers: Timer[] = [];
    const report = (final: boolean) => {
      const out: Array<{ peer: Peer; ok: boolean; peers: Peer[] }> = [];
      for (let i = 0; i < n; i++) {
        if (reported[i]) continue;
        const r = results[i] ?? (final ? { peer: job.peers[i] as Peer, ok: false, peers: [] } : undefined);
        if (!r) continue;
        reported[i] = true;
        out.push(r);
      }
      if (final) {
        phase = 'done';
        for (const t of timers) t.cancel();
      }
      if (final || out.length > 0) this.complete({ kind: 'peerShare', jobId: job.id, results: out, final });
    };
    const arrived = (i: number, r: { peer: Peer; ok: boolean; peers: Peer[] }) => {
      if (phase === 'done' || results[i]) return;
      results[i] = r;
      answered++;
      if (answered === n) report(true);
    };
    job.peers.forEach((peer, i) => {
      this.shell.sharing.requestPeers(peer, job.amount).then(
        (peers) => arrived(i, { peer, ok: true, peers }),
        () => arrived(i, { peer, ok: false, peers: [] }),
      );
    });
    // Every answer may have come at once (a simulated world can settle synchronously).
    if ((phase as string) === 'done') return;
    timers.push(
      this.setTimer(this.policy.peerShareBatchWaitMs, () => {
        if (phase !== 'batch') return;
        phase = 'stragglers';
        report(false);
      }),
      this.setTimer(this.policy.peerShareOverallTimeoutMs, () => {
        if (phase !== 'done') report(true);
      }),
    );
  }
}
