/**
 * Helpers for the live shells' tests on loopback TCP: a node (connection manager + accept loop on
 * 127.0.0.1) that records every trace event, and the oracle checks (§8.3, §10.2, chains, counters,
 * the 1.1x timeouts) over what it recorded.
 */
import type { Clock } from '../../src/lib/clock.js';
import { SyntheticChain } from '../../src/net/chain.js';
import type { VersionData } from '../../src/net/codec/handshake.js';
import { staticPeers } from '../../src/net/protocols/peer-sharing/responder.js';
import { nodeResponders } from '../../src/net/protocols/responders.js';
import { deriveCmCounters } from '../../src/node/connection-manager/core.js';
import {
  ConnectionManager,
  type ConnectionManagerOptions,
  type NodeTraceEvent,
} from '../../src/node/connection-manager/shell.js';
import { deriveIgCounters } from '../../src/node/inbound-governor/core.js';
import { type NodeServer, type ServerTrace, startAcceptLoops } from '../../src/node/server/accept-loop.js';
import type { AcceptedConnectionsLimit } from '../../src/node/server/rate-limit.js';
import {
  type CmSt,
  chainErrors,
  type RemoteStOrNone,
  type Timeouts,
  type Transition,
  timeoutViolations,
  validCmTransition,
  validRemoteTransition,
} from '../../src/node/transitions.js';

export const MAGIC = 2;

export function versionData(initiatorOnly = false, magic = MAGIC): VersionData {
  return { networkMagic: magic, initiatorOnly, peerSharing: 1, query: false, perasSupport: false };
}

export interface LiveNodeOptions extends Partial<Omit<ConnectionManagerOptions, 'handshake'>> {
  initiatorOnly?: boolean;
  magic?: number;
  /** Listen on 127.0.0.1 (default true unless initiator-only). */
  listen?: boolean;
  limit?: AcceptedConnectionsLimit;
  clock?: Clock;
  /** Addresses to listen on (default 127.0.0.1). */
  hosts?: string[];
  /** Listen on a SO_REUSEPORT socket and dial from the listening address (duplex reuse across nodes). */
  reusePort?: boolean;
}

export class LiveNode {
  readonly cm: ConnectionManager;
  server: NodeServer | undefined;
  readonly traces: NodeTraceEvent[] = [];
  readonly serverTraces: ServerTrace[] = [];
  readonly cmTransitions: Transition<CmSt>[] = [];
  readonly remoteTransitions: Transition<RemoteStOrNone>[] = [];
  readonly counterErrors: string[] = [];
  readonly unexpected: string[] = [];
  maxInbound = 0;

  constructor(readonly o: LiveNodeOptions = {}) {
    const chain = new SyntheticChain();
    for (let i = 0; i < 5; i++) chain.extend();
    this.cm = new ConnectionManager({
      ...o,
      handshake: {
        versions: [14, 15],
        data: versionData(o.initiatorOnly ?? false, o.magic),
        responders: nodeResponders({ chain, peers: staticPeers([]) }),
      },
    });
    this.cm.on('trace', (e) => {
      this.traces.push(e);
      if (e.source === 'connectionManager') {
        const t = e.event;
        if (t.type === 'transition') this.cmTransitions.push({ conn: t.conn, from: t.from, to: t.to, at: t.at });
        if (t.type === 'unexpected') this.unexpected.push(`${t.method} in ${t.st}`);
      } else if (e.source === 'inboundGovernor') {
        const t = e.event;
        if (t.type === 'remoteTransition')
          this.remoteTransitions.push({ conn: t.conn, from: t.from, to: t.to, at: t.at });
      }
      // the counters agree with the states after every change
      const s = this.cm.state;
      if (JSON.stringify(deriveCmCounters(s.cm)) !== JSON.stringify(s.cm.counters))
        this.counterErrors.push(`cm counters after ${JSON.stringify(e.event)}`);
      if (JSON.stringify(deriveIgCounters(s.ig)) !== JSON.stringify(s.ig.counters))
        this.counterErrors.push(`ig counters after ${JSON.stringify(e.event)}`);
      this.maxInbound = Math.max(this.maxInbound, s.cm.counters.inboundConns);
    });
  }

  async start(): Promise<this> {
    if (this.o.listen ?? !this.o.initiatorOnly) {
      this.server = await startAcceptLoops({
        target: this.cm,
        hosts: this.o.hosts ?? ['127.0.0.1'],
        port: 0,
        ...(this.o.limit ? { limit: this.o.limit } : {}),
        ...(this.o.clock ? { clock: this.o.clock } : {}),
        ...(this.o.reusePort ? { reusePort: true } : {}),
      });
      this.server.events.on('trace', (e) => this.serverTraces.push(e));
      if (this.o.reusePort) this.cm.setListenAddress(this.server.addresses[0]);
    }
    return this;
  }

  get address(): string {
    const a = this.server?.addresses[0];
    if (!a) throw new Error('not listening');
    return `${a.host}:${a.port}`;
  }

  /** Resolves when no connection is left in the core (every entry gone) and no socket is held. */
  quiet(): Promise<void> {
    const done = (): boolean => this.cm.state.cm.conns.size === 0 && this.cm.sockets === 0;
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (!done()) return;
        this.cm.off('trace', check);
        this.cm.off('socketClosed', check);
        resolve();
      };
      this.cm.on('trace', check);
      this.cm.on('socketClosed', check);
    });
  }

  /** Resolves when `pred` holds, checked after every trace event. */
  until(pred: () => boolean): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (!pred()) return;
        this.cm.off('trace', check);
        resolve();
      };
      this.cm.on('trace', check);
    });
  }

  async stop(): Promise<void> {
    await this.server?.close();
    await this.cm.close(200);
  }

  /** Every oracle check over the recorded run; `final` = every connection must have ended. */
  oracle(timeouts: Timeouts | undefined, end: number, final = true): string[] {
    const errors: string[] = [];
    for (const t of this.cmTransitions)
      if (!validCmTransition(t.from, t.to)) errors.push(`invalid CM ${t.from} -> ${t.to} (conn ${t.conn})`);
    for (const t of this.remoteTransitions)
      if (!validRemoteTransition(t.from, t.to))
        errors.push(`invalid remote ${String(t.from)} -> ${String(t.to)} (conn ${t.conn})`);
    errors.push(...chainErrors(this.cmTransitions, ['Unknown'], final ? ['Unknown'] : undefined));
    errors.push(...chainErrors(this.remoteTransitions, [null], final ? [null] : undefined));
    if (timeouts) errors.push(...timeoutViolations(this.cmTransitions, timeouts, end));
    errors.push(...this.counterErrors, ...this.unexpected.map((u) => `unexpected ${u}`));
    return errors;
  }
}
