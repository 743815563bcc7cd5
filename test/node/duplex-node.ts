/**
 * A whole outbound + inbound spo node for the duplex tests, assembled from the live parts: the
 * connection manager's shell with the SO_REUSEPORT dialer bound to the listening address, accept
 * loops listening on a SO_REUSEPORT socket, the governor driver with the peer state actions over
 * the connection manager (`CmConnector`). Used in-process and, through duplex-node-main.ts, as a
 * child process. Peers are given as local roots (they take effect at once when changed).
 */
import { readFileSync } from 'node:fs';
import { GovernorDriver } from '../../src/driver/loop.js';
import { createRng } from '../../src/governor/rng.js';
import type { Peer } from '../../src/governor/types.js';
import { type Clock, systemClock, type Timer } from '../../src/lib/clock.js';
import { SyntheticChain } from '../../src/net/chain.js';
import type { Connection } from '../../src/net/connection.js';
import { staticPeers } from '../../src/net/protocols/peer-sharing/responder.js';
import { nodeResponders } from '../../src/net/protocols/responders.js';
import { listenReusePort } from '../../src/net/transport/reuse-port.js';
import { tcpConnect } from '../../src/net/transport/tcp.js';
import { ConnectionManager, type Dialer, tcpDialer } from '../../src/node/connection-manager/shell.js';
import { CmConnector } from '../../src/node/outbound.js';
import { LivePeerStateActions, type PeerStateTrace } from '../../src/node/peer-state-actions.js';
import { type NodeServer, startAcceptLoops } from '../../src/node/server/accept-loop.js';

export const DUPLEX_MAGIC = 42;

export interface DuplexNode {
  address: Peer;
  cm: ConnectionManager;
  server: NodeServer;
  driver: GovernorDriver;
  actions: LivePeerStateActions;
  traces: PeerStateTrace[];
  /** Every negotiated connection, with the protocols whose responders ran on it (the remote's initiators). */
  connections: Array<{ provenance: string; connection: Connection; responders: number[] }>;
  /** Wants `peers` as hot local roots (replaces the earlier set). */
  want(peers: Peer[]): void;
  /** Resolves when `check()` holds, re-checked on every event of the node. */
  until(check: () => boolean): Promise<void>;
  /** Calls `listener` after every event of the node. */
  onChange(listener: () => void): void;
  stop(): Promise<void>;
}

/** Dials from an ephemeral port whatever the manager asks: what a node without SO_REUSEPORT does. */
function unboundDialer(clock: Clock): Dialer {
  return {
    dial: (peer, _local, signal) => tcpConnect({ host: peer.host, port: peer.port, timeoutMs: 10_000, signal, clock }),
  };
}

