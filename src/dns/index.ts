/**
 * spo's DNS client on dns-packet: A, AAAA and SRV with their TTLs, resolved the way cardano-node
 * does it (governor.md §6.2-6.3): A and AAAA concurrently (fail only when both fail), CNAME chains
 * within a bound, SRV by the CIP-0155 rule, TTLs clipped to [60 s, 900 s] with the raw TTL kept.
 * Queries go to explicit servers (default /etc/resolv.conf) over UDP, TCP when truncated, at most
 * `concurrency` in flight, through a TTL-honouring cache of bounded size.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { Endpoint } from '../lib/address.js';
import { formatEndpoint, srvQueryName } from '../lib/address.js';
import { AnswerCache } from './cache.js';
import { DnsError, moreInformative } from './errors.js';
import { Limiter } from './limiter.js';
import {
  badName,
  type DnsResponse,
  decodeResponse,
  isQueryableName,
  normalizeName,
  plainAddress,
  plainTtl,
  type QueryType,
  type Rr,
} from './packet.js';
import { systemServers } from './resolv-conf.js';
import { lowestPriorityGroup, type RandomSource, type SrvRecord, weightedOrder } from './srv.js';
import { type ExchangeResult, type ExchangeSink, type TransportStats, tcpExchange, UdpTransport } from './transport.js';
import { clipTtl, MAX_TTL_SEC } from './ttl.js';

export { DnsError, type DnsErrorCode, isDnsError } from './errors.js';
export { parseDnsServer, systemServers } from './resolv-conf.js';
export type { RandomSource, SrvRecord } from './srv.js';
export { clipTtl, MAX_TTL_SEC, MIN_TTL_SEC } from './ttl.js';

export type AddressFamily = 'ipv4' | 'ipv6' | 'both';

export interface DnsResolverOptions {
  /** Servers to ask, in order; default: the nameservers of /etc/resolv.conf. */
  servers?: Endpoint[];
  /** Per-query (per server attempt) timeout; default 3000 ms as the node. */
  timeoutMs?: number;
  /** Rounds over the server list before giving up; default 2. */
  attempts?: number;
  /** DNS exchanges in flight at once; default 8 as the node. */
  concurrency?: number;
  /**
   * Cached answers kept (two generations, see AnswerCache); 0 disables the cache; default 2,048. A
   * hit needs the same question again within its TTL (a name several pools register, SRV targets, a
   * re-run), so a small cache catches most of them; a large one costs in bulk lookups (measured:
   * 10,000 entries added about 30% CPU per query to 5,000 fresh names, as the growing heap is
   * marked again and again).
   */
  cacheSize?: number;
  /** Longest CNAME chain followed; default 8. */
  maxCnameHops?: number;
  /** For the SRV weighted choice; default Math.random. */
  rng?: RandomSource;
  /** Monotonic clock in ms for cache expiry (tests); default performance.now. */
  now?: () => number;
  /** UDP queries sent from one source port before a fresh socket takes over (or a minute); default 2,048. */
  queriesPerSocket?: number;
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
  /** The record the address came from (`IP` when the name was an IP literal, or localhost: RFC 6761). */
  recordType: 'A' | 'AAAA' | 'IP';
  /** SRV port (SRV lookups only). */
  port?: number;
  /** TTL clipped to [60, 900] s as cardano-node does (for SRV: the SRV record's TTL, as the node). */
  ttlSec: number;
  /** The TTL the server gave (for SRV: the SRV record's). */
  rawTtlSec: number;
  /** SRV lookups: the target name and the raw TTL of its A/AAAA record. */
  target?: string;
  addressRawTtlSec?: number;
}

export interface ResolvedName {
  name: string;
  /** The name the addresses belong to once CNAMEs are followed. */
  canonicalName: string;
  cnames: string[];
  family: AddressFamily;
  addresses: ResolvedAddress[];
  /** A family that failed while the other succeeded (`both` only). */
  partialErrors: Array<{ recordType: 'A' | 'AAAA'; code: string; message: string }>;
  transport: 'udp' | 'tcp' | 'cache' | 'none';
  elapsedMs: number;
}

export interface ResolvedSrvTarget {
  target: string;
  port: number;
  priority: number;
  weight: number;
  ttlSec: number;
  rawTtlSec: number;
  addresses: ResolvedAddress[];
  error?: { code: string; message: string };
}

