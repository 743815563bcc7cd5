/**
 * Topology generation for a stake pool's own machines. Producer files are safe by construction:
 * only the operator's relays, as one trustable local root group that is not advertised, no public
 * roots, no ledger peers, no bootstrap peers. Relay files hold the producer (trustable, not
 * advertised), the pool's other relays as a second group, the network preset (bootstrap peers,
 * useLedgerAfterSlot, optionally a peer snapshot) and public roots drawn from the registry with the
 * governor's ledger-peer picking. Pure: registry, RNG and probe results are passed in.
 */

import { DEFAULT_DEADLINE_TARGETS, DEFAULT_PEER_SHARING, type PeerTargets, toNodeConfigKeys } from '../config/index.js';
import { type LedgerPool, pickLedgerPeers } from '../governor/ledger-peers.js';
import type { Rng } from '../governor/rng.js';
import { hostKind, isValidHostname, srvQueryName } from '../lib/address.js';
import { InputError } from '../lib/errors.js';
import type { NetworkName } from '../lib/networks.js';
import { isUsable, type Pool, type Relay } from '../registry/model.js';
import { type AccessPoint, endpointKey, type LocalRootGroup, ledgerPeersFromSlot, type Topology } from './model.js';

export type Role = 'relay' | 'producer';

/** What each public network's official topology carries (cardano-node / cardano-playground files). */
export interface NetworkTopologyPreset {
  bootstrapPeers: Array<{ address: string; port: number }>;
  useLedgerAfterSlot: number;
}

export const TOPOLOGY_PRESETS: Readonly<Record<NetworkName, NetworkTopologyPreset>> = {
  // cardano-node configuration/cardano/mainnet-topology.json (2026-05)
  mainnet: {
    bootstrapPeers: [
      { address: 'backbone.cardano.iog.io', port: 3001 },
      { address: 'backbone.mainnet.cardanofoundation.org', port: 3001 },
      { address: 'backbone.mainnet.emurgornd.com', port: 3001 },
    ],
    useLedgerAfterSlot: 185500763,
  },
  // cardano-playground docs/environments/preprod/topology.json (2026-02)
  preprod: {
    bootstrapPeers: [{ address: 'preprod-node.play.dev.cardano.org', port: 3001 }],
    useLedgerAfterSlot: 112406400,
  },
  // cardano-playground docs/environments/preview/topology.json (2026-02)
  preview: {
    bootstrapPeers: [{ address: 'preview-node.play.dev.cardano.org', port: 3001 }],
    useLedgerAfterSlot: 102729600,
  },
  // No SanchoNet file in our references: ledger peers from the start, the playground's node as bootstrap peer.
  sanchonet: {
    bootstrapPeers: [{ address: 'sanchonet-node.play.dev.cardano.org', port: 3001 }],
    useLedgerAfterSlot: 0,
  },
};

export interface GenerateInput {
  role: Role;
  /** The block producer(s) (relay role). */
  producers: AccessPoint[];
  /** The operator's relays: all of them for a producer; the other relays of the pool for a relay. */
  relays: AccessPoint[];
  /** Preset network, or 'custom' (no bootstrap peers; ledger peers from slot 0). */
  network: NetworkName | 'custom';
  /** Public roots for a relay (from choosePublicRoots). */
  publicRoots?: AccessPoint[];
  /** peerSnapshotFile to reference (relay role; the file is written by the caller). */
  peerSnapshotFile?: string | undefined;
}

/** Parses a `--producer` / `--relay` value to an access point (IP, name, or `_` SRV name). */
export function accessPointFromText(
  text: string,
  defaultPort: number,
  parse: (t: string, p: number) => { host: string; port: number },
): AccessPoint {
  const t = text.trim();
  if (t.startsWith('_')) {
    // An SRV name carries no port (its records name hosts and ports); the node would look a
    // name given with a port up as A/AAAA, which SRV names do not have.
    const withPort = /^(.+):(\d+)$/.exec(t);
    if (withPort)
      throw new InputError('BAD_ADDRESS', `invalid address "${text}": an SRV name takes no port`, {
        hint: `give ${withPort[1]} alone: its SRV records name the relays and their ports`,
      });
    if (!isValidHostname(t))
      throw new InputError('BAD_ADDRESS', `invalid address "${text}": "${t}" is not a valid SRV name`, {
        hint: 'an SRV name looks like _cardano._tcp.relays.example.com',
      });
    return { address: t.toLowerCase(), kind: 'srv' };
  }
  const e = parse(t, defaultPort);
  const kind = hostKind(e.host);
  return { address: e.host, port: e.port, kind: kind === 'srv' ? 'dns' : kind };
}

