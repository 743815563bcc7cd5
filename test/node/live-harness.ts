/**
 * A live outbound node for tests: the governor driver (src/driver) with the peer state actions
 * over real TCP connections on loopback, root peers given as a fixed list. Waits are on events
 * (status changes, steps, traces), never on sleeps.
 */
import type { DriverShell } from '../../src/driver/actions.js';
import { GovernorDriver } from '../../src/driver/loop.js';
import { createRng } from '../../src/governor/rng.js';
import type { Peer, RootPeerResult, Targets } from '../../src/governor/types.js';
import { type Clock, systemClock } from '../../src/lib/clock.js';
import { ConnectionManager } from '../../src/node/connection-manager/shell.js';
import { CmConnector, DirectConnector, type OutboundConnector } from '../../src/node/outbound.js';
import { LivePeerStateActions, type PeerResolver, type PeerStateTrace } from '../../src/node/peer-state-actions.js';

export const MAGIC = 764824073;

export const ZERO: Targets = {
  root: 0,
  known: 0,
  established: 0,
  active: 0,
  knownBigLedger: 0,
  establishedBigLedger: 0,
  activeBigLedger: 0,
};

export interface LiveNode {
  driver: GovernorDriver;
  actions: LivePeerStateActions;
  /** The connection manager, when the actions go through one. */
  cm: ConnectionManager | undefined;
  traces: PeerStateTrace[];
  headers: Map<Peer, number>;
  /** Resolves when `check()` holds, re-checked after every step, status change and trace. */
  until(check: () => boolean, what: string): Promise<void>;
  stop(): Promise<void>;
}

/** Which connector the actions use: dial directly, or through the connection manager's shell. */
export type ConnectorKind = 'direct' | 'cm';

export interface LiveNodeOptions {
  roots: Peer[];
  targets: Partial<Targets>;
  clock?: Clock;
  connector?: ConnectorKind;
  resolver?: PeerResolver;
  seed?: number;
  keepAliveIntervalMs?: number;
}

export function liveNode(o: LiveNodeOptions): LiveNode {
  const clock = o.clock ?? systemClock;
  // The manager's timers are short here (outbound idle 100 ms, time-wait 200 ms), so a released
  // connection is cold within a test; the node's are 5 s and 60 s.
  const cm =
    o.connector === 'cm'
      ? new ConnectionManager({
          clock,
          handshake: {
            versions: [14, 15],
            data: { networkMagic: MAGIC, initiatorOnly: true, peerSharing: 1, query: false, perasSupport: false },
          },
          protocolIdleTimeout: 100,
          timeWaitTimeout: 200,
        })
      : undefined;
  const connector: OutboundConnector = cm ? new CmConnector(cm) : new DirectConnector({ magic: MAGIC, clock });
  const headers = new Map<Peer, number>();
  const traces: PeerStateTrace[] = [];
  const waiters: Array<() => void> = [];
  const poke = (): void => {
    for (const w of [...waiters]) w();
  };
  const actions = new LivePeerStateActions({
    clock,
    connector,
    ...(o.resolver ? { resolver: o.resolver } : {}),
    ...(o.keepAliveIntervalMs === undefined ? {} : { keepAliveIntervalMs: o.keepAliveIntervalMs }),
    onChainSync: (peer, ev) => {
      if (ev.type === 'RollForward') headers.set(peer, (headers.get(peer) ?? 0) + 1);
      poke();
    },
  });
  const roots: RootPeerResult[] = o.roots.map((peer) => ({ peer, kind: 'public-root', advertise: false }));
  const shell: DriverShell = {
    peers: actions,
    sharing: actions,
    rootPeers: { requestRootPeers: () => Promise.resolve({ peers: roots, ttlMs: 3_600_000 }) },
    bigLedgerPeers: { requestBigLedgerPeers: () => Promise.resolve({ peers: [], ttlMs: 3_600_000 }) },
  };
  const driver = new GovernorDriver({ clock, rng: createRng(o.seed ?? 7), shell, churn: false, invariants: 'throw' });
  actions.onTrace((t) => {
    traces.push(t);
    poke();
  });
  driver.onStep(() => poke());
  driver.configure({ consensusMode: 'praos', useLedgerPeers: false, useBootstrapPeers: false });
  driver.setTargets({ ...ZERO, ...o.targets });
  return {
    driver,
    actions,
    cm,
    traces,
    headers,
    until(check, what) {
      return new Promise((resolve, reject) => {
        // the test's own limit; the message says what was awaited
        const limit = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`timed out waiting for ${what}; counters ${JSON.stringify(driver.counters())}`));
        }, 30_000);
        const w = (): void => {
          if (!check()) return;
          clearTimeout(limit);
          waiters.splice(waiters.indexOf(w), 1);
          resolve();
        };
        waiters.push(w);
        w();
      });
    },
    async stop() {
      driver.stop();
      await actions.stop();
      await cm?.close(200);
    },
  };
}
