/**
 * Root peers as the node gets them (governor.md §6.2-6.4): names in the topology and in the ledger
 * are resolved before they become peers. A resolver is a parameter (src/dns for the live node, a
 * deterministic fake for the dry run and the tests), so nothing here does I/O.
 *
 * - An access point is `host:port` (a DNS name or an IP literal) or a bare SRV name. IP literals
 *   are used as they are (TTL 900 s); a name becomes all its A/AAAA addresses with the SRV or
 *   topology port; an SRV name follows the node's rule (targets "." dropped, the lowest priority
 *   kept, one target drawn by weight, its addresses with the SRV port, the SRV record's TTL).
 * - TTLs are clipped to [60, 900] s (`minTTL`, `maxTTL`).
 * - Local roots (`LocalRootsProvider`): one loop per name; the name is replaced in its group by all
 *   its addresses (same configuration), the groups are published when they changed, and the name is
 *   looked up again after the answer's TTL (60 s after an empty answer), 900 s after NXDOMAIN, and
 *   after clip(2·previous wait + 5 s) after any other failure, the previous wait being whatever the
 *   loop waited last (0 at the start: a name failing from the start is retried after 60, 125, 255,
 *   515, 900 s ...; after an answer with TTL t, the first failure waits clip(2·t + 5 s)).
 * - Public roots (`PublicRootPeers`, a `RootPeerSource`): ledger peers first, one address per name
 *   drawn uniformly, TTL 5 s; only when the ledger gives nothing the topology's public roots, all
 *   addresses, TTL the largest of the answers (all lookups failed: nothing, TTL 60 s, so the governor
 *   backs off); the configured bootstrap peers instead of both in the sensitive state.
 * - Big ledger peers (`BigLedgerPeers`, a `BigLedgerPeerSource`): as ledger peers, one address per
 *   name, TTL 5 s.
 * - `PeerNames` remembers which name each address came from, for reports (the governor itself only
 *   ever sees addresses).
 */
import type { Rng } from '../governor/rng.js';
import type { LocalRootGroupConfig, Peer, RootPeerResult } from '../governor/types.js';
import type { Clock, Millis, Timer } from '../lib/clock.js';
import type { BigLedgerPeerSource, RootPeerSource, RootPeersAnswer } from './actions.js';
import { splitPeer } from './node-inputs.js';
import { SyncResult } from './sync-result.js';

/** A/AAAA answer: the addresses and the answer's TTL as received (seconds, not yet clipped). */
export interface AddressAnswer {
  addresses: string[];
  ttlS: number;
}

export interface SrvRecord {
  target: string;
  port: number;
  priority: number;
  weight: number;
}

export interface SrvAnswer {
  records: SrvRecord[];
  ttlS: number;
}

/**
 * Name resolution as root peers need it. A rejection whose `code` is `DNS_NXDOMAIN` means the name
 * does not exist (looked up again after 900 s); any other rejection is a failure (backed off).
 */
/**
 * Name resolution for root peers. Every lookup must settle: the implementation enforces its own
 * timeout (spo's DNS client does, per attempt and overall); a lookup that never settled would
 * stop that name's re-resolution loop until the next configuration.
 */
export interface RootPeerResolver {
  resolveAddresses(name: string): PromiseLike<AddressAnswer>;
  resolveSrv(name: string): PromiseLike<SrvAnswer>;
}

export const MIN_TTL_MS: Millis = 60_000;
export const MAX_TTL_MS: Millis = 900_000;
/** Literal IP addresses are good for the longest TTL. */
export const LITERAL_TTL_MS: Millis = MAX_TTL_MS;
/** A name that does not exist is looked up again after this long. */
export const NXDOMAIN_RETRY_MS: Millis = 900_000;
/** Ledger peers are asked for again soon while the governor is below target. */
export const LEDGER_PEERS_TTL_MS: Millis = 5_000;

export const clipTtlMs = (ttlS: number): Millis => Math.min(MAX_TTL_MS, Math.max(MIN_TTL_MS, ttlS * 1000));

/** The next wait after a failure that is not NXDOMAIN: clip(2·previous + 5 s). */
export const errorRetryMs = (previousMs: Millis): Millis =>
  Math.min(MAX_TTL_MS, Math.max(MIN_TTL_MS, 2 * previousMs + 5_000));

const isNxDomain = (e: unknown): boolean =>
  !!e && typeof e === 'object' && (e as { code?: unknown }).code === 'DNS_NXDOMAIN';

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** Whether an access point is an IP literal (`1.2.3.4:3001`, `[2001:db8::1]:3001`). */
export function isLiteralPeer(peer: Peer): boolean {
  if (peer.startsWith('[')) return true;
  const { address, port } = splitPeer(peer);
  return port !== null && IPV4.test(address);
}

const peerOf = (address: string, port: number): Peer =>
  address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;

