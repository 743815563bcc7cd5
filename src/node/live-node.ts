/**
 * The live node of `spo run` (issue 13): the governor driver (src/driver) deciding, the connection
 * manager, server and inbound governor (src/node) carrying it out on real sockets.
 *
 *   topology ─► LocalRootsProvider ─┐            ┌─► LivePeerStateActions ─► CmConnector ─► ConnectionManager
 *   registry ─► PublicRootPeers ────┼─► driver ──┤                                          ▲
 *           └─► BigLedgerPeers ─────┘  (churn)   └─► peer sharing (client, filtered)        │
 *                                                            accept loops (IPv4/IPv6) ──────┘
 *   responders: keep-alive, chain-sync (the node's chain), peer sharing (the node's policy), ...
 *
 * Everything runs on an injected `Clock`; every timer is cancelled by `close()` (or the
 * AbortSignal). What the node does is told as data: `snapshot()` (a `NodeSnapshot`) and `NodeEvent`s
 * (src/node/snapshot.ts); the metrics publisher (src/metrics/publish.ts) is updated from the
 * driver's counters, the connection manager's and the chain tip once a second.
 * A shell: it owns sockets and timers.
 */
import { EventEmitter } from 'node:events';
import { errorText, type PeerSharingActions, type RootPeerSource } from '../driver/actions.js';
import { GovernorDriver } from '../driver/loop.js';
import { relayPeer, splitPeer, topologyRoots } from '../driver/node-inputs.js';
import {
  BigLedgerPeers,
  isLiteralPeer,
  LocalRootsProvider,
  PeerNames,
  PublicRootPeers,
  type PublicRootsConfig,
  type RootPeerResolver,
} from '../driver/root-peers.js';
import { bigLedgerPools, type LedgerPool, pickFromBigLedgerPools, pickLedgerPeers } from '../governor/ledger-peers.js';
import { metricScores } from '../governor/peer-metrics.js';
import { DEFAULT_POLICY, type GovernorPolicy } from '../governor/policies.js';
import { createRng, shuffled } from '../governor/rng.js';
import { failCountAt } from '../governor/state.js';
import type { DiffusionMode } from '../governor/types.js';
import {
  type GovernorState,
  type LocalRootGroupConfig,
  type Peer,
  peerSource,
  type Targets,
  temperature,
} from '../governor/types.js';
import { formatEndpoint } from '../lib/address.js';
import { type Clock, type Millis, systemClock, type Timer } from '../lib/clock.js';
import type { P2PCounters } from '../metrics/counters.js';
import { CHURN_ACTIONS } from '../metrics/node-metric-names.js';
import { ChurnFigures, peerSelectionCounters } from '../metrics/peer-selection-counters.js';
import type { NodeMetricsPublisher } from '../metrics/publish.js';
import { DEFAULT_VERSIONS, type VersionData } from '../net/codec/handshake.js';
import type { PeerAddress } from '../net/codec/peer-sharing.js';
import type { Connection } from '../net/connection.js';
import type { ChainSyncEvent } from '../net/protocols/chain-sync/client.js';
import { type ChainProvider, EMPTY_CHAIN } from '../net/protocols/chain-sync/source.js';
import { nodeResponders } from '../net/protocols/responders.js';
import type { ResponderContext } from '../net/protocols/types.js';
import { type LinkDelays, withLinkDelay } from '../net/transport/delayed.js';
import { TcpBearer } from '../net/transport/tcp.js';
import { resolvedAddressFlag } from '../registry/hygiene.js';
import { UNUSABLE_FLAGS } from '../registry/model.js';
import type { Topology } from '../topology/model.js';
import type { ConnId } from './connection-manager/core.js';
import { ConnectionManager, type Dialer, tcpDialer } from './connection-manager/shell.js';
import type { BestChainChange } from './header-chain.js';
import { HeaderRelay } from './header-relay.js';
import { CmConnector } from './outbound.js';
import { LivePeerStateActions, type PeerResolver, type PeerStateTrace } from './peer-state-actions.js';
import { type NodeServer, startAcceptLoops } from './server/accept-loop.js';
import type { AcceptedConnectionsLimit } from './server/rate-limit.js';
import type {
  ChainTip,
  NodeEvent,
  NodeLedgerState,
  NodeSnapshot,
  PeerDirection,
  PeerRow,
  PeerSourceName,
} from './snapshot.js';

/** A registry pool as the node needs it (structurally a registry `Pool`). */
export interface LedgerPoolInput {
  id: string;
  stake?: number | undefined;
  relays: ReadonlyArray<{ kind: string; host: string; port?: number | undefined; flags: readonly string[] }>;
}

