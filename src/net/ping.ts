/**
 * `spo ping`: per target, resolve (IP literal, DNS name: every address, SRV name: CIP-0155), then
 * per address connect, handshake and run the chosen mode (keep-alive RTTs, tip, version query).
 * Every wait has a timeout; each address reports its own result and error code. Names are resolved
 * by a `NameResolver` the caller passes (the command wires src/dns or the system resolver): src/net
 * does no name resolution of its own. Once an address's result is known its connection is closed
 * without holding the process: the command exits as soon as every result is in.
 */
import { formatEndpoint, hostKind, parseEndpoint } from '../lib/address.js';
import { type Clock, sleep, systemClock } from '../lib/clock.js';
import { describeError, isSpoError, SpoError } from '../lib/errors.js';
import { connectPeer, type PeerTip, queryPeer } from './client.js';
import type { VersionData } from './codec/handshake.js';
import type { PeerAddress } from './codec/peer-sharing.js';

export type PingMode = 'ping' | 'tip' | 'query' | 'peers';

export interface RttStats {
  samplesMs: number[];
  count: number;
  minMs: number;
  medianMs: number;
  p90Ms: number;
  meanMs: number;
  maxMs: number;
  stdMs: number;
}

export interface PingError {
  code: string;
  message: string;
  hint?: string;
}

export interface AddressResult {
  address: string;
  port: number;
  family: 4 | 6;
  endpoint: string;
  ok: boolean;
  connectMs?: number;
  handshakeMs?: number;
  version?: number;
  versionData?: VersionData;
  rtt?: RttStats;
  tip?: PeerTip & { rttMs: number };
  versions?: Array<{ version: number; data: VersionData | undefined }>;
  /** Mode peers: the addresses the peer shared (peer sharing agreed). */
  peers?: Array<PeerAddress & { endpoint: string }>;
  error?: PingError;
  /** The run was interrupted (Ctrl-C) before this address finished: what is here was gathered before. */
  interrupted?: true;
}

export interface TargetResult {
  target: string;
  kind: 'ipv4' | 'ipv6' | 'dns' | 'srv';
  ok: boolean;
  addresses: AddressResult[];
  error?: PingError;
  /** The run was interrupted before the name was resolved or every address finished. */
  interrupted?: true;
  /** Time the name took to resolve (0 for an IP literal). */
  resolveMs?: number;
}

/** One keep-alive round trip, as it happens (for `--count 0`'s line per sample). */
export interface PingSample {
  endpoint: string;
  cookie: number;
  rttMs: number;
  /** 1-based number of the sample on this address. */
  index: number;
}

export interface PingOptions {
  mode: PingMode;
  magic: number;
  /** Keep-alive round trips per address; 0 = until `signal` fires. */
  count: number;
  /** Called after each round trip. */
  onSample?: (sample: PingSample) => void;
  /** Mode peers: how many addresses to ask for (1-255; the node shares at most 10 per request). */
  amount?: number;
  intervalMs: number;
  timeoutMs: number;
  versions?: readonly number[];
  defaultPort: number;
  signal?: AbortSignal | undefined;
  /** Pauses between round trips and every timeout (default the system clock). */
  clock?: Clock;
  /** Resolves DNS and SRV names (IP literals need none). */
  resolver?: NameResolver | undefined;
  concurrency?: number;
}

/** Name resolution, as a parameter: the command decides between spo's DNS client and the system's. */
export interface NameResolver {
  /** Every A/AAAA address of a DNS name. */
  addresses(name: string, signal?: AbortSignal): Promise<Array<{ address: string; family: 4 | 6 }>>;
  /** Every target address of an SRV name (the whole lowest-priority group), with the record's port. */
  srv(
    name: string,
    signal?: AbortSignal,
  ): Promise<Array<{ address: string; family: 4 | 6; port?: number | undefined }>>;
}

export function rttStats(samples: number[]): RttStats | undefined {
  if (samples.length === 0) return undefined;
  const s = [...samples].sort((a, b) => a - b);
  const n = s.length;
  const mean = s.reduce((a, b) => a + b, 0) / n;
  const median = n % 2 ? (s[(n - 1) / 2] as number) : ((s[n / 2 - 1] as number) + (s[n / 2] as number)) / 2;
  const p90 = s[Math.min(n - 1, Math.ceil(0.9 * n) - 1)] as number;
  const variance = s.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
  return {
    samplesMs: samples,
    count: n,
    minMs: s[0] as number,
    medianMs: median,
    p90Ms: p90,
    meanMs: mean,
    maxMs: s[n - 1] as number,
    stdMs: Math.sqrt(variance),
  };
}