/** The node's SRV rule: drop ".", keep the lowest priority, draw one target by weight. */
export function pickSrvTarget(records: readonly SrvRecord[], rng: Rng): SrvRecord | undefined {
  const usable = records.filter((r) => r.target !== '.' && r.target !== '');
  if (usable.length === 0) return undefined;
  const lowest = Math.min(...usable.map((r) => r.priority));
  const group = usable.filter((r) => r.priority === lowest);
  if (group.length === 1) return group[0];
  const total = group.reduce((n, r) => n + r.weight, 0);
  if (total <= 0) return group[rng.int(group.length)];
  const point = rng.next() * total;
  let acc = 0;
  for (const r of group) {
    acc += r.weight;
    if (point < acc) return r;
  }
  return group[group.length - 1];
}

/** What an access point resolved to. */
export interface Resolved {
  peers: Peer[];
  ttlMs: Millis;
}

/**
 * The name each resolved address came from (the host of `name:port`, or the SRV name), so that a
 * report can show an operator's own names beside the addresses the governor works with. The latest
 * resolution wins when two names give the same address.
 */
export class PeerNames {
  private readonly names = new Map<Peer, string>();

  record(name: string, peers: readonly Peer[]): void {
    for (const p of peers) this.names.set(p, name);
  }

  /** The name `peer` was resolved from; undefined for an address that came as an address. */
  nameOf(peer: Peer): string | undefined {
    return this.names.get(peer);
  }
}

/** Resolves one access point (IP literal, `name:port` or SRV name) to peers. */
export function resolveAccessPoint(
  resolver: RootPeerResolver,
  peer: Peer,
  rng: Rng,
  names?: PeerNames,
): PromiseLike<Resolved> {
  if (isLiteralPeer(peer)) return SyncResult.resolved({ peers: [peer], ttlMs: LITERAL_TTL_MS });
  const { address, port } = splitPeer(peer);
  const named = (r: Resolved): Resolved => {
    names?.record(address, r.peers);
    return r;
  };
  if (port !== null)
    return resolver
      .resolveAddresses(address)
      .then((a) => named({ peers: a.addresses.map((x) => peerOf(x, port)), ttlMs: clipTtlMs(a.ttlS) }));
  return resolver.resolveSrv(address).then((srv) => {
    const pick = pickSrvTarget(srv.records, rng);
    if (!pick) return { peers: [], ttlMs: clipTtlMs(srv.ttlS) };
    return resolver
      .resolveAddresses(pick.target)
      .then((a) => named({ peers: a.addresses.map((x) => peerOf(x, pick.port)), ttlMs: clipTtlMs(srv.ttlS) }));
  });
}

/**
 * Ledger relays (ordinary or big) as the node's ledger-peers worker resolves them: each name to one
 * of its addresses, drawn uniformly (no draw when there is only one); names that fail are left out.
 */
export function resolveOnePerName(
  resolver: RootPeerResolver,
  rng: Rng,
  relays: readonly Peer[],
  names?: PeerNames,
): PromiseLike<Peer[]> {
  return SyncResult.all(relays.map((r) => resolveAccessPoint(resolver, r, rng, names))).then((results) => {
    const peers: Peer[] = [];
    for (const r of results) {
      if (!r || r.peers.length === 0) continue;
      peers.push(r.peers.length === 1 ? (r.peers[0] as Peer) : (r.peers[rng.int(r.peers.length)] as Peer));
    }
    return peers;
  });
}

/**
 * Keeps the local-root groups resolved (§6.2): literal addresses as they are, every name replaced
 * by its addresses and looked up again on its own schedule; `publish` gets the groups each time
 * they change (the governor's `localRoots` input).
 */
export class LocalRootsProvider {
  private groups: readonly LocalRootGroupConfig[] = [];
  /** The current addresses of each name (undefined: not resolved yet). */
  private readonly resolved = new Map<Peer, Peer[]>();
  /** Each name's next lookup (one pending timer per name). */
  private readonly timers = new Map<Peer, Timer>();
  private generation = 0;
  private lastPublished = '';

  constructor(
    private readonly clock: Clock,
    private readonly resolver: RootPeerResolver,
    private readonly rng: Rng,
    private readonly publish: (groups: LocalRootGroupConfig[]) => void,
    private readonly names?: PeerNames,
  ) {}

  /** A new configuration: every name's loop restarts (the first lookup at once). */
  configure(groups: readonly LocalRootGroupConfig[]): void {
    this.generation++;
    this.cancelTimers();
    this.groups = groups;
    this.resolved.clear();
    this.lastPublished = '';
    const names = new Set<Peer>();
    for (const g of groups) for (const { peer } of g.peers) if (!isLiteralPeer(peer)) names.add(peer);
    this.emit();
    for (const name of names) this.lookup(name, this.generation, 0);
  }

  /** Ends every name's loop (a lookup in flight is ignored when it answers). */
  stop(): void {
    this.generation++;
    this.cancelTimers();
  }

  private cancelTimers(): void {
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
  }

