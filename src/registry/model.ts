/**
 * One normalised model of the stake pool registry, whatever the source (embedded snapshot, peer
 * snapshot file, cardano-cli JSON, Koios, Blockfrost). Pure types; no I/O.
 */

export type RelayKind = 'ipv4' | 'ipv6' | 'dns' | 'srv';

export interface Relay {
  kind: RelayKind;
  /** IP relays: the literal; dns: the lower-cased name; srv: the registered name as given (see srvQueryName). */
  host: string;
  /** Absent for SRV relays (the SRV records carry the ports). */
  port?: number;
  /** Hygiene flags (see RelayFlag); empty for a clean relay. */
  flags: string[];
}

export type PoolStatus = 'registered' | 'retiring' | 'retired' | 'unknown';

export interface Pool {
  /**
   * bech32 `pool1...`; hex when the source only gave hex and it could not be converted; for peer
   * snapshots, which carry no pool ids, `#N` (the pool's 1-based position in the file).
   */
  id: string;
  ticker?: string;
  /** Relative stake, 0..1, where known. */
  stake?: number;
  status: PoolStatus;
  relays: Relay[];
}

export type FindingSeverity = 'info' | 'warning' | 'error';

/** A hygiene report: something found in the registry data (never silently fixed). */
export interface RegistryFinding {
  /** Stable kebab-case code, e.g. `loopback`, `shared-endpoint` (see HYGIENE_CODES). */
  code: string;
  severity: FindingSeverity;
  message: string;
  /** The pool concerned (id as in Pool.id), when one is. */
  pool?: string;
  /** The relay concerned, as `host:port` / `[v6]:port` / SRV name. */
  relay?: string;
  /** For shared endpoints: every pool that registers it. */
  pools?: string[];
}

export interface Registry {
  /** Where the data came from: `embedded:mainnet`, a file path, `-`, `koios`, `blockfrost`. */
  source: string;
  /** What the source was: `snapshot-v1`, `snapshot-v2`, `snapshot-n2c`, `cardano-cli-pool-state`, `koios`... */
  format?: string;
  network?: string;
  networkMagic?: number;
  slot?: number;
  /** Tip hash of a NodeToClientVersion snapshot's Point. */
  blockHash?: string;
  /** `big` for a big-ledger snapshot, `all` for all ledger pools. */
  scope?: 'big' | 'all';
  pools: Pool[];
  findings: RegistryFinding[];
}

/**
 * Relay flags. The first group makes a relay unusable as a public peer (export drops such relays
 * unless asked not to); the others are informational.
 */
export const UNUSABLE_FLAGS: ReadonlySet<string> = new Set([
  'unspecified',
  'loopback',
  'private',
  'unique-local',
  'link-local',
  'shared-address-space',
  'documentation',
  'multicast',
  'reserved',
  'invalid-port',
  'malformed-name',
  'malformed-address',
]);

export const INFO_FLAGS = ['lower-cased', 'shared-endpoint', 'default-port', 'srv-prefixed'] as const;

export function isUsable(relay: Relay): boolean {
  return !relay.flags.some((f) => UNUSABLE_FLAGS.has(f));
}