export interface ResolvedSrv {
  name: string;
  /** The name queried: `_cardano._tcp.` + name (CIP-0155) unless asked as is. */
  queryName: string;
  /** Every SRV record of the answer, "." targets included, by priority then weight. */
  records: Array<SrvRecord & { ttlSec: number }>;
  /** Priority of the group used (the lowest). */
  priority: number;
  /** Targets tried, in weighted order: one (the node's choice) or the whole group. */
  targets: ResolvedSrvTarget[];
  /** Every address of the targets that resolved, with the SRV port. */
  addresses: ResolvedAddress[];
  elapsedMs: number;
}

export interface ResolveOptions {
  family?: AddressFamily;
  signal?: AbortSignal | undefined;
}

export interface ResolveSrvOptions extends ResolveOptions {
  /** Resolve every target of the lowest priority group (in weighted order), not just one. */
  wholeGroup?: boolean;
  /** Query the name exactly as given (a full `_service._proto.name`), without the CIP-0155 prefix. */
  asIs?: boolean;
}

export interface DnsStats extends TransportStats {
  queries: number;
  cacheHits: number;
  udp: number;
  tcp: number;
}

interface QueryOutcome {
  rcode: 'NOERROR' | 'NXDOMAIN';
  answers: Rr[];
  server: string;
  transport: 'udp' | 'tcp' | 'cache';
}

interface LookupResult {
  records: Rr[];
  canonicalName: string;
  cnames: string[];
  transport: 'udp' | 'tcp' | 'cache';
}

const RCODE_ERRORS: Record<string, 'DNS_SERVFAIL' | 'DNS_REFUSED'> = {
  SERVFAIL: 'DNS_SERVFAIL',
  REFUSED: 'DNS_REFUSED',
};

export class DnsResolver {
  readonly servers: readonly Endpoint[];
  private readonly serverLabels: readonly string[];
  readonly timeoutMs: number;
  readonly attempts: number;
  readonly stats: DnsStats = { queries: 0, cacheHits: 0, udp: 0, tcp: 0, mismatched: 0, malformed: 0 };
  private readonly limiter: Limiter;
  /**
   * Answers are cached as the bytes received (one Buffer, its memory outside the JS heap) and decoded
   * again on a hit: thousands of decoded record objects kept alive made every young-generation GC
   * copy them, which cost more than the lookups themselves in bulk resolution.
   */
  private readonly cache: AnswerCache;
  /** Whether the cache runs on performance.now (then a time just read can be handed to it). */
  private readonly cacheOnPerformanceNow: boolean;
  private readonly maxCnameHops: number;
  private readonly rng: RandomSource;
  private readonly udp: UdpTransport;

  constructor(options: DnsResolverOptions = {}) {
    this.servers = options.servers && options.servers.length > 0 ? [...options.servers] : systemServers();
    this.serverLabels = this.servers.map(formatEndpoint);
    this.timeoutMs = options.timeoutMs ?? 3000;
    this.attempts = Math.max(1, options.attempts ?? 2);
    this.limiter = new Limiter(options.concurrency ?? 8);
    this.cache = new AnswerCache(options.cacheSize ?? 2048, options.now);
    this.cacheOnPerformanceNow = options.now === undefined;
    this.maxCnameHops = options.maxCnameHops ?? 8;
    this.rng = options.rng ?? Math.random;
    this.udp = new UdpTransport({
      stats: this.stats,
      ...(options.queriesPerSocket === undefined ? {} : { queriesPerSocket: options.queriesPerSocket }),
    });
  }

  /** Closes the UDP sockets (they never keep the process alive, but a long-lived owner can free them). */
  close(): void {
    this.udp.close();
  }

  /** Entries held by the cache (bounded by `cacheSize`). */
  get cacheEntries(): number {
    return this.cache.size;
  }

  clearCache(): void {
    this.cache.clear();
  }

