/**
 * The result model of `spo probe`: what was probed (targets), what happened to each address
 * (status `ok` or a precise failure code naming the stage), and the shapes aggregated per relay,
 * per pool and for the whole run. Pure types.
 */

/** The stages of one probe, in order. */
export type ProbeStage = 'resolve' | 'connect' | 'handshake' | 'keepalive' | 'tip';

/** Failure codes an address can end with (the codes of src/dns and src/net, plus spo probe's own). */
export const FAILURE_CODES = [
  'DNS_NXDOMAIN',
  'DNS_SERVFAIL',
  'DNS_REFUSED',
  'DNS_TIMEOUT',
  'DNS_MALFORMED',
  'DNS_NO_DATA',
  'DNS_CNAME_LIMIT',
  'DNS_ERROR',
  'UNUSABLE_ADDRESS',
  'CONNECT_REFUSED',
  'CONNECT_TIMEOUT',
  'CONNECT_UNREACHABLE',
  'CONNECT_ERROR',
  'HANDSHAKE_TIMEOUT',
  'HANDSHAKE_REFUSED_MAGIC',
  'HANDSHAKE_REFUSED_VERSION',
  'HANDSHAKE_REFUSED',
  'HANDSHAKE_CLOSED',
  'HANDSHAKE_DECODE_ERROR',
  'CONNECTION_RESET',
  'CONNECTION_CLOSED',
  'PROTOCOL_ERROR',
  'KEEPALIVE_TIMEOUT',
  'KEEPALIVE_COOKIE_MISMATCH',
  'KEEPALIVE_ERROR',
  'CHAINSYNC_TIMEOUT',
  'CHAINSYNC_ERROR',
  'LOCAL_RESOURCES',
  'ERROR',
] as const;
export type FailureCode = (typeof FAILURE_CODES)[number];
export type ProbeStatus = 'ok' | FailureCode;

/** Codes that mean "no answer in time": the ones worth a retry at lower concurrency. */
export const TIMEOUT_CODES: ReadonlySet<string> = new Set([
  'DNS_TIMEOUT',
  'CONNECT_TIMEOUT',
  'HANDSHAKE_TIMEOUT',
  'KEEPALIVE_TIMEOUT',
  'CHAINSYNC_TIMEOUT',
  'LOCAL_RESOURCES',
]);

/** The relay shape of src/registry/model.ts, restated structurally (any registry Relay is one). */
export interface ProbeRelay {
  kind: 'ipv4' | 'ipv6' | 'dns' | 'srv';
  host: string;
  port?: number | undefined;
  flags?: readonly string[] | undefined;
}

/** One relay to probe and who registered it. */
export interface ProbeTarget {
  /** Pool id (bech32, hex, `#N`), or `(args)` for addresses named on the command line. */
  pool: string;
  ticker?: string | undefined;
  relay: ProbeRelay;
  /** A reason not to probe it (an unusable registered address such as 127.0.0.1); reported as UNUSABLE_ADDRESS. */
  skip?: string | undefined;
  /**
   * A registered name: each address it resolves to must be usable as a public peer, as a literal
   * must; the others (a name pointing at 127.0.0.1, 10.x...) are reported as UNUSABLE_ADDRESS, not probed.
   */
  publicOnly?: boolean | undefined;
}

/** One address:port to connect to, produced by resolving a target. */
export interface ProbeEndpoint {
  address: string;
  port: number;
  family: 4 | 6;
  /** SRV: the target name the address came from. */
  srvTarget?: string | undefined;
}

/** The tip a peer reported through chain-sync. */
export interface PeerTip {
  slot: number;
  blockNo: number;
  hash: string;
}

/** What one attempt on one endpoint found (the output of a stage function). */
export interface AttemptOutcome {
  status: ProbeStatus;
  /** The stage that failed (absent when ok). */
  stage?: ProbeStage | undefined;
  message?: string | undefined;
  connectMs?: number | undefined;
  handshakeMs?: number | undefined;
  /** Keep-alive round trips, in order (at most --samples values; the caller reduces them). */
  rttSamplesMs?: number[] | undefined;
  version?: number | undefined;
  tip?: PeerTip | undefined;
  tipMs?: number | undefined;
}

/** The per-address line of the results: every probed address appears once per relay that names it. */
export interface ProbeAddressResult {
  pool: string;
  ticker?: string;
  /** The relay as registered: IP, DNS name or SRV name. */
  relay: string;
  relayKind: ProbeRelay['kind'];
  /** The address probed; for a relay whose name did not resolve, the name itself. */
  address: string;
  /** The port probed; null for an SRV name that did not resolve. */
  port: number | null;
  family?: 4 | 6;
  srvTarget?: string;
  status: ProbeStatus;
  stage?: ProbeStage;
  message?: string;
  connectMs?: number;
  handshakeMs?: number;
  /** Keep-alive round trip: median, min, max of the samples (ms). */
  rttMs?: number;
  rttMinMs?: number;
  rttMaxMs?: number;
  samples?: number;
  version?: number;
  tip?: PeerTip;
  tipMs?: number;
  /** Slots behind the reference tip (0 at or ahead of it); filled in once every tip is known. */
  slotLag?: number;
  /** Attempts made (2 when a timeout was retried). */
  attempts: number;
  /** The same address:port is registered by another relay or pool too (probed once, reported for each). */
  shared?: boolean;
}

export interface ProbeRelayResult {
  host: string;
  kind: ProbeRelay['kind'];
  port: number | null;
  /** `ok` when at least one address answered, else the failure of its first address. */
  status: ProbeStatus;
  addresses: number;
  reachableAddresses: number;
}

export type PoolReachability = 'reachable' | 'partial' | 'unreachable';

export interface ProbePoolResult {
  id: string;
  ticker?: string;
  relays: ProbeRelayResult[];
  reachableRelays: number;
  status: PoolReachability;
  /** "2 of 3 relays reachable". */
  summary: string;
}

export interface HistogramBucket {
  /** Upper bound in ms (exclusive); null for the last, open bucket. */
  ltMs: number | null;
  count: number;
}

export interface ProbeSummary {
  addresses: number;
  ok: number;
  failed: number;
  byStatus: Record<string, number>;
  relays: number;
  reachableRelays: number;
  pools: number;
  reachablePools: number;
  partialPools: number;
  unreachablePools: number;
  /** Keep-alive RTT (or handshake time when --samples 0) of the addresses that answered. */
  rtt: { medianMs?: number; p90Ms?: number; minMs?: number; maxMs?: number; histogram: HistogramBucket[] };
  retried: number;
  elapsedMs: number;
}

export interface ReferenceTip {
  slot: number;
  blockNo?: number;
  hash?: string;
  /** `peers` (highest tip of the majority of the relays that answered) or `koios`. */
  source: 'peers' | 'koios';
  /** How many tips the reference was chosen from. */
  from: number;
}