function group(accessPoints: AccessPoint[], trustable: boolean): LocalRootGroup {
  return {
    accessPoints,
    advertise: false,
    trustable,
    hotValency: accessPoints.length,
    warmValency: accessPoints.length,
    warmValencySet: false,
    behindFirewall: false,
    diffusionMode: 'InitiatorAndResponder',
  };
}

function dedupe(aps: AccessPoint[]): AccessPoint[] {
  const seen = new Set<string>();
  return aps.filter((a) => {
    const k = endpointKey(a);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * A relay's network preset alone (bootstrap peers, useLedgerAfterSlot; no local or public roots):
 * what every generated relay file starts from, and what `spo run` runs on without a topology.
 */
export function presetRelayTopology(network: NetworkName | 'custom'): Topology {
  const preset = network === 'custom' ? undefined : TOPOLOGY_PRESETS[network];
  const slot = preset?.useLedgerAfterSlot ?? 0;
  return {
    localRoots: [],
    publicRoots: [],
    useLedgerAfterSlot: slot,
    ledgerPeers: ledgerPeersFromSlot(slot),
    bootstrapPeers: preset ? preset.bootstrapPeers.map((b) => ({ ...b, kind: 'dns' as const })) : null,
  };
}

/** Builds the topology; throws a InputError when the inputs cannot make a sound file. */
export function generateTopology(input: GenerateInput): Topology {
  const relays = dedupe(input.relays);
  const producers = dedupe(input.producers);
  if (input.role === 'producer') {
    if (relays.length === 0)
      throw new InputError('TOPOLOGY_NO_RELAYS', 'a block producer needs its relays: none given', {
        hint: 'give each relay with --relay HOST:PORT',
      });
    // Safe by construction: nothing but the operator's relays, nothing advertised, nothing learned.
    return {
      localRoots: [group(relays, true)],
      publicRoots: [],
      useLedgerAfterSlot: -1,
      ledgerPeers: { mode: 'never' },
      bootstrapPeers: null,
    };
  }
  if (producers.length === 0)
    throw new InputError('TOPOLOGY_NO_PRODUCER', 'a relay needs the address of its block producer: none given', {
      hint: 'give it with --producer HOST:PORT',
    });
  const producerKeys = new Set(producers.map(endpointKey));
  const clash = relays.find((r) => producerKeys.has(endpointKey(r)));
  if (clash)
    throw new InputError('TOPOLOGY_PRODUCER_IS_RELAY', `${clash.address} is given both as producer and as relay`, {
      hint: 'a machine is either the block producer or a relay',
    });
  const localRoots = [group(producers, true)];
  if (relays.length > 0) localRoots.push(group(relays, true));
  const localKeys = new Set([...producers, ...relays].map(endpointKey));
  const publicAps = dedupe(input.publicRoots ?? []).filter((a) => !localKeys.has(endpointKey(a)));
  const t: Topology = {
    ...presetRelayTopology(input.network),
    localRoots,
    // No empty group when no public root was drawn (--public-roots 0, no registry): [] says it plainly.
    publicRoots: publicAps.length > 0 ? [{ accessPoints: publicAps, advertise: false }] : [],
  };
  if (input.peerSnapshotFile !== undefined) t.peerSnapshotFile = input.peerSnapshotFile;
  return t;
}

/** A registry relay as a topology access point (SRV names carry their CIP-0155 prefix in topologies). */
export function relayToAccessPoint(r: Relay, defaultPort: number): AccessPoint {
  if (r.kind === 'srv') return { address: srvQueryName(r.host), kind: 'srv' };
  return { address: r.host, port: r.port ?? defaultPort, kind: r.kind };
}

export interface PublicRootCandidate {
  pool: string;
  ticker?: string;
  stake: number;
  accessPoint: AccessPoint;
}

/**
 * Draws public root candidates with the governor's ledger-peer picking (square-root stake weighting,
 * one relay per pool), repeating draws until `count` distinct pools are found or the rounds run out.
 * Unusable relays (private, loopback...) and the operator's own endpoints are never candidates.
 */
export function choosePublicRoots(
  pools: readonly Pool[],
  count: number,
  rng: Rng,
  options: { exclude?: AccessPoint[]; defaultPort: number; maxRounds?: number },
): PublicRootCandidate[] {
  if (count <= 0) return [];
  const exclude = new Set((options.exclude ?? []).map(endpointKey));
  const eligible: LedgerPool<Relay>[] = [];
  const byId = new Map<string, Pool>();
  for (const p of pools) {
    if (p.status === 'retired') continue;
    const relays = p.relays.filter(
      (r) => isUsable(r) && !exclude.has(endpointKey(relayToAccessPoint(r, options.defaultPort))),
    );
    if (relays.length === 0) continue;
    eligible.push({ id: p.id, ...(p.stake === undefined ? {} : { stake: p.stake }), relays });
    byId.set(p.id, p);
  }
  const chosen = new Map<string, PublicRootCandidate>();
  const rounds = options.maxRounds ?? 50;
  for (let round = 0; round < rounds && chosen.size < count; round++) {
    const remaining = eligible.filter((p) => !chosen.has(p.id));
    if (remaining.length === 0) break;
    for (const pick of pickLedgerPeers(remaining, count - chosen.size, rng)) {
      if (chosen.has(pick.poolId) || chosen.size >= count) continue;
      const pool = byId.get(pick.poolId);
      chosen.set(pick.poolId, {
        pool: pick.poolId,
        ...(pool?.ticker === undefined ? {} : { ticker: pool.ticker }),
        stake: pick.stake,
        accessPoint: relayToAccessPoint(pick.relay, options.defaultPort),
      });
    }
  }
  return [...chosen.values()];
}

/**
 * With --probe: keeps the candidates that answered, lowest RTT first, still one per pool (the
 * candidates already are), at most `count`.
 */
export function rankByProbe(
  candidates: readonly PublicRootCandidate[],
  rttByEndpoint: ReadonlyMap<string, number | undefined>,
  count: number,
): PublicRootCandidate[] {
  return candidates
    .filter((c) => rttByEndpoint.get(endpointKey(c.accessPoint)) !== undefined)
    .sort(
      (a, b) =>
        (rttByEndpoint.get(endpointKey(a.accessPoint)) as number) -
        (rttByEndpoint.get(endpointKey(b.accessPoint)) as number),
    )
    .slice(0, count);
}

/**
 * The peer-to-peer settings that go with the generated file (ecosystem.md §3.3): a block producer
 * shares nothing and aims only at its relays; a relay takes the node defaults, with room for all
 * its local roots and one active peer beyond its hot local roots.
 */
export function recommendedNodeSettings(role: Role, t: Topology): { peerSharing: boolean; targets: PeerTargets } {
  const hot = t.localRoots.reduce((s, g) => s + g.hotValency, 0);
  const local = t.localRoots.reduce((s, g) => s + g.accessPoints.length, 0);
  if (role === 'producer') {
    return {
      peerSharing: false,
      targets: {
        root: Math.max(local, 1),
        known: Math.max(local, 1),
        established: Math.max(local, 1),
        active: Math.max(hot, 1),
        knownBigLedger: 0,
        establishedBigLedger: 0,
        activeBigLedger: 0,
      },
    };
  }
  const d = DEFAULT_DEADLINE_TARGETS.relay;
  return {
    peerSharing: DEFAULT_PEER_SHARING.relay,
    targets: { ...d, known: Math.max(d.known, local), active: Math.max(d.active, hot + 1) },
  };
}

/** The node configuration keys that go with the generated file, written by src/config. */
export function nodeConfigKeys(role: Role, t: Topology): Record<string, number | boolean> {
  return toNodeConfigKeys(recommendedNodeSettings(role, t));
}