  /**
   * A/AAAA of a name (an IP literal passes through with the node's 900 s). A single family takes the
   * hot path when it can (`AddressLookup`: a plain name, not cached, a free concurrency slot): its
   * first UDP exchange completes by callback, without async layers, and only an answer other than
   * the plain one goes on in the general path. In a fresh process the hot path runs in the
   * interpreter, and its size is what V8 compiles in the background, both of which bulk resolution
   * pays.
   */
  resolveAddresses(name: string, options: ResolveOptions = {}): Promise<ResolvedName> {
    const started = performance.now();
    const family = options.family ?? 'both';
    const n = normalizeName(name);
    // (cheap test first: most names cannot be IP literals)
    if (n.includes(':') || /^[\d.]+$/.test(n)) {
      const literal = isIPv4(n) ? 4 : isIPv6(n) ? 6 : 0;
      if (literal !== 0) return Promise.resolve(literalResult(n, literal, family, started));
    }
    // RFC 6761: localhost names are the loopback addresses, never asked of a server (which would
    // often say NXDOMAIN, and `spo probe localhost:3001` must reach the local node)
    if (n === 'localhost' || n.endsWith('.localhost')) return Promise.resolve(loopbackResult(n, family, started));
    const { signal } = options;
    if (family === 'both') return this.resolveBoth(n, signal, started);
    const recordType = family === 'ipv4' ? 'A' : 'AAAA';
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (
      this.servers.length === 0 ||
      !isQueryableName(n) ||
      this.cache.has(recordType, n) ||
      !this.limiter.tryAcquire()
    ) {
      return this.resolveSingle(n, recordType, family, signal, started);
    }
    return new Promise<ResolvedName>((resolve, reject) => {
      this.stats.queries++;
      this.stats.udp++;
      const lookup = new AddressLookup(this, n, recordType, family, signal, started, resolve, reject);
      this.udp.send(this.servers[0] as Endpoint, n, recordType, this.timeoutMs, signal, lookup, started);
    });
  }

  /** The hot path's plain answer: the addresses, cached as `final` caches them. @internal */
  lookupAnswered(
    l: AddressLookup,
    message: Buffer,
    plain: number[] | undefined,
    response: DnsResponse | undefined,
  ): void {
    if (plain === undefined || l.signal?.aborted) {
      let decoded: DnsResponse;
      try {
        // (a plain answer was checked whole already: this cannot fail, but this runs in the socket's
        // event handler, where nothing may throw)
        decoded = response ?? decodeResponse(message);
      } catch (error) {
        this.limiter.release();
        l.reject(toError(error));
        return;
      }
      this.continueLookup(l, { response: decoded, message, transport: 'udp' });
      return;
    }
    this.limiter.release();
    const family = l.type === 'A' ? 4 : 6;
    const addresses: ResolvedAddress[] = [];
    let ttl = Number.POSITIVE_INFINITY;
    for (let i = 1; i < plain.length; i += 2) {
      const nameEnd = plain[i] as number;
      const raw = plainTtl(message, nameEnd);
      if (raw < ttl) ttl = raw;
      addresses.push({
        address: plainAddress(message, l.type, nameEnd),
        family,
        recordType: l.type,
        ttlSec: clipTtl(raw),
        rawTtlSec: raw,
      });
    }
    const end = performance.now();
    this.cache.set(
      l.type,
      l.name,
      'NOERROR',
      this.serverLabels[0] as string,
      message,
      ttl,
      this.cacheOnPerformanceNow ? end : undefined,
    );
    l.resolve({
      name: l.name,
      canonicalName: l.name,
      cnames: [],
      family: l.family,
      addresses,
      partialErrors: [],
      transport: 'udp',
      elapsedMs: end - l.started,
    });
  }

  /** The hot path's exchange failed. @internal */
  lookupFailed(l: AddressLookup, error: Error): void {
    if (error instanceof DnsError && !l.signal?.aborted) {
      this.continueLookup(l, error);
      return;
    }
    this.limiter.release();
    l.reject(l.signal?.aborted ? abortReason(l.signal) : error);
  }

  /** Anything but the plain answer: on as `ask` goes on (still holding the slot), then as `resolveSingle`. */
  private continueLookup(l: AddressLookup, first: ExchangeResult | DnsError): void {
    const outcome = this.afterFirst(l.name, l.type, l.signal, first);
    outcome.then(this.released, this.released);
    outcome
      .then((o) => this.finishSingle(l.name, l.type, l.family, l.signal, l.started, o))
      .then(l.resolve, (error: unknown) => l.reject(l.signal?.aborted ? abortReason(l.signal) : toError(error)));
  }

  private readonly released = (): void => this.limiter.release();