/** The node configuration's peer-to-peer settings the live node uses (src/config `NodeConfig`). */
export interface LiveNodeSettings {
  targets: Targets;
  acceptedConnectionsLimit: { hardLimit: number; softLimit: number; delayMs: Millis };
  peerSharing: boolean;
  diffusionMode: DiffusionMode;
  consensusMode: 'praos' | 'genesis';
  protocolIdleTimeoutMs: Millis;
  timeWaitTimeoutMs: Millis;
}

export interface LiveNodeOptions {
  clock?: Clock;
  /** Network name and magic (handshake, the `started` event). */
  network: string;
  magic: number;
  role: 'relay' | 'producer';
  /** Addresses to listen on, all on `port` (0 = a free port); ignored with `initiatorOnly`. */
  hosts: readonly string[];
  port: number;
  /** Dial only: no listening socket, InitiatorOnly in the handshake. */
  initiatorOnly?: boolean;
  settings: LiveNodeSettings;
  topology: Topology;
  /** Ledger peers: the registry's pools (relays with their hygiene flags) and stake. */
  pools: readonly LedgerPoolInput[];
  /** Accept loopback and private addresses from the registry and from peer sharing (testnets, tests). */
  allowPrivatePeers?: boolean;
  resolver: RootPeerResolver & PeerResolver;
  /** Relay headers (default true): hot peers' chain-sync feeds the node's best header chain, served downstream. */
  relay?: boolean;
  /** TESTNETS: mint a synthetic header extending the best chain every `intervalMs`, the first after `offsetMs`. */
  mint?: {
    intervalMs: Millis;
    offsetMs?: Millis;
    /**
     * Mint at the wall-clock times ≡ phaseMs (mod intervalMs), the first at least `offsetMs` after
     * start: producers started at different moments still take turns (spo testnet).
     */
    phaseMs?: Millis;
  };
  /** TESTNETS: one-way delays added to what is sent to each remote IP (spo testnet's link delays). */
  linkDelays?: LinkDelays;
  /** The churn interval instead of the node's ~1 h (testnets). */
  churnIntervalMs?: Millis;
  /** Updated once a second and at the end. */
  metrics?: NodeMetricsPublisher;
  /** Where the metrics are served (told in the `started` event). */
  metricsUrl?: string;
  /** The control endpoint's socket (told in the `started` event). */
  controlPath?: string;
  /** Seed of the governor's randomness (default: drawn from the clock). */
  seed?: number;
  /** TESTS, TESTNETS: governor policy values instead of the node's (spo run --peer-share-delay: the activation delay). */
  policy?: Partial<Pick<GovernorPolicy, 'peerShareActivationDelayMs' | 'peerShareRetryTimeMs'>>;
  /** Keep-alive interval (default the node's 10 s). */
  keepAliveIntervalMs?: Millis;
  /** Every event, from the first (`started`) on. */
  onEvent?: (e: NodeEvent) => void;
  signal?: AbortSignal;
  /** Wall-clock time for the snapshot's ISO timestamps (default Date.now). */
  wallClock?: () => number;
}

export interface LiveNodeEvents {
  event: [event: NodeEvent];
}

export interface LiveNode {
  /** Every address listened on (`IP:PORT`); empty with initiatorOnly. */
  readonly listening: string[];
  /** The port listened on (0 with initiatorOnly). */
  readonly port: number;
  readonly events: EventEmitter<LiveNodeEvents>;
  readonly driver: GovernorDriver;
  readonly cm: ConnectionManager;
  snapshot(): NodeSnapshot;
  counters(): P2PCounters;
  /** A new topology (SIGHUP): the local roots (and public roots, bootstrap peers) change live. */
  reloadTopology(topology: Topology): void;
  /** Ends everything: timers, connections (FIN, then RST after the limit), listening sockets. */
  close(reason?: string): Promise<void>;
  /** Resolves once closed. */
  readonly closed: Promise<void>;
}

/** How long a closing connection may take to say goodbye before it is reset. */
const CLOSE_LIMIT_MS: Millis = 1_000;
/** How often the metrics and the inbound peers handed to the governor are refreshed. */
const TICK_MS: Millis = 1_000;
const INBOUND_PEERS_EVERY_MS: Millis = 30_000;
/** The same warning (a name, a source) at most this often. */
const WARN_EVERY_MS: Millis = 600_000;
/** Flags a relay may carry and still be dialled when private peers are allowed (testnets). */
const BROKEN_FLAGS = new Set(['unspecified', 'multicast', 'invalid-port', 'malformed-name', 'malformed-address']);

const CHURN_KEYS = new Set<string>(CHURN_ACTIONS);

function ledgerPools(pools: readonly LedgerPoolInput[], allowPrivate: boolean): LedgerPool<Peer>[] {
  const out: LedgerPool<Peer>[] = [];
  for (const p of pools) {
    const relays = p.relays
      .filter((r) => (allowPrivate ? !r.flags.some((f) => BROKEN_FLAGS.has(f)) : usable(r)))
      .map((r) => relayPeer(r));
    if (relays.length === 0) continue;
    out.push({ id: p.id, ...(p.stake === undefined ? {} : { stake: p.stake }), relays });
  }
  return out;
}

