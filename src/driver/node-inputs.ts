/**
 * What a node's configuration files mean to the governor: the targets of a cardano-node
 * configuration (`TargetNumberOf*`, `SyncTargetNumberOf*`, `ConsensusMode`, `PeerSharing`), the
 * roots of a topology (local-root groups, public roots, bootstrap peers, `useLedgerAfterSlot`), and
 * peer ids (`host:port`). The dry run, the topology generator and the live node read them the same
 * way; nothing here reads a file.
 */
import {
  type ConsensusMode,
  type LocalRootGroupConfig,
  type Peer,
  RELAY_DEFAULT_TARGETS,
  type RootPeerResult,
  SYNC_DEFAULT_TARGETS,
  type Targets,
} from '../governor/types.js';
import type { AccessPoint, Topology } from '../topology/model.js';

/** cardano-node configuration keys for the targets (`POM.hs`). */
export const TARGET_KEYS: Readonly<Record<keyof Targets, string>> = {
  root: 'TargetNumberOfRootPeers',
  known: 'TargetNumberOfKnownPeers',
  established: 'TargetNumberOfEstablishedPeers',
  active: 'TargetNumberOfActivePeers',
  knownBigLedger: 'TargetNumberOfKnownBigLedgerPeers',
  establishedBigLedger: 'TargetNumberOfEstablishedBigLedgerPeers',
  activeBigLedger: 'TargetNumberOfActiveBigLedgerPeers',
};

/** Genesis sync targets (`SyncTargetNumberOf*`, newer `POM.hs`). */
export const SYNC_TARGET_KEYS: Readonly<Record<keyof Targets, string>> = {
  root: 'SyncTargetNumberOfRootPeers',
  known: 'SyncTargetNumberOfKnownPeers',
  established: 'SyncTargetNumberOfEstablishedPeers',
  active: 'SyncTargetNumberOfActivePeers',
  knownBigLedger: 'SyncTargetNumberOfKnownBigLedgerPeers',
  establishedBigLedger: 'SyncTargetNumberOfEstablishedBigLedgerPeers',
  activeBigLedger: 'SyncTargetNumberOfActiveBigLedgerPeers',
};

export interface NodeConfigTargets {
  targets: Targets;
  /** Genesis sync targets: `SyncTargetNumberOf*`, defaults `SYNC_DEFAULT_TARGETS`. */
  syncTargets: Targets;
  /** `ConsensusMode` (`PraosMode` / `GenesisMode`), when set. */
  consensusMode?: ConsensusMode;
  /** The keys that were present (the others took the relay defaults). */
  found: string[];
  /** Keys present but not non-negative integers. */
  invalid: string[];
  /** `PeerSharing`, when set. */
  peerSharing?: boolean;
}

/** Reads the TargetNumberOf* keys of a parsed node configuration; missing keys take the relay defaults. */
export function targetsFromNodeConfig(doc: Record<string, unknown>): NodeConfigTargets {
  const targets: Targets = { ...RELAY_DEFAULT_TARGETS };
  const found: string[] = [];
  const invalid: string[] = [];
  for (const [k, key] of Object.entries(TARGET_KEYS) as Array<[keyof Targets, string]>) {
    if (!(key in doc)) continue;
    const v = doc[key];
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) {
      targets[k] = v;
      found.push(key);
    } else invalid.push(key);
  }
  const syncTargets: Targets = { ...SYNC_DEFAULT_TARGETS };
  for (const [k, key] of Object.entries(SYNC_TARGET_KEYS) as Array<[keyof Targets, string]>) {
    if (!(key in doc)) continue;
    const v = doc[key];
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) {
      syncTargets[k] = v;
    } else invalid.push(key);
  }
  const cm = doc.ConsensusMode;
  const ps = doc.PeerSharing;
  return {
    targets,
    syncTargets,
    ...(cm === 'GenesisMode'
      ? { consensusMode: 'genesis' as const }
      : cm === 'PraosMode'
        ? { consensusMode: 'praos' as const }
        : {}),
    found,
    invalid,
    ...(typeof ps === 'boolean' ? { peerSharing: ps } : ps === 'PeerSharingEnabled' ? { peerSharing: true } : {}),
    ...(ps === 'PeerSharingDisabled' ? { peerSharing: false } : {}),
  };
}

/** A relay as a peer id: `host:port`, `[v6]:port`; an SRV name stays a bare name. */
export function relayPeer(relay: { kind: string; host: string; port?: number | undefined }): Peer {
  if (relay.kind === 'srv') return relay.host;
  const port = relay.port ?? 3001;
  return relay.kind === 'ipv6' ? `[${relay.host}]:${port}` : `${relay.host}:${port}`;
}

/** Splits a peer id into address and port (null for an SRV name). */
export function splitPeer(peer: Peer): { address: string; port: number | null } {
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(peer);
  if (v6) return { address: v6[1] as string, port: Number(v6[2]) };
  const m = /^(.*):(\d+)$/.exec(peer);
  if (m) return { address: m[1] as string, port: Number(m[2]) };
  return { address: peer, port: null };
}

/** The roots of a topology, as governor inputs. */
export interface TopologyRoots {
  localRoots: LocalRootGroupConfig[];
  publicRoots: RootPeerResult[];
  /** `bootstrapPeers` (empty: disabled). */
  bootstrapPeers: RootPeerResult[];
  /** undefined: do not use ledger peers; n: use them once the ledger tip slot >= n. */
  useLedgerAfterSlot: number | undefined;
}

/** A topology access point as a peer id (`host:port`, `[v6]:port`; an SRV name stays bare). */
export function accessPointPeer(ap: AccessPoint): Peer {
  return relayPeer({ kind: ap.kind, host: ap.address, ...(ap.port === undefined ? {} : { port: ap.port }) });
}

/**
 * The roots of a topology (any format, as src/topology parses it). Bootstrap peers are only used in
 * the bootstrap "sensitive" state (Praos, ledger state too old).
 */
export function topologyRoots(t: Topology): TopologyRoots {
  const localRoots: LocalRootGroupConfig[] = t.localRoots.map((g) => ({
    hotValency: g.hotValency,
    warmValency: g.warmValency,
    peers: g.accessPoints.map((ap) => ({
      peer: accessPointPeer(ap),
      config: {
        advertise: g.advertise,
        trustable: g.trustable,
        behindFirewall: g.behindFirewall,
        diffusionMode: g.diffusionMode,
      },
    })),
  }));
  const publicRoots: RootPeerResult[] = t.publicRoots.flatMap((g) =>
    g.accessPoints.map((ap) => ({ peer: accessPointPeer(ap), kind: 'public-root' as const, advertise: g.advertise })),
  );
  const bootstrapPeers: RootPeerResult[] = (t.bootstrapPeers ?? []).map((ap) => ({
    peer: accessPointPeer(ap),
    kind: 'bootstrap' as const,
    advertise: false,
  }));
  const lp = t.ledgerPeers;
  return {
    localRoots,
    publicRoots,
    bootstrapPeers,
    useLedgerAfterSlot: lp.mode === 'never' ? undefined : lp.mode === 'always' ? 0 : lp.slot,
  };
}