function toPingError(e: unknown): PingError {
  if (isSpoError(e)) return { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
  return { code: 'FAILED', message: describeError(e) };
}

/** Mux errors that, before the handshake answer, mean "not a Cardano node at all". */
const NOT_A_NODE_CODES = new Set(['MUX_UNKNOWN_PROTOCOL', 'MUX_BAD_SEGMENT', 'MUX_INGRESS_OVERRUN']);

/**
 * A port answered by another service: its first bytes read as a segment header give a nonsense
 * protocol number ("HTTP/1.1 ..." is protocol 0x2f31 = 12081, from "/1"). Said in words.
 */
function notANode(endpoint: string, e: PingError): PingError {
  const n = Number(/mini-protocol (\d+)/.exec(e.message)?.[1]);
  const http = n === 0x2f31; // "/1" of "HTTP/1.x"
  return {
    code: 'NOT_NODE_TO_NODE',
    message: `${endpoint}: the peer does not speak the node-to-node protocol; is this the right port?${http ? ' (it answered like an HTTP server)' : ''}`,
    hint: `another service answers on that port (spo saw ${e.code}); a relay's node-to-node port is the one in its topology or registration (often 3001, 6000 on testnets), not its metrics, EKG or web port`,
  };
}

/** A name without A/AAAA records: often an SRV name given without its _cardano._tcp prefix. */
function withSrvHint(target: string, e: PingError): PingError {
  const host = target.replace(/:\d+$/, '');
  if (e.code !== 'DNS_NO_DATA' && e.code !== 'ENODATA') return e;
  if (host.startsWith('_')) return e;
  return {
    ...e,
    hint: `${host} has no A/AAAA records; if it is registered as an SRV relay, ping _cardano._tcp.${host} (CIP-0155: spo resolves its SRV records then)`,
  };
}

interface Resolved {
  address: string;
  port: number;
  family: 4 | 6;
}

/** Resolves one target to addresses; swappable resolution (spo's DNS client, or the system's). */
export async function resolveTarget(
  text: string,
  o: Pick<PingOptions, 'defaultPort' | 'resolver' | 'signal'>,
): Promise<{ kind: TargetResult['kind']; addresses: Resolved[] }> {
  const srv = text.trim().startsWith('_');
  const ep = parseEndpoint(text, srv ? 0 : o.defaultPort);
  const kind = hostKind(ep.host);
  if (kind === 'ipv4' || kind === 'ipv6') {
    return { kind, addresses: [{ address: ep.host, port: ep.port, family: kind === 'ipv4' ? 4 : 6 }] };
  }
  if (!o.resolver) throw new SpoError('RESOLVE_FAILED', `${text}: no name resolver given to resolve ${ep.host}`);
  if (kind === 'srv') {
    const addresses = await o.resolver.srv(ep.host, o.signal);
    return {
      kind,
      addresses: addresses.map((a) => ({ address: a.address, port: a.port ?? o.defaultPort, family: a.family })),
    };
  }
  const addresses = await o.resolver.addresses(ep.host, o.signal);
  return { kind, addresses: addresses.map((a) => ({ address: a.address, port: ep.port, family: a.family })) };
}

export async function pingAddress(a: Resolved, o: PingOptions): Promise<AddressResult> {
  const base: AddressResult = {
    address: a.address,
    port: a.port,
    family: a.family,
    endpoint: formatEndpoint({ host: a.address, port: a.port }),
    ok: false,
  };
  const common = {
    ...(o.clock ? { clock: o.clock } : {}),
    host: a.address,
    port: a.port,
    family: a.family,
    magic: o.magic,
    connectTimeoutMs: o.timeoutMs,
    handshakeTimeoutMs: o.timeoutMs,
    signal: o.signal,
    ...(o.versions ? { versions: o.versions } : {}),
    // mode peers proposes peer sharing; the peer agrees only if its own PeerSharing is on
    ...(o.mode === 'peers' ? { peerSharing: true } : {}),
  };
  if (o.mode === 'query') {
    try {
      const q = await queryPeer(common);
      return { ...base, ok: true, connectMs: q.connectMs, handshakeMs: q.handshakeMs, versions: q.versions };
    } catch (e) {
      if (o.signal?.aborted) return { ...base, interrupted: true };
      return { ...base, error: toPingError(e) };
    }
  }
  let conn: Awaited<ReturnType<typeof connectPeer>> | undefined;
  const result: AddressResult = { ...base };
  const samples: number[] = [];
  try {
    conn = await connectPeer(common);
    result.connectMs = conn.connectMs;
    result.handshakeMs = conn.handshakeMs;
    result.version = conn.version;
    result.versionData = conn.versionData;
    if (o.mode === 'tip') {
      result.tip = await conn.findTip({ timeoutMs: o.timeoutMs });
    } else if (o.mode === 'peers') {
      if (conn.versionData.peerSharing !== 1) {
        throw new SpoError(
          'PEER_SHARING_OFF',
          `${base.endpoint}: the peer did not agree to peer sharing (its handshake says PeerSharingDisabled)`,
          {
            hint: 'its node runs with PeerSharing false (a block producer should), or it is too old to share peers; nothing to list',
          },
        );
      }
      const shared = await conn.sharePeers(o.amount ?? 10, { timeoutMs: o.timeoutMs });
      result.peers = shared.map((p) => ({ ...p, endpoint: formatEndpoint({ host: p.address, port: p.port }) }));
    } else {
      for (let i = 0; o.count === 0 || i < o.count; i++) {
        if (i > 0 && o.intervalMs > 0) await sleep(o.clock ?? systemClock, o.intervalMs, o.signal);
        // the cookie is a Word16: an endless run wraps around
        const cookie = i & 0xffff;
        const rttMs = await conn.keepAlive(cookie, o.timeoutMs);
        samples.push(rttMs);
        o.onSample?.({ endpoint: base.endpoint, cookie, rttMs, index: i + 1 });
      }
    }
    result.ok = true;
  } catch (e) {
    if (o.signal?.aborted) {
      // Ctrl-C: the address reports what it gathered (samples so far); it answered if any came back.
      conn?.abort();
      result.interrupted = true;
      result.ok =
        conn !== undefined &&
        (o.mode === 'ping'
          ? samples.length > 0
          : o.mode === 'tip'
            ? result.tip !== undefined
            : result.peers !== undefined);
    } else {
      const err = toPingError(e);
      // before the handshake answer (no connection yet), a mux error means another service answered
      result.error = conn === undefined && NOT_A_NODE_CODES.has(err.code) ? notANode(base.endpoint, err) : err;
    }
  } finally {
    const stats = rttStats(samples);
    if (stats) result.rtt = stats;
    if (conn) {
      // The result is known: say goodbye (MsgDone, FIN) in the background, without holding the
      // process or this result for a peer that is slow to close; a failed connection is reset.
      conn.unref();
      if (result.ok) void conn.close();
      else conn.abort();
    }
  }
  return result;
}

/**
 * Pings every target; results in the order given. When `signal` fires (Ctrl-C) it returns what was
 * gathered so far, marked `interrupted`, rather than throwing: the statistics so far are the answer
 * of an endless `--count 0` run.
 */
export async function pingTargets(targets: readonly string[], o: PingOptions): Promise<TargetResult[]> {
  const limit = Math.max(1, o.concurrency ?? 32);
  const jobs: Array<() => Promise<void>> = [];
  const results: TargetResult[] = [];
  for (const text of targets) {
    const tr: TargetResult = { target: text, kind: 'dns', ok: false, addresses: [] };
    results.push(tr);
    jobs.push(async () => {
      let resolved: { kind: TargetResult['kind']; addresses: Resolved[] };
      const clock = o.clock ?? systemClock;
      const resolveStarted = clock.now();
      try {
        resolved = await resolveTarget(text, o);
        tr.resolveMs = clock.now() - resolveStarted;
      } catch (e) {
        if (o.signal?.aborted) {
          tr.interrupted = true;
          return;
        }
        const err = withSrvHint(text, toPingError(e));
        tr.error = err.code === 'FAILED' ? { ...err, code: 'RESOLVE_FAILED' } : err;
        tr.kind = hostKind(text.replace(/:\d+$/, ''));
        return;
      }
      tr.kind = resolved.kind;
      if (resolved.addresses.length === 0) {
        tr.error = { code: 'RESOLVE_NO_ADDRESS', message: `${text}: the name has no address` };
        return;
      }
      tr.addresses = await runLimited(
        resolved.addresses.map((a) => () => pingAddress(a, o)),
        limit,
      );
      tr.ok = tr.addresses.every((a) => a.ok);
      if (tr.addresses.some((a) => a.interrupted)) tr.interrupted = true;
    });
  }
  await runLimited(jobs, limit);
  return results;
}

async function runLimited<T>(jobs: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const out = new Array<T>(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await (jobs[i] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return out;
}