const usable = (r: { flags: readonly string[] }): boolean => !r.flags.some((f) => UNUSABLE_FLAGS.has(f));

/** `host:port` / `[v6]:port` as a peer-sharing address (undefined for a name). */
function peerAddress(peer: Peer): PeerAddress | undefined {
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(peer);
  if (v6) return { family: 6, address: v6[1] as string, port: Number(v6[2]) };
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d+)$/.exec(peer);
  if (v4) return { family: 4, address: v4[1] as string, port: Number(v4[2]) };
  return undefined;
}

const hexOf = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** A producer's issuer number from its address (FNV-1a): different nodes mint different headers. */
function issuerOf(address: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < address.length; i++) {
    h ^= address.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The dialer with the link delay of the remote applied to every outbound connection (testnets). */
/** The `stopped` event's reason when the bootstrap peers deadline passed (the node would restart). */
export const BOOTSTRAP_TIMEOUT_REASON = 'bootstrap peers timeout';

function delayedDialer(inner: Dialer, delays: LinkDelays, clock: Clock): Dialer {
  return {
    dial: async (peer, local, signal) => {
      const r = await inner.dial(peer, local, signal);
      return { bearer: withLinkDelay(r.bearer, delays, clock), connectMs: r.connectMs };
    },
  };
}

function hostOf(peer: Peer): string {
  const v6 = /^\[([^\]]+)\]:\d+$/.exec(peer);
  if (v6) return v6[1] as string;
  return peer.replace(/:\d+$/, '');
}