  /** What `ask` does once the first server's UDP exchange has ended. */
  private afterFirst(
    name: string,
    type: QueryType,
    signal: AbortSignal | undefined,
    first: ExchangeResult | DnsError,
  ): Promise<QueryOutcome> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (!(first instanceof DnsError)) {
      const { rcode } = first.response;
      if (!first.response.truncated && (rcode === 'NOERROR' || rcode === 'NXDOMAIN')) {
        return Promise.resolve(this.final(name, type, rcode, this.serverLabels[0] as string, first));
      }
    }
    return this.askAll(name, type, signal, first);
  }

  /** One family by the general path: the cache, the limiter's queue, a bad name. */
  private async resolveSingle(
    n: string,
    recordType: 'A' | 'AAAA',
    family: AddressFamily,
    signal: AbortSignal | undefined,
    started: number,
  ): Promise<ResolvedName> {
    let first: QueryOutcome;
    try {
      if (!isQueryableName(n)) throw badName(n);
      first = await this.query(n, recordType, signal);
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      throw error;
    }
    return this.finishSingle(n, recordType, family, signal, started, first);
  }

  /** A single family's result from its first answer (following CNAMEs, NXDOMAIN and NODATA from there). */
  private async finishSingle(
    n: string,
    recordType: 'A' | 'AAAA',
    family: AddressFamily,
    signal: AbortSignal | undefined,
    started: number,
    first: QueryOutcome,
  ): Promise<ResolvedName> {
    let found: LookupResult;
    try {
      const records = first.rcode === 'NOERROR' ? recordsOf(first.answers, n, recordType) : [];
      found =
        records.length > 0
          ? { records, canonicalName: n, cnames: [], transport: first.transport }
          : await this.followChain(n, recordType, signal, first);
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      throw error;
    }
    if (signal?.aborted) throw abortReason(signal);
    const addresses: ResolvedAddress[] = [];
    pushAddresses(addresses, found.records, recordType);
    if (addresses.length === 0) throw noData(n, [recordType]);
    return {
      name: n,
      canonicalName: found.canonicalName,
      cnames: found.cnames,
      family,
      addresses,
      partialErrors: [],
      transport: found.transport,
      elapsedMs: performance.now() - started,
    };
  }

  /**
   * A and AAAA concurrently, each as a single-family lookup (so both take the hot path): fails only
   * when both fail, or neither has an address. A family without records (DNS_NO_DATA) is not a
   * partial error.
   */
  private async resolveBoth(n: string, signal: AbortSignal | undefined, started: number): Promise<ResolvedName> {
    const types: Array<'A' | 'AAAA'> = ['A', 'AAAA'];
    const settled = await Promise.allSettled([
      this.resolveAddresses(n, { family: 'ipv4', signal }),
      this.resolveAddresses(n, { family: 'ipv6', signal }),
    ]);
    if (signal?.aborted) throw abortReason(signal);
    const addresses: ResolvedAddress[] = [];
    const errors: Array<{ recordType: 'A' | 'AAAA'; error: DnsError }> = [];
    let canonicalName = n;
    let cnames: string[] = [];
    let transport: ResolvedName['transport'] = 'cache';
    settled.forEach((s, i) => {
      const recordType = types[i] as 'A' | 'AAAA';
      if (s.status === 'rejected') {
        if (!(s.reason instanceof DnsError)) throw s.reason;
        if (s.reason.code !== 'DNS_NO_DATA') errors.push({ recordType, error: s.reason });
        return;
      }
      if (s.value.cnames.length > cnames.length) {
        cnames = s.value.cnames;
        canonicalName = s.value.canonicalName;
      }
      if (s.value.transport !== 'cache') transport = transport === 'tcp' ? 'tcp' : s.value.transport;
      addresses.push(...s.value.addresses);
    });
    if (addresses.length === 0) {
      let worst: DnsError | undefined;
      for (const e of errors) worst = moreInformative(worst, e.error);
      if (worst) {
        if (errors.length > 1) {
          worst.details.errors = errors.map((e) => ({ recordType: e.recordType, code: e.error.code }));
        }
        throw worst;
      }
      throw noData(n, types);
    }
    return {
      name: n,
      canonicalName,
      cnames,
      family: 'both',
      addresses,
      partialErrors: errors.map((e) => ({ recordType: e.recordType, code: e.error.code, message: e.error.message })),
      transport,
      elapsedMs: performance.now() - started,
    };
  }

  /** SRV by the node's rule: "." dropped, lowest priority group, weighted choice, targets with the SRV port. */
  async resolveSrv(name: string, options: ResolveSrvOptions = {}): Promise<ResolvedSrv> {
    const started = performance.now();
    const n = normalizeName(name);
    const queryName = options.asIs ? n : srvQueryName(n);
    const found = await this.lookup(queryName, 'SRV', options.signal);
    const records: SrvRecord[] = found.records.map((rr) => {
      const d = rr.data as { priority: number; weight: number; port: number; target: string };
      return { priority: d.priority, weight: d.weight, port: d.port, target: normalizeName(d.target), ttl: rr.ttl };
    });
    records.sort((a, b) => a.priority - b.priority || b.weight - a.weight || a.target.localeCompare(b.target));
    if (records.length === 0) {
      throw new DnsError('DNS_NO_DATA', `${queryName}: no SRV records`, { details: { name: n, queryName } });
    }
    const group = lowestPriorityGroup(records);
    if (group.length === 0) {
      throw new DnsError('DNS_NO_DATA', `${queryName}: the service is not available (every SRV target is ".")`, {
        details: { name: n, queryName },
      });
    }
    const order = weightedOrder(group, this.rng);
    const targets: ResolvedSrvTarget[] = [];
    const resolveTarget = async (r: SrvRecord): Promise<ResolvedSrvTarget> => {
      const base = {
        target: r.target,
        port: r.port,
        priority: r.priority,
        weight: r.weight,
        ttlSec: clipTtl(r.ttl),
        rawTtlSec: r.ttl,
      };
      try {
        const res = await this.resolveAddresses(r.target, { family: options.family ?? 'both', signal: options.signal });
        const addresses = res.addresses.map(
          (a): ResolvedAddress => ({
            ...a,
            port: r.port,
            ttlSec: clipTtl(r.ttl),
            rawTtlSec: r.ttl,
            target: r.target,
            addressRawTtlSec: a.rawTtlSec,
          }),
        );
        return { ...base, addresses };
      } catch (error) {
        if (!(error instanceof DnsError)) throw error;
        return { ...base, addresses: [], error: { code: error.code, message: error.message } };
      }
    };
    if (options.wholeGroup) {
      targets.push(...(await Promise.all(order.map(resolveTarget))));
    } else {
      // The node draws one target; when it does not resolve, spo goes on to the next in weighted order.
      for (const r of order) {
        const t = await resolveTarget(r);
        targets.push(t);
        if (t.addresses.length > 0) break;
      }
    }
    const addresses = targets.flatMap((t) => t.addresses);
    if (addresses.length === 0) {
      const first = targets[0]?.error;
      throw new DnsError(
        (first?.code as DnsError['code'] | undefined) ?? 'DNS_NO_DATA',
        `${queryName}: no SRV target resolved (${targets.map((t) => `${t.target}: ${t.error?.code ?? 'no addresses'}`).join(', ')})`,
        { details: { name: n, queryName, targets: targets.map((t) => ({ target: t.target, error: t.error })) } },
      );
    }
    return {
      name: n,
      queryName,
      records: records.map((r) => ({ ...r, ttlSec: clipTtl(r.ttl) })),
      priority: (group[0] as SrvRecord).priority,
      targets,
      addresses,
      elapsedMs: performance.now() - started,
    };
  }

  /** Records of one type for a name, following CNAMEs (in the answer, then by new queries) within the bound. */
  private async lookup(name: string, type: QueryType, signal: AbortSignal | undefined): Promise<LookupResult> {
    if (!isQueryableName(name)) throw badName(name);
    const first = await this.query(name, type, signal);
    // The common case, kept apart so that the code V8 compiles for every lookup stays small.
    const records = first.rcode === 'NOERROR' ? recordsOf(first.answers, name, type) : [];
    if (records.length > 0) return { records, canonicalName: name, cnames: [], transport: first.transport };
    return this.followChain(name, type, signal, first);
  }

  /** NXDOMAIN, NODATA or a CNAME chain: follows it, in the answer then by new queries. */
  private async followChain(
    name: string,
    type: QueryType,
    signal: AbortSignal | undefined,
    first: QueryOutcome,
  ): Promise<LookupResult> {
    const cnames: string[] = [];
    let current = name;
    let transport: LookupResult['transport'] = 'cache';
    for (let hop = 0; hop <= this.maxCnameHops; hop++) {
      const outcome = hop === 0 ? first : await this.query(current, type, signal);
      if (outcome.transport !== 'cache') transport = outcome.transport;
      if (outcome.rcode === 'NXDOMAIN') {
        const via = current === name ? '' : ` (CNAME target ${current})`;
        throw new DnsError('DNS_NXDOMAIN', `${name}: no such name${via} (NXDOMAIN from ${outcome.server})`, {
          details: { name, type, server: outcome.server, ...(current === name ? {} : { cnameTarget: current }) },
        });
      }
      // Only records on the chain from the queried name are used: anything else in the answer is ignored.
      let target = current;
      for (;;) {
        const records = recordsOf(outcome.answers, target, type);
        if (records.length > 0) return { records, canonicalName: target, cnames, transport };
        const cname = recordsOf(outcome.answers, target, 'CNAME')[0];
        if (!cname) break;
        const next = normalizeName(cname.data as string);
        if (next === name || cnames.includes(next)) {
          throw new DnsError('DNS_CNAME_LIMIT', `${name}: CNAME loop at ${next}`, { details: { name, cnames } });
        }
        cnames.push(next);
        if (cnames.length > this.maxCnameHops) {
          throw new DnsError('DNS_CNAME_LIMIT', `${name}: CNAME chain longer than ${this.maxCnameHops}`, {
            details: { name, cnames },
          });
        }
        target = next;
      }
      if (target === current) return { records: [], canonicalName: current, cnames, transport };
      current = target;
    }
    throw new DnsError('DNS_CNAME_LIMIT', `${name}: CNAME chain longer than ${this.maxCnameHops}`, {
      details: { name, cnames },
    });
  }

  /** One question, answered from the cache or by the servers in turn (UDP, then TCP when truncated). */
  private query(name: string, type: QueryType, signal: AbortSignal | undefined): Promise<QueryOutcome> {
    const hit = this.cache.get(type, name);
    if (hit) {
      this.stats.cacheHits++;
      const left = hit.remainingSec;
      const answers = decodeResponse(hit.message).answers;
      for (const r of answers) if (r.ttl > left) r.ttl = left;
      return Promise.resolve({ rcode: hit.rcode, server: hit.server, transport: 'cache', answers });
    }
    return this.limiter.run(() => this.ask(name, type, signal), signal);
  }

  /**
   * The first server over UDP: almost every query ends here, and this path is kept small (what V8
   * compiles for it is paid in every fresh process). Anything else goes on in `askAll`.
   */
  private async ask(name: string, type: QueryType, signal: AbortSignal | undefined): Promise<QueryOutcome> {
    if (this.servers.length === 0) throw new DnsError('DNS_TIMEOUT', `${name} ${type}: no DNS server to ask`);
    const options = { timeoutMs: this.timeoutMs, signal };
    this.stats.queries++;
    this.stats.udp++;
    let first: ExchangeResult | DnsError;
    try {
      first = await this.udp.exchange(this.servers[0] as Endpoint, name, type, options);
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      if (!(error instanceof DnsError)) throw error;
      first = error;
    }
    return this.afterFirst(name, type, signal, first);
  }

  /**
   * The servers in turn, `attempts` rounds, until one gives a final answer (NOERROR or NXDOMAIN);
   * `first` is what the first server's UDP exchange gave.
   */
  private async askAll(
    name: string,
    type: QueryType,
    signal: AbortSignal | undefined,
    first: ExchangeResult | DnsError,
  ): Promise<QueryOutcome> {
    let worst: DnsError | undefined;
    for (let round = 0; round < this.attempts; round++) {
      for (let i = 0; i < this.servers.length; i++) {
        const server = this.servers[i] as Endpoint;
        const options = { timeoutMs: this.timeoutMs, signal };
        try {
          let result: ExchangeResult;
          if (round === 0 && i === 0) {
            if (first instanceof DnsError) throw first;
            result = first;
          } else {
            this.stats.queries++;
            this.stats.udp++;
            result = await this.udp.exchange(server, name, type, options);
          }
          if (result.response.truncated) {
            this.stats.tcp++;
            result = await tcpExchange(server, name, type, options);
          }
          const { rcode } = result.response;
          const where = this.serverLabels[i] as string;
          if (rcode === 'NOERROR' || rcode === 'NXDOMAIN') return this.final(name, type, rcode, where, result);
          worst = moreInformative(
            worst,
            new DnsError(RCODE_ERRORS[rcode] ?? 'DNS_RCODE', `${name} ${type}: ${rcode} from ${where}`, {
              details: { name, type, server: where, rcode },
            }),
          );
        } catch (error) {
          if (signal?.aborted) throw abortReason(signal);
          if (!(error instanceof DnsError)) throw error;
          worst = moreInformative(worst, error);
        }
      }
    }
    throw worst ?? new DnsError('DNS_TIMEOUT', `${name} ${type}: no DNS server to ask`);
  }

  /** A final answer: cached for its smallest TTL (negative: the SOA minimum, when there is one). */
  private final(
    name: string,
    type: QueryType,
    rcode: 'NOERROR' | 'NXDOMAIN',
    where: string,
    result: ExchangeResult,
  ): QueryOutcome {
    const { answers } = result.response;
    let ttl = result.response.negativeTtl ?? 0;
    if (rcode === 'NOERROR' && answers.length > 0) {
      ttl = Number.POSITIVE_INFINITY;
      for (const r of answers) if (r.ttl < ttl) ttl = r.ttl;
    }
    this.cache.set(type, name, rcode, where, result.message, ttl);
    return { rcode, answers, server: where, transport: result.transport };
  }
}