export async function startDuplexNode(o: {
  host?: string;
  port: number;
  clock?: Clock;
  timeWaitTimeout?: number;
  /** Dial from the listening address (default true); false: from an ephemeral port, as without SO_REUSEPORT. */
  bind?: boolean;
}): Promise<DuplexNode> {
  const host = o.host ?? '127.0.0.1';
  const clock = o.clock ?? systemClock;
  const chain = new SyntheticChain();
  for (let i = 0; i < 5; i++) chain.extend();
  // The chain grows every 100 ms, as `spo serve --block-interval`: a hot peer's chain-sync waiting at
  // the tip gets an answer, so a deactivation ends soon (it waits for the answer, as the node's does).
  let growth: Timer | undefined;
  const grow = (): void => {
    growth = clock.setTimer(100, () => {
      chain.extend();
      grow();
    });
  };
  grow();
  const cm = new ConnectionManager({
    handshake: {
      versions: [14, 15],
      data: { networkMagic: DUPLEX_MAGIC, initiatorOnly: false, peerSharing: 1, query: false, perasSupport: false },
      responders: nodeResponders({ chain, peers: staticPeers([]) }),
    },
    clock,
    // the shell's default dialer binds to `listenAddress` (SO_REUSEPORT); the unbound one is the fallback
    dialer: o.bind === false ? unboundDialer(clock) : tcpDialer(clock),
    listenAddress: { host, port: o.port },
    ...(o.timeWaitTimeout === undefined ? {} : { timeWaitTimeout: o.timeWaitTimeout }),
  });
  const waiters = new Set<() => void>();
  const poke = (): void => {
    for (const w of [...waiters]) w();
  };
  const connections: DuplexNode['connections'] = [];
  cm.on('negotiated', (_conn, connection, provenance) => {
    const entry = { provenance, connection, responders: [] as number[] };
    connections.push(entry);
    connection.on('responderStart', (p) => {
      entry.responders.push(p);
      poke();
    });
    poke();
  });
  cm.on('trace', poke);
  const server = await startAcceptLoops({
    target: cm,
    hosts: [host],
    port: o.port,
    clock,
    listen: (s, h, p) => listenReusePort(s, { host: h, port: p }),
  });
  const actions = new LivePeerStateActions({ clock, connector: new CmConnector(cm) });
  const traces: PeerStateTrace[] = [];
  actions.onTrace((t) => {
    traces.push(t);
    poke();
  });
  const driver = new GovernorDriver({
    clock,
    rng: createRng(o.port),
    churn: false,
    invariants: 'throw',
    shell: {
      peers: actions,
      sharing: actions,
      rootPeers: { requestRootPeers: () => Promise.resolve({ peers: [], ttlMs: 3_600_000 }) },
      bigLedgerPeers: { requestBigLedgerPeers: () => Promise.resolve({ peers: [], ttlMs: 3_600_000 }) },
    },
  });
  driver.onStep(poke);
  driver.configure({ consensusMode: 'praos', useLedgerPeers: false, useBootstrapPeers: false });
  driver.setTargets({
    root: 0,
    known: 1,
    established: 1,
    active: 1,
    knownBigLedger: 0,
    establishedBigLedger: 0,
    activeBigLedger: 0,
  });
  return {
    address: `${host}:${o.port}`,
    cm,
    server,
    driver,
    actions,
    traces,
    connections,
    want(peers) {
      driver.setLocalRoots(
        peers.length === 0
          ? []
          : [{ hotValency: peers.length, warmValency: peers.length, peers: peers.map((peer) => ({ peer })) }],
      );
    },
    until(check) {
      return new Promise((resolve) => {
        const w = (): void => {
          if (!check()) return;
          waiters.delete(w);
          resolve();
        };
        waiters.add(w);
        w();
      });
    },
    onChange(listener) {
      waiters.add(listener);
    },
    async stop() {
      waiters.clear();
      growth?.cancel();
      driver.stop();
      await actions.stop();
      await server.close();
      await cm.close(200);
    },
  };
}

/**
 * The established TCP connections between the given ports on loopback, as the kernel lists them
 * (/proc/net/tcp and tcp6): one entry per end, so one connection between two local processes is
 * two entries.
 */
export function establishedSockets(ports: readonly number[]): Array<{ local: number; remote: number }> {
  return kernelSockets().filter((s) => ports.includes(s.local) && ports.includes(s.remote));
}

/** Established TCP sockets whose local port is one of `ports` and whose remote port is not (accepted from an ephemeral port). */
export function acceptedAt(ports: readonly number[]): Array<{ local: number; remote: number }> {
  return kernelSockets().filter((s) => ports.includes(s.local) && !ports.includes(s.remote));
}

function kernelSockets(): Array<{ local: number; remote: number }> {
  const out: Array<{ local: number; remote: number }> = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 4 || f[3] !== '01') continue; // 01 = ESTABLISHED
      const local = Number.parseInt((f[1] as string).split(':')[1] as string, 16);
      const remote = Number.parseInt((f[2] as string).split(':')[1] as string, 16);
      out.push({ local, remote });
    }
  }
  return out;
}