export async function startLiveNode(o: LiveNodeOptions): Promise<LiveNode> {
  const clock = o.clock ?? systemClock;
  const wall = o.wallClock ?? (() => Date.now());
  const startedAt = clock.now();
  const startedWall = wall();
  const iso = (t: Millis): string => new Date(startedWall + (t - startedAt)).toISOString();
  const now = (): string => new Date(wall()).toISOString();
  const events = new EventEmitter<LiveNodeEvents>();
  let stopping = false;
  const emit = (e: NodeEvent): void => {
    // what the shutdown itself causes (aborted dials, closed connections) is not news
    if (stopping && e.event !== 'stopped') return;
    o.onEvent?.(e);
    events.emit('event', e);
  };
  // warnings an operator needs (a root name that does not resolve, no root peers at all), at most
  // once per WARN_EVERY_MS for each subject
  const warnedAt = new Map<string, Millis>();
  const warnOnce = (subject: string, code: string, message: string): void => {
    const t = clock.now();
    const last = warnedAt.get(subject);
    if (last !== undefined && t - last < WARN_EVERY_MS) return;
    warnedAt.set(subject, t);
    emit({ time: now(), event: 'warning', code, message });
  };
  const seed = o.seed ?? Math.floor(startedWall) >>> 0;
  const rng = createRng(seed);
  const allowPrivate = o.allowPrivatePeers === true;
  // The header relay: hot peers' chain-sync feeds the best header chain (first arrivals credited
  // to the governor's peer metrics), the chain served downstream by chain-sync. Its driver
  // callbacks are bound once the driver exists (below).
  let driverForRelay: GovernorDriver | undefined;
  const relay =
    o.relay === false
      ? undefined
      : new HeaderRelay({
          recordHeader: (slot, peer, at) => driverForRelay?.recordHeader(slot, peer, at),
          notePeer: (slot, peer) => driverForRelay?.notePeer(slot, peer),
        });
  const served: ChainProvider = relay?.chain ?? EMPTY_CHAIN;
  const initiatorOnly = o.initiatorOnly === true || o.settings.diffusionMode === 'InitiatorOnly';
  const timers = new Set<Timer>();

  // --- per-peer figures the governor does not keep ------------------------------------------
  const rtt = new Map<Peer, Millis>();
  const churnFigures = new ChurnFigures();
  let maxTipSlotSeen = -1;

  // --- the governor driver and what it reads ------------------------------------------------
  let driverRef: GovernorDriver | undefined;
  const state = (): GovernorState | undefined => driverRef?.state;

  // Peer sharing as a responder: the known peers we may advertise that we once reached, plus the
  // mature inbound duplex peers (the node's policy), up to the amount asked, in random order.
  // Every answer is an event (who asked, what it got).
  let cmRef: ConnectionManager | undefined;
  const shareSource = (amount: number, ctx: ResponderContext): PeerAddress[] => {
    const out = sharedPeers(amount);
    emit({
      time: now(),
      event: 'peersShared',
      peer: ctx.remote ? formatEndpoint(ctx.remote) : 'unknown',
      asked: amount,
      peers: out.map((a) => formatEndpoint({ host: a.address, port: a.port })),
    });
    return out;
  };
  const sharedPeers = (amount: number): PeerAddress[] => {
    const s = state();
    if (!o.settings.peerSharing || !s) return [];
    const out: PeerAddress[] = [];
    const seen = new Set<string>();
    const candidates: PeerAddress[] = [];
    for (const [p, info] of s.known) {
      if (!info.advertise || !info.successfulConnection) continue;
      const a = peerAddress(p);
      if (a) candidates.push(a);
    }
    for (const a of cmRef?.matureDuplexPeers() ?? []) candidates.push(a);
    for (const a of shuffled(candidates, rng)) {
      const k = `${a.address}:${a.port}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(a);
      if (out.length >= amount) break;
    }
    return out;
  };

  const handshake: VersionData = {
    networkMagic: o.magic,
    initiatorOnly,
    peerSharing: o.settings.peerSharing ? 1 : 0,
    query: false,
    perasSupport: false,
  };
  const cm = new ConnectionManager({
    clock,
    handshake: {
      versions: DEFAULT_VERSIONS,
      data: handshake,
      responders: nodeResponders({ chain: served, peers: shareSource }),
    },
    ...(o.linkDelays ? { dialer: delayedDialer(tcpDialer(clock), o.linkDelays, clock) } : {}),
    hardLimit: o.settings.acceptedConnectionsLimit.hardLimit,
    protocolIdleTimeout: o.settings.protocolIdleTimeoutMs > 0 ? o.settings.protocolIdleTimeoutMs : Infinity,
    timeWaitTimeout: o.settings.timeWaitTimeoutMs,
  });
  cmRef = cm;

  // --- inbound connections (for the event log and the inbound-only rows of the table) --------
  const inbound = new Map<ConnId, { peer: Peer; connection: Connection; since: Millis }>();
  cm.on('negotiated', (conn, connection, provenance) => {
    if (provenance !== 'inbound') return;
    if (!connection.remote) return;
    const peer = formatEndpoint(connection.remote);
    inbound.set(conn, { peer, connection, since: clock.now() });
    emit({ time: now(), event: 'inbound', peer, state: 'connected' });
  });
  cm.on('socketClosed', (_sock, conn, peer, err) => {
    if (conn === undefined) return;
    const entry = inbound.get(conn);
    if (!entry) return;
    inbound.delete(conn);
    emit({
      time: now(),
      event: 'inbound',
      peer: entry.peer ?? peer,
      state: 'closed',
      ...(err && err.code !== 'CONNECTION_CLOSED' ? { error: err.code } : {}),
    });
  });

  // --- listening ----------------------------------------------------------------------------
  let server: NodeServer | undefined;
  if (!initiatorOnly && o.hosts.length > 0) {
    const limit: AcceptedConnectionsLimit = {
      hard: o.settings.acceptedConnectionsLimit.hardLimit,
      soft: o.settings.acceptedConnectionsLimit.softLimit,
      delay: o.settings.acceptedConnectionsLimit.delayMs,
    };
    try {
      const delays = o.linkDelays;
      server = await startAcceptLoops({
        target: cm,
        hosts: o.hosts,
        port: o.port,
        limit,
        clock,
        reusePort: true,
        ...(delays ? { bearer: (socket) => withLinkDelay(new TcpBearer(socket), delays, clock) } : {}),
      });
    } catch (e) {
      await cm.close(0);
      throw e;
    }
    // outbound sockets leave from the listening address (the remote can reuse the connection)
    const first = server.addresses.find((a) => !a.host.includes(':')) ?? server.addresses[0];
    if (first) cm.setListenAddress({ host: first.host, port: server.port });
  }
  const listening = server ? server.addresses.map((a) => formatEndpoint(a)) : [];

  // --- peer state actions over the connection manager ---------------------------------------
  const onChainSync = (peer: Peer, ev: ChainSyncEvent): void => {
    const slot = ev.tip.point?.slot ?? 0;
    if (slot > maxTipSlotSeen) {
      maxTipSlotSeen = slot;
      checkLedgerPeers();
    }
    relay?.receive(peer, ev, ev.at);
  };
  const actions = new LivePeerStateActions({
    clock,
    connector: new CmConnector(cm),
    resolver: o.resolver,
    onChainSync,
    ...(relay ? { intersectPoints: relay.intersectPoints } : {}),
    onRtt: (peer, ms) => rtt.set(peer, ms),
    ...(o.keepAliveIntervalMs === undefined ? {} : { keepAliveIntervalMs: o.keepAliveIntervalMs }),
  });
  // Peer sharing as a client: what peers tell us goes through the registry's hygiene (loopback and
  // private addresses refused unless allowed). Every answer is an event (what was kept, refused).
  const sharing: PeerSharingActions = {
    requestPeers: (peer, amount) =>
      actions.requestPeers(peer, amount).then((peers) => {
        const kept = allowPrivate ? peers : peers.filter((p) => resolvedAddressFlag(hostOf(p)) === undefined);
        const refused = kept.length === peers.length ? [] : peers.filter((p) => !kept.includes(p));
        emit({
          time: now(),
          event: 'peersReceived',
          peer,
          asked: amount,
          peers: kept,
          ...(refused.length > 0 ? { refused } : {}),
        });
        return kept;
      }),
  };

  // --- root peers -------------------------------------------------------------------------------
  const names = new PeerNames();
  const pools = ledgerPools(o.pools, allowPrivate);
  let roots = topologyRoots(o.topology);
  let useLedger = false;
  const ledgerOn = (): boolean => useLedger && pools.length > 0;
  const publicConfig: PublicRootsConfig = {
    publicRoots: roots.publicRoots,
    bootstrapPeers: roots.bootstrapPeers,
    ledgerPeers: (count) => (ledgerOn() ? pickLedgerPeers(pools, count, rng).map((p) => p.relay) : []),
  };
  const rootRng = rng.split();
  // the topology's own names (local roots, public roots, bootstrap peers): one that fails to
  // resolve is worth a warning; a ledger relay's name that fails is routine and is only left out
  const topologyNames = new Set<string>();
  const noteNames = (): void => {
    topologyNames.clear();
    const all = [
      ...roots.localRoots.flatMap((g) => g.peers.map((p) => p.peer)),
      ...roots.publicRoots.map((r) => r.peer),
      ...roots.bootstrapPeers.map((r) => r.peer),
    ];
    for (const p of all) if (!isLiteralPeer(p)) topologyNames.add(splitPeer(p).address);
  };
  noteNames();
  const rootResolver: RootPeerResolver = {
    resolveAddresses: (name) =>
      Promise.resolve(o.resolver.resolveAddresses(name)).catch((e: unknown) => {
        if (topologyNames.has(name))
          warnOnce(`dns:${name}`, 'ROOT_PEER_DNS', `${name} does not resolve: ${errorText(e)}`);
        throw e;
      }),
    resolveSrv: (name) =>
      Promise.resolve(o.resolver.resolveSrv(name)).catch((e: unknown) => {
        if (topologyNames.has(name))
          warnOnce(`dns:${name}`, 'ROOT_PEER_DNS', `${name} (SRV) does not resolve: ${errorText(e)}`);
        throw e;
      }),
  };
  const publicSource = new PublicRootPeers(rootResolver, rootRng, publicConfig, names);
  const publicRoots: RootPeerSource = {
    requestRootPeers: (count, options) =>
      publicSource.requestRootPeers(count, options).then((answer) => {
        if (answer.peers.length === 0) {
          const after = roots.useLedgerAfterSlot;
          const ledger =
            after === undefined
              ? 'ledger peers off (useLedgerAfterSlot < 0)'
              : pools.length === 0
                ? 'no usable relay in the registry'
                : useLedger
                  ? 'no ledger relay resolved'
                  : `ledger peers wait for slot ${after} (highest tip seen from peers: ${maxTipSlotSeen < 0 ? 'none' : maxTipSlotSeen})`;
          warnOnce(
            options.bootstrap ? 'no-bootstrap-peers' : 'no-root-peers',
            'NO_ROOT_PEERS',
            options.bootstrap
              ? `no bootstrap peer resolved (${roots.bootstrapPeers.length} configured)`
              : `no public root peers: ${roots.publicRoots.length} public roots in the topology, ${ledger}`,
          );
        }
        return answer;
      }),
  };
  let bigPools: LedgerPool<Peer>[] | undefined;
  const bigLedger = new BigLedgerPeers(
    rootResolver,
    rootRng,
    (count) => {
      if (!ledgerOn()) return [];
      bigPools ??= bigLedgerPools(pools);
      return pickFromBigLedgerPools(bigPools, count, rng).map((p) => p.relay);
    },
    names,
  );

  const driver = new GovernorDriver({
    clock,
    rng: rng.split(),
    churn: true,
    ...(o.churnIntervalMs === undefined ? {} : { churnIntervalMs: o.churnIntervalMs }),
    policy: { ...DEFAULT_POLICY, ...o.policy, peerSharing: o.settings.peerSharing },
    shell: { peers: actions, sharing, rootPeers: publicRoots, bigLedgerPeers: bigLedger },
  });
  driverRef = driver;
  driverForRelay = driver;
  // every header that joins the best chain is an event (first arrival at this node, or minted here)
  const self = listening[0] ?? 'self';
  relay?.chain.onChange((c: BestChainChange) => {
    for (const b of c.added)
      emit({
        time: now(),
        event: 'header',
        blockNo: b.blockNo,
        slot: b.slot,
        hash: hexOf(b.hash),
        from: b.from ?? self,
        ...(b.from === undefined ? { minted: true } : {}),
      });
  });
  const configure = (): void =>
    driver.configure({
      consensusMode: o.settings.consensusMode,
      useLedgerPeers: ledgerOn(),
      useBootstrapPeers: roots.bootstrapPeers.length > 0,
    });
  /** Ledger peers once the tip seen from peers passed `useLedgerAfterSlot` (0: from the start). */
  let judgement: 'youngEnough' | 'tooOld' | undefined;
  let caughtUp = false;
  function checkLedgerPeers(): void {
    const after = roots.useLedgerAfterSlot;
    const want = after !== undefined && (after <= 0 || maxTipSlotSeen >= after);
    // spo keeps no ledger: with bootstrap peers configured, the ledger state counts as too old (the
    // node syncs from its bootstrap peers) until the tip seen from peers passes useLedgerAfterSlot.
    // Once it has, it stays young enough: the reference judges the ledger's own age, which a SIGHUP
    // raising useLedgerAfterSlot does not change (that only stops new ledger peers).
    if (want) caughtUp = true;
    const j = roots.bootstrapPeers.length > 0 && after !== undefined && !caughtUp ? 'tooOld' : 'youngEnough';
    const judged = j !== judgement;
    if (judged) {
      judgement = j;
      driver.setJudgement(j);
    }
    const ledgerChanged = want !== useLedger;
    if (ledgerChanged) {
      useLedger = want;
      if (pools.length > 0) configure();
    }
    if (!judged && !ledgerChanged) return;
    // told before the governor acts on it (it steps on a later turn): whatever it does because of
    // this change comes after this line in the event stream
    emit({
      time: now(),
      event: 'ledgerState',
      judgement: j,
      sensitive: j === 'tooOld' && o.settings.consensusMode === 'praos' && roots.bootstrapPeers.length > 0,
      useLedgerPeers: ledgerOn(),
      useLedgerAfterSlot: after ?? null,
      tipSlotSeen: maxTipSlotSeen < 0 ? null : maxTipSlotSeen,
    });
  }

  // --- events from the actions, the driver, churn ---------------------------------------------
  const sourceOf = (p: Peer): PeerSourceName => (driver.state.known.has(p) ? peerSource(driver.state, p) : 'inbound');
  actions.onTrace((t: PeerStateTrace) => {
    const time = now();
    switch (t.type) {
      case 'Established':
        emit({ time, event: 'promoted', peer: t.peer, from: 'cold', to: 'warm', source: sourceOf(t.peer) });
        return;
      case 'Activated':
        emit({ time, event: 'promoted', peer: t.peer, from: 'warm', to: 'hot', source: sourceOf(t.peer) });
        return;
      case 'Deactivated':
        emit({ time, event: 'demoted', peer: t.peer, from: 'hot', to: 'warm' });
        return;
      case 'Cold':
        rtt.delete(t.peer);
        emit({
          time,
          event: 'demoted',
          peer: t.peer,
          from: 'warm',
          to: 'cold',
          ...(t.detail ? { reason: t.detail } : {}),
        });
        return;
      case 'EstablishFailed':
        emit({ time, event: 'failed', peer: t.peer, action: 'establish', error: t.detail ?? 'failed' });
        return;
      case 'ActivateFailed':
        emit({ time, event: 'failed', peer: t.peer, action: 'activate', error: t.detail ?? 'failed' });
        return;
      case 'DeactivateFailed':
        emit({ time, event: 'failed', peer: t.peer, action: 'deactivate', error: t.detail ?? 'failed' });
        return;
      default:
        return;
    }
  });
  driver.onChurn((c) => {
    if (!CHURN_KEYS.has(c.action)) return;
    churnFigures.record(c);
    emit({ time: now(), event: 'churn', action: c.action, count: c.delta });
  });

  // --- local roots ------------------------------------------------------------------------------
  let localRootsReason: 'start' | 'sighup' | 'dns' = 'start';
  const localRoots = new LocalRootsProvider(
    clock,
    rootResolver,
    rng.split(),
    (groups: LocalRootGroupConfig[]) => {
      driver.setLocalRoots(groups);
      emit({
        time: now(),
        event: 'localRoots',
        groups: groups.length,
        peers: groups.reduce((n, g) => n + g.peers.length, 0),
        reason: localRootsReason,
      });
      localRootsReason = 'dns';
    },
    names,
  );

  // --- counters, snapshot -----------------------------------------------------------------------
  const counters = (): P2PCounters => {
    const cmc = cm.counters();
    const tip = relay?.chain.tipBlock();
    return {
      // counted as the node counts them (src/metrics/peer-selection-counters.ts)
      peerSelection: { ...peerSelectionCounters(driver.state), ...churnFigures.counters() },
      connectionManager: {
        inbound: cmc['connectionManager.inboundConns'],
        outbound: cmc['connectionManager.outboundConns'],
        duplex: cmc['connectionManager.duplexConns'],
        unidirectional: cmc['connectionManager.unidirectionalConns'],
        fullDuplex: cmc['connectionManager.fullDuplexConns'],
      },
      inboundGovernor: {
        idle: cmc['inboundGovernor.idle'],
        cold: cmc['inboundGovernor.cold'],
        warm: cmc['inboundGovernor.warm'],
        hot: cmc['inboundGovernor.hot'],
      },
      ...(tip ? { tip: { blockNo: tip.blockNo, slot: tip.slot } } : {}),
    };
  };

  const ledgerState = (): NodeLedgerState => {
    const c = driver.cardano();
    const deadline = c.bootstrapPeersTimeout;
    return {
      consensusMode: c.consensusMode,
      ledgerStateJudgement: c.ledgerStateJudgement,
      useBootstrapPeers: c.useBootstrapPeers,
      sensitive: c.sensitive,
      hasOnlyBootstrapPeers: c.hasOnlyBootstrapPeers,
      bootstrapPeersDeadline: deadline === null ? null : iso(deadline),
      useLedgerPeers: ledgerOn(),
      useLedgerAfterSlot: roots.useLedgerAfterSlot ?? null,
      tipSlotSeen: maxTipSlotSeen < 0 ? null : maxTipSlotSeen,
      associationMode: c.associationMode,
      outboundConnectionsState: c.outboundConnectionsState,
      bootstrapPeers: c.bootstrapPeers,
    };
  };

  let seq = 0;
  const snapshot = (): NodeSnapshot => {
    const s = driver.state;
    const scores = metricScores(driver.metrics, driver.fetchMode()).score;
    const groupOf = new Map<Peer, number>();
    s.localRoots.groups.forEach((g, i) => {
      for (const m of g.members) groupOf.set(m, i);
    });
    const peers: PeerRow[] = [];
    const inboundByPeer = new Map<Peer, { since: Millis; connection: Connection; conn: ConnId }>();
    for (const [conn, e] of inbound) inboundByPeer.set(e.peer, { since: e.since, connection: e.connection, conn });
    for (const p of s.known.keys()) {
      const status = actions.status(p);
      const conn = actions.connectionOf(p);
      const direction: PeerDirection | undefined = conn
        ? conn.provenance === 'inbound' || conn.dataFlow === 'duplex'
          ? 'duplex'
          : 'out'
        : undefined;
      const row: PeerRow = {
        peer: p,
        source: peerSource(s, p),
        temperature: status === 'cooling' ? 'cooling' : temperature(s, p),
        since: iso(s.since.get(p) ?? startedAt),
        failCount: failCountAt(s, p, clock.now()),
      };
      const name = names.nameOf(p);
      if (name !== undefined) row.name = name;
      if (direction) row.direction = direction;
      const r = rtt.get(p);
      if (r !== undefined && conn) row.rttMs = Math.round(r * 10) / 10;
      const up = scores.get(p);
      if (up !== undefined) row.upstreamness = up;
      const hc = relay?.countsFor(p);
      if (hc && hc.headers > 0) {
        row.headers = hc.headers;
        row.headersFirst = hc.headersFirst;
      }
      const g = groupOf.get(p);
      if (g !== undefined) row.group = g;
      peers.push(row);
    }
    // peers only known from their connection to us
    const remote = cm.remoteStates();
    for (const [p, e] of inboundByPeer) {
      if (s.known.has(p)) continue;
      const st = remote.get(e.conn);
      peers.push({
        peer: p,
        direction: e.connection.dataFlow === 'duplex' ? 'duplex' : 'in',
        source: 'inbound',
        temperature: st === 'RemoteHot' ? 'hot' : st === 'RemoteWarm' ? 'warm' : 'cold',
        since: iso(e.since),
        failCount: 0,
      });
    }
    const t = relay?.chain.tipBlock();
    const tip: ChainTip | undefined = t ? { blockNo: t.blockNo, slot: t.slot, hash: hexOf(t.hash) } : undefined;
    return {
      event: 'snapshot',
      seq: ++seq,
      time: now(),
      pid: process.pid,
      listening,
      uptimeMs: Math.round(clock.now() - startedAt),
      counters: counters(),
      ...(tip ? { tip } : {}),
      ledger: ledgerState(),
      peers,
    };
  };

  // --- the tick: metrics, inbound peers for the governor ---------------------------------------
  let lastInboundPeers = -Infinity;
  let closing: Promise<void> | undefined;
  const tick = (): void => {
    const t = clock.setTimer(TICK_MS, () => {
      timers.delete(t);
      if (stopping) return;
      if (driver.critical) {
        // The bootstrap deadline passed before only trusted peers were left: the reference's
        // governor throws and the node restarts. The driver has stopped deciding, so the node says
        // why and stops instead of running on with a governor that no longer acts.
        emit({
          time: now(),
          event: 'warning',
          code: 'BOOTSTRAP_PEERS_TIMEOUT',
          message:
            'no state with only bootstrap peers and trustable local roots within 15 minutes of needing one (ledger state too old): stopping, as the node would restart',
        });
        void close(BOOTSTRAP_TIMEOUT_REASON);
        return;
      }
      o.metrics?.update(counters());
      // per-peer figures of peers the governor forgot go too (bounded memory under churn)
      if (relay) for (const p of relay.peers()) if (!driver.state.known.has(p)) relay.forget(p);
      for (const p of rtt.keys()) if (!driver.state.known.has(p)) rtt.delete(p);
      if (clock.now() - lastInboundPeers >= INBOUND_PEERS_EVERY_MS) {
        lastInboundPeers = clock.now();
        // mature inbound duplex peers, with the sharing flag they negotiated
        const mature = new Set(cm.matureDuplexPeers().map((a) => formatEndpoint({ host: a.address, port: a.port })));
        const list: Array<[Peer, boolean]> = [];
        for (const e of inbound.values())
          if (mature.has(e.peer)) list.push([e.peer, e.connection.versionData.peerSharing === 1]);
        if (list.length > 0) driver.setInboundPeers(list);
      }
      tick();
    });
    timers.add(t);
  };

  // --- start ------------------------------------------------------------------------------------
  emit({
    time: now(),
    event: 'started',
    listening,
    network: o.network,
    magic: o.magic,
    role: o.role,
    ...(o.metricsUrl ? { metrics: o.metricsUrl } : {}),
    ...(o.controlPath ? { control: o.controlPath } : {}),
  });
  checkLedgerPeers();
  configure();
  driver.setTargets(o.settings.targets);
  localRoots.configure(roots.localRoots);
  o.metrics?.update(counters());
  tick();
  if (relay && o.mint && o.mint.intervalMs > 0) {
    const { intervalMs, phaseMs } = o.mint;
    const issuer = issuerOf(self);
    /** With a phase: from `delay` on, to the next wall-clock time ≡ phase (mod interval). */
    const aligned = (delay: Millis): Millis => {
      if (phaseMs === undefined) return delay;
      const at = wall() + delay;
      return delay + ((((phaseMs - at) % intervalMs) + intervalMs) % intervalMs);
    };
    const mintOnce = (delay: Millis): void => {
      const t = clock.setTimer(aligned(delay), () => {
        timers.delete(t);
        if (stopping) return;
        // slots are wall-clock seconds, as on a real network: producers taking turns never collide
        const tipSlot = relay.chain.tipBlock()?.slot ?? -1;
        const slot = Math.max(tipSlot + 1, Math.floor(wall() / 1000));
        relay.mint(slot, issuer, clock.now());
        // aligned: half an interval on, the next due time (a late timer does not skip a turn)
        mintOnce(phaseMs === undefined ? intervalMs : intervalMs / 2);
      });
      timers.add(t);
    };
    mintOnce(o.mint.offsetMs ?? intervalMs);
  }

  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => {
    resolveClosed = r;
  });
  const close = (reason = 'requested'): Promise<void> => {
    stopping = true;
    closing ??= (async () => {
      for (const t of timers) t.cancel();
      timers.clear();
      localRoots.stop();
      driver.stop();
      o.metrics?.update(counters());
      // listening sockets first (nothing new comes in), then every connection: the manager closes
      // them in order (MsgDone where a client is idle, FIN; reset only after the limit), then
      // the peer state actions let go of what is left
      await server?.close();
      await cm.close(CLOSE_LIMIT_MS);
      await actions.stop();
      emit({ time: now(), event: 'stopped', reason });
      resolveClosed();
    })();
    return closing;
  };
  if (o.signal) {
    if (o.signal.aborted) void close('aborted');
    else o.signal.addEventListener('abort', () => void close('signal'), { once: true });
  }
  // an accept error that ends the server ends the node
  server?.done.catch((e: unknown) => {
    emit({ time: now(), event: 'warning', code: 'ACCEPT_FAILED', message: String((e as Error).message ?? e) });
    void close('accept failed');
  });

  return {
    listening,
    port: server?.port ?? 0,
    events,
    driver,
    cm,
    snapshot,
    counters,
    reloadTopology(topology: Topology): void {
      if (stopping) return;
      roots = topologyRoots(topology);
      noteNames();
      publicConfig.publicRoots = roots.publicRoots;
      publicConfig.bootstrapPeers = roots.bootstrapPeers;
      checkLedgerPeers();
      configure();
      localRootsReason = 'sighup';
      localRoots.configure(roots.localRoots);
    },
    close,
    closed,
  };
}
