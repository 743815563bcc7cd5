/**
 * One model of a cardano-node topology file, whatever format it was written in (legacy
 * `Producers`, the early grouped P2P format, the flat P2P format with its later additions).
 * Values are the ones the node uses after applying its own defaults (ecosystem.md §3.2,
 * cardano-node `TopologyP2P.hs`, ouroboros-network `RelayAccessPoint.hs`). Pure types.
 */

/** The shapes the node has accepted over the years (ecosystem.md §3.1). */
export type TopologyFormat =
  /** non-P2P: `{"Producers": [{addr, port, valency}]}` (refused since node 10.6) */
  | 'legacy-producers'
  /** 1.33-1.35: `{"LocalRoots": {"groups": [...]}, "PublicRoots": [...]}` (no longer accepted) */
  | 'early-p2p'
  /** 1.35.6 onwards: flat `localRoots` / `publicRoots` (the current format) */
  | 'p2p';

export const TOPOLOGY_FORMATS: readonly TopologyFormat[] = ['legacy-producers', 'early-p2p', 'p2p'];

/** How the node reads an access point: an IP literal, a DNS name (A/AAAA), or an SRV name (no port). */
export type AccessPointKind = 'ipv4' | 'ipv6' | 'dns' | 'srv';

export interface AccessPoint {
  /** As written (IP literal, DNS name, or SRV name used as-is: topology SRV names are not prefixed). */
  address: string;
  /** Absent for SRV names. */
  port?: number;
  kind: AccessPointKind;
  /** Keys the node ignores (Guild files carry `description`, `pool`, `location`); kept for round-trips. */
  extra?: Record<string, unknown>;
}

export type DiffusionMode = 'InitiatorAndResponder' | 'InitiatorOnly';
export const DIFFUSION_MODES: readonly DiffusionMode[] = ['InitiatorAndResponder', 'InitiatorOnly'];

export interface LocalRootGroup {
  accessPoints: AccessPoint[];
  /** Default false. */
  advertise: boolean;
  /** `valency` or `hotValency` (the node reads `valency` first). */
  hotValency: number;
  /** Default: the hot valency. */
  warmValency: number;
  /** Whether `warmValency` was written (the writer keeps it only then). */
  warmValencySet: boolean;
  /** Default false. */
  trustable: boolean;
  /** Default false (10.7): never dial these peers, only reuse their inbound connections. */
  behindFirewall: boolean;
  /** Default InitiatorAndResponder. */
  diffusionMode: DiffusionMode;
}

export interface PublicRootGroup {
  accessPoints: AccessPoint[];
  /** Default false. */
  advertise: boolean;
}

/** `useLedgerAfterSlot`: absent or negative = never, 0 = always, n > 0 = once the tip reaches slot n. */
export type LedgerPeersUse = { mode: 'never' } | { mode: 'always' } | { mode: 'after-slot'; slot: number };

export interface Topology {
  localRoots: LocalRootGroup[];
  publicRoots: PublicRootGroup[];
  /** As written; undefined when the key is absent (the node then never uses ledger peers). */
  useLedgerAfterSlot?: number;
  ledgerPeers: LedgerPeersUse;
  /** null (or absent) = bootstrap peers disabled; a list (even empty) = enabled. */
  bootstrapPeers: AccessPoint[] | null;
  peerSnapshotFile?: string;
}

/** A legacy `Producers` entry, kept as written so migrate can map it as the user asks. */
export interface LegacyProducer {
  address: string;
  port: number;
  valency: number;
}

export type Severity = 'error' | 'warning' | 'info';

/**
 * One thing found in a topology file. `error`: the node refuses it, or silently rewrites it against
 * the operator's intent; `warning`: works but risky or surprising; `info`: worth knowing.
 */
export interface TopologyFinding {
  /** Stable UPPER_SNAKE code, e.g. `TOPOLOGY_HOTVALENCY` (docs/topology-lint.md). */
  code: string;
  severity: Severity;
  /** JSONPath of the offending value in the file, e.g. `$.localRoots[0].hotValency`. */
  path: string;
  /** One line: what is wrong and what the node does with it. */
  message: string;
  /** One line: how to fix it. */
  fix: string;
}

export interface ParsedTopology {
  topology: Topology;
  format: TopologyFormat;
  findings: TopologyFinding[];
  /** Present for the legacy format (the topology then maps them to local roots). */
  legacyProducers?: LegacyProducer[];
  /**
   * Older formats: for each local root group of the model, the index of the entry it came from
   * (Producers[i] / LocalRoots.groups[i]); entries the node skipped or refused leave gaps.
   */
  localRootSources?: number[];
}

export const SEVERITY_ORDER: Readonly<Record<Severity, number>> = { error: 0, warning: 1, info: 2 };

export function ledgerPeersFromSlot(slot: number | undefined): LedgerPeersUse {
  if (slot === undefined || slot < 0) return { mode: 'never' };
  if (slot === 0) return { mode: 'always' };
  return { mode: 'after-slot', slot };
}

export function usesLedgerPeers(t: Topology): boolean {
  return t.ledgerPeers.mode !== 'never';
}

/** An empty topology in the current format (no roots, ledger peers off). */
export function emptyTopology(): Topology {
  return { localRoots: [], publicRoots: [], bootstrapPeers: null, ledgerPeers: { mode: 'never' } };
}

/** The key identifying an endpoint for duplicate/overlap checks (names compared case-insensitively). */
export function endpointKey(ap: AccessPoint): string {
  const host = ap.kind === 'dns' || ap.kind === 'srv' ? ap.address.toLowerCase().replace(/\.$/, '') : ap.address;
  return ap.port === undefined ? `srv:${host}` : `${host}|${ap.port}`;
}

/** `host:port`, `[v6]:port`, or the SRV name. */
export function accessPointText(ap: AccessPoint): string {
  if (ap.port === undefined) return ap.address;
  return ap.kind === 'ipv6' ? `[${ap.address}]:${ap.port}` : `${ap.address}:${ap.port}`;
}