  /** One lookup of `name`; `previousWaitMs` is how long the loop waited before it (0 the first time). */
  private lookup(name: Peer, gen: number, previousWaitMs: Millis): void {
    const again = (after: Millis) => {
      if (gen !== this.generation) return;
      this.timers.set(
        name,
        this.clock.setTimer(after, () => {
          this.timers.delete(name);
          this.lookup(name, gen, after);
        }),
      );
    };
    resolveAccessPoint(this.resolver, name, this.rng, this.names).then(
      (r) => {
        if (gen !== this.generation) return;
        this.resolved.set(name, r.peers);
        this.emit();
        again(r.peers.length === 0 ? MIN_TTL_MS : r.ttlMs);
      },
      (e) => {
        if (gen !== this.generation) return;
        if (isNxDomain(e)) {
          // The name is gone: its addresses leave the group until it comes back.
          this.resolved.set(name, []);
          this.emit();
          again(NXDOMAIN_RETRY_MS);
          return;
        }
        // Any other failure keeps the last addresses and backs off from the last wait.
        again(errorRetryMs(previousWaitMs));
      },
    );
  }

  /** The groups with every name replaced by its current addresses. */
  current(): LocalRootGroupConfig[] {
    return this.groups.map((g) => ({
      ...g,
      peers: g.peers.flatMap((p) =>
        isLiteralPeer(p.peer) ? [p] : (this.resolved.get(p.peer) ?? []).map((peer) => ({ ...p, peer })),
      ),
    }));
  }

  private emit(): void {
    const groups = this.current();
    const key = JSON.stringify(groups);
    if (key === this.lastPublished) return;
    this.lastPublished = key;
    this.publish(groups);
  }
}

export interface PublicRootsConfig {
  /** Topology `publicRoots` (access points), used only when the ledger gives no peers. */
  publicRoots: readonly RootPeerResult[];
  /** Topology `bootstrapPeers`, used instead in the bootstrap sensitive state. */
  bootstrapPeers: readonly RootPeerResult[];
  /** Ledger peers: up to `count` relay access points drawn from the stake distribution (none when off). */
  ledgerPeers: (count: number) => Peer[];
}

/**
 * The governor's root-peer requests answered as the node does (§6.4), with every name resolved:
 * ledger peers (one address per name, drawn uniformly; TTL 5 s), else the topology public roots
 * (all addresses; the largest TTL; nothing and 60 s when every lookup failed), or the bootstrap
 * peers in the sensitive state.
 */
export class PublicRootPeers implements RootPeerSource {
  constructor(
    private readonly resolver: RootPeerResolver,
    private readonly rng: Rng,
    private readonly config: PublicRootsConfig,
    private readonly names?: PeerNames,
  ) {}

  requestRootPeers(count: number, options: { bootstrap: boolean }): PromiseLike<RootPeersAnswer<RootPeerResult>> {
    // The configured bootstrap peers are bootstrap peers, never advertised (§2.9), whatever the entries say.
    if (options.bootstrap)
      return this.resolveAll(
        this.config.bootstrapPeers.map((p) => ({ ...p, kind: 'bootstrap' as const, advertise: false })),
      );
    const ledger = this.config.ledgerPeers(count);
    if (ledger.length > 0) return this.resolveLedger(ledger);
    return this.resolveAll(this.config.publicRoots);
  }

  private resolveLedger(relays: Peer[]): PromiseLike<RootPeersAnswer<RootPeerResult>> {
    return resolveOnePerName(this.resolver, this.rng, relays, this.names).then((peers) => ({
      peers: peers.map((peer) => ({ peer, kind: 'ledger' as const, advertise: false })),
      ttlMs: LEDGER_PEERS_TTL_MS,
    }));
  }

  private resolveAll(points: readonly RootPeerResult[]): PromiseLike<RootPeersAnswer<RootPeerResult>> {
    return SyncResult.all(points.map((p) => resolveAccessPoint(this.resolver, p.peer, this.rng, this.names))).then(
      (results) => {
        const peers: RootPeerResult[] = [];
        let ttlMs: Millis | undefined;
        results.forEach((r, i) => {
          if (!r) return;
          const point = points[i] as RootPeerResult;
          for (const peer of r.peers) peers.push({ ...point, peer });
          ttlMs = Math.max(ttlMs ?? 0, r.ttlMs);
        });
        return { peers, ttlMs: ttlMs ?? MIN_TTL_MS };
      },
    );
  }
}

/** Big ledger peers with their names resolved: one address per name, drawn uniformly; TTL 5 s (§6.4). */
export class BigLedgerPeers implements BigLedgerPeerSource {
  constructor(
    private readonly resolver: RootPeerResolver,
    private readonly rng: Rng,
    /** Up to `count` big ledger relay access points drawn from the stake distribution (none when off). */
    private readonly bigLedgerPeers: (count: number) => Peer[],
    private readonly names?: PeerNames,
  ) {}

  requestBigLedgerPeers(count: number): PromiseLike<RootPeersAnswer<Peer>> {
    return resolveOnePerName(this.resolver, this.rng, this.bigLedgerPeers(count), this.names).then((peers) => ({
      peers,
      ttlMs: LEDGER_PEERS_TTL_MS,
    }));
  }
}