/** The records of one name and type in an answer (a loop, not filter(): no closure per call). */
function recordsOf(answers: Rr[], name: string, type: string): Rr[] {
  const out: Rr[] = [];
  for (const r of answers) if (r.name === name && r.type === type) out.push(r);
  return out;
}

function pushAddresses(out: ResolvedAddress[], records: Rr[], recordType: 'A' | 'AAAA'): void {
  const family = recordType === 'A' ? 4 : 6;
  for (const rr of records) {
    out.push({ address: rr.data as string, family, recordType, ttlSec: clipTtl(rr.ttl), rawTtlSec: rr.ttl });
  }
}

function noData(name: string, types: Array<'A' | 'AAAA'>): DnsError {
  return new DnsError('DNS_NO_DATA', `${name}: no ${types.join(' or ')} records`, { details: { name, types } });
}

function literalResult(n: string, literal: 4 | 6, family: AddressFamily, started: number): ResolvedName {
  return {
    name: n,
    canonicalName: n,
    cnames: [],
    family,
    addresses: [{ address: n, family: literal, recordType: 'IP', ttlSec: MAX_TTL_SEC, rawTtlSec: MAX_TTL_SEC }],
    partialErrors: [],
    transport: 'none',
    elapsedMs: performance.now() - started,
  };
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * One single-family lookup on the hot path, where its first UDP exchange ends (the resolver does the
 * work: this only carries the lookup's state and its promise's ends).
 */
class AddressLookup implements ExchangeSink {
  // (declared and set in the constructor: class fields would compile to an initializer function of
  // their own, called on every lookup)
  declare private readonly resolver: DnsResolver;
  declare readonly name: string;
  declare readonly type: 'A' | 'AAAA';
  declare readonly family: AddressFamily;
  declare readonly signal: AbortSignal | undefined;
  declare readonly started: number;
  declare readonly resolve: (result: ResolvedName) => void;
  declare readonly reject: (error: Error) => void;

  constructor(
    resolver: DnsResolver,
    name: string,
    type: 'A' | 'AAAA',
    family: AddressFamily,
    signal: AbortSignal | undefined,
    started: number,
    resolve: (result: ResolvedName) => void,
    reject: (error: Error) => void,
  ) {
    this.resolver = resolver;
    this.name = name;
    this.type = type;
    this.family = family;
    this.signal = signal;
    this.started = started;
    this.resolve = resolve;
    this.reject = reject;
  }

  answered(message: Buffer, plain: number[] | undefined, response: DnsResponse | undefined): void {
    this.resolver.lookupAnswered(this, message, plain, response);
  }

  failed(error: Error): void {
    this.resolver.lookupFailed(this, error);
  }
}

function loopbackResult(n: string, family: AddressFamily, started: number): ResolvedName {
  const addresses: ResolvedAddress[] = [];
  const ip = (address: string, v: 4 | 6): ResolvedAddress => ({
    address,
    family: v,
    recordType: 'IP',
    ttlSec: MAX_TTL_SEC,
    rawTtlSec: MAX_TTL_SEC,
  });
  if (family !== 'ipv6') addresses.push(ip('127.0.0.1', 4));
  if (family !== 'ipv4') addresses.push(ip('::1', 6));
  return {
    name: n,
    canonicalName: n,
    cnames: [],
    family,
    addresses,
    partialErrors: [],
    transport: 'none',
    elapsedMs: performance.now() - started,
  };
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}
