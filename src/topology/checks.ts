/**
 * The network checks of `spo topology lint`: `--resolve` looks every name up the way the node does
 * (DNS names by A/AAAA, SRV names as written, since topology SRV names carry their prefix), and
 * counts a group's addresses against its hotValency; `--probe` connects to every address with the
 * node-to-node handshake (src/probe over src/net). Both produce lint findings.
 */
import type { AddressFamily, DnsResolver } from '../dns/index.js';
import { isDnsError } from '../dns/index.js';
import { classifyAddress } from '../lib/address.js';
import { describeError } from '../lib/errors.js';
import type { ProbeAddressResult, ProbeEndpoint, ProbeRelay, ProbeTarget } from '../probe/model.js';
import { probeEndpoints, type StageFunction } from '../probe/scheduler.js';
import { jsonPath } from './decode.js';
import { type AccessPoint, accessPointText, endpointKey, type Topology, type TopologyFinding } from './model.js';

/** Where an access point sits in the file (for paths and severities). */
export interface PlacedAccessPoint {
  ap: AccessPoint;
  path: string;
  where: 'local' | 'public' | 'bootstrap';
  group: number;
}

export function placedAccessPoints(t: Topology): PlacedAccessPoint[] {
  const out: PlacedAccessPoint[] = [];
  t.localRoots.forEach((g, i) => {
    g.accessPoints.forEach((ap, j) => {
      out.push({ ap, path: jsonPath('localRoots', i, 'accessPoints', j), where: 'local', group: i });
    });
  });
  t.publicRoots.forEach((g, i) => {
    g.accessPoints.forEach((ap, j) => {
      out.push({ ap, path: jsonPath('publicRoots', i, 'accessPoints', j), where: 'public', group: i });
    });
  });
  (t.bootstrapPeers ?? []).forEach((ap, j) => {
    out.push({ ap, path: jsonPath('bootstrapPeers', j), where: 'bootstrap', group: 0 });
  });
  return out;
}

export interface ResolvedAccessPoint extends PlacedAccessPoint {
  endpoints: ProbeEndpoint[];
  error?: { code: string; message: string };
}

/** Resolves one access point as the node would: IPs pass, names by A/AAAA, SRV names as written. */
export async function resolveAccessPoint(
  resolver: DnsResolver,
  ap: AccessPoint,
  family: AddressFamily,
  signal?: AbortSignal,
): Promise<ProbeEndpoint[]> {
  if (ap.kind === 'ipv4' || ap.kind === 'ipv6') {
    return [{ address: ap.address, port: ap.port ?? 0, family: ap.kind === 'ipv4' ? 4 : 6 }];
  }
  if (ap.kind === 'srv') {
    const r = await resolver.resolveSrv(ap.address, { family, signal, asIs: true });
    return r.addresses.map((a) => ({
      address: a.address,
      port: a.port ?? 0,
      family: a.family,
      ...(a.target === undefined ? {} : { srvTarget: a.target }),
    }));
  }
  const r = await resolver.resolveAddresses(ap.address, { family, signal });
  return r.addresses.map((a) => ({ address: a.address, port: ap.port ?? 0, family: a.family }));
}

/** `--resolve`: unresolvable names, and hotValency against the resolved address count. */
export async function resolveCheck(
  t: Topology,
  resolver: DnsResolver,
  options: { family?: AddressFamily; signal?: AbortSignal | undefined } = {},
): Promise<{ findings: TopologyFinding[]; resolved: ResolvedAccessPoint[] }> {
  const family = options.family ?? 'both';
  const placed = placedAccessPoints(t);
  const resolved = await Promise.all(
    placed.map(async (p): Promise<ResolvedAccessPoint> => {
      try {
        return { ...p, endpoints: await resolveAccessPoint(resolver, p.ap, family, options.signal) };
      } catch (error) {
        if (options.signal?.aborted) throw error;
        const code = isDnsError(error) ? error.code : 'DNS_FAILED';
        return { ...p, endpoints: [], error: { code, message: describeError(error) } };
      }
    }),
  );
  const findings: TopologyFinding[] = [];
  for (const r of resolved) {
    if (r.error) {
      const missing = r.error.code === 'DNS_NXDOMAIN' || r.error.code === 'DNS_NO_DATA';
      findings.push({
        code: missing ? 'TOPOLOGY_UNRESOLVED' : 'TOPOLOGY_RESOLVE_FAILED',
        severity: missing ? 'error' : 'warning',
        path: `${r.path}.address`,
        message: `${accessPointText(r.ap)} does not resolve (${r.error.code}): the node cannot connect to it`,
        fix: missing
          ? 'fix the name, or add its A/AAAA (or SRV) records'
          : 'check the DNS servers (--dns-server) and try again',
      });
    } else if (r.endpoints.length === 0 && r.ap.kind !== 'ipv4' && r.ap.kind !== 'ipv6') {
      findings.push({
        code: 'TOPOLOGY_UNRESOLVED',
        severity: 'error',
        path: `${r.path}.address`,
        message: `${accessPointText(r.ap)} resolves to no address: the node cannot connect to it`,
        fix: 'add A/AAAA records (or SRV targets) for the name',
      });
    }
  }
  // A name in the public roots or bootstrap peers gets the literal's rule for each address it
  // resolves to: a name pointing at 10.x or 127.0.0.1 is no more a public peer than the literal is.
  for (const r of resolved) {
    if (r.where === 'local' || (r.ap.kind !== 'dns' && r.ap.kind !== 'srv')) continue;
    const bad = r.endpoints.flatMap((e) => {
      const cls = classifyAddress(e.address);
      return cls === undefined ? [] : [`${e.address} (${cls})`];
    });
    if (bad.length === 0) continue;
    const list = r.where === 'public' ? 'publicRoots' : 'bootstrapPeers';
    findings.push({
      code: 'TOPOLOGY_PUBLIC_ROOT_PRIVATE',
      severity: 'warning',
      path: `${r.path}.address`,
      message: `${accessPointText(r.ap)} in ${list} resolves to ${bad.join(', ')}: not a public peer, other nodes cannot use it`,
      fix: 'point the name at public addresses, or move your own machines to local roots',
    });
  }
  // A group's hotValency counts addresses, so names resolving to several addresses count several times.
  t.localRoots.forEach((g, i) => {
    if (g.hotValency <= 0 || g.accessPoints.length === 0) return;
    if (!g.accessPoints.some((a) => a.kind === 'dns' || a.kind === 'srv')) return;
    const addresses = new Set(
      resolved
        .filter((r) => r.where === 'local' && r.group === i)
        .flatMap((r) => r.endpoints.map((e) => `${e.address}|${e.port}`)),
    );
    const n = addresses.size;
    if (g.hotValency > n)
      findings.push({
        code: 'TOPOLOGY_HOTVALENCY',
        severity: 'error',
        path: jsonPath('localRoots', i, 'hotValency'),
        message: `hotValency ${g.hotValency} is above the ${n} address(es) the access points of group ${i} resolve to: the node lowers it to ${n}`,
        fix: `set hotValency to at most ${n}, or add access points`,
      });
  });
  return { findings, resolved };
}

/**
 * `--probe`: a handshake with every address (src/probe's scheduler and stage function). Local roots
 * and bootstrap peers that do not answer are errors; public roots, warnings.
 */
export async function probeCheck(
  t: Topology,
  options: ProbeRunner & { signal?: AbortSignal | undefined },
): Promise<TopologyFinding[]> {
  const placed = placedAccessPoints(t);
  const byPath = new Map(placed.map((p) => [p.path, p]));
  const byTarget = new Map<string, { ok: boolean; failures: string[] }>();
  for await (const r of probeAccessPoints(
    placed.map((p) => [p.path, p.ap]),
    options,
    options.signal,
  )) {
    const e = byTarget.get(r.pool) ?? { ok: false, failures: [] };
    if (r.status === 'ok') e.ok = true;
    else e.failures.push(`${r.address}${r.port === null ? '' : `:${r.port}`} ${r.status}`);
    byTarget.set(r.pool, e);
  }
  const findings: TopologyFinding[] = [];
  for (const [path, e] of byTarget) {
    if (e.ok) continue;
    const p = byPath.get(path);
    if (!p) continue;
    findings.push({
      code: 'TOPOLOGY_UNREACHABLE',
      severity: p.where === 'public' ? 'warning' : 'error',
      path,
      message: `${accessPointText(p.ap)} does not answer the node-to-node handshake (${e.failures.slice(0, 3).join(', ')})`,
      fix: 'check that the relay runs, listens on that port, is open in its firewall and uses this network',
    });
  }
  return findings;
}

export interface ProbeRunner {
  resolve: (ap: AccessPoint, signal: AbortSignal) => Promise<ProbeEndpoint[]>;
  attempt: StageFunction;
  attemptDeadlineMs: number;
  stageTimeoutMs: number;
}

/**
 * The real probe machinery: access points resolved by `resolver`, then TCP connect and the
 * node-to-node handshake with `magic` through src/net's connectPeer (loaded lazily) and one
 * keep-alive round trip for the RTT.
 */
export async function createProbeRunner(options: {
  resolver: DnsResolver;
  family: AddressFamily;
  magic: number;
  stageTimeoutMs: number;
}): Promise<ProbeRunner> {
  const { loadConnector } = await import('../probe/net-client.js');
  const { attemptDeadline, createStageFunction } = await import('../probe/attempt.js');
  const connect = await loadConnector();
  const stage = { stageTimeoutMs: options.stageTimeoutMs, samples: 1, tip: false };
  return {
    resolve: (ap, signal) => resolveAccessPoint(options.resolver, ap, options.family, signal),
    attempt: createStageFunction({ connect, magic: options.magic, ...stage }),
    attemptDeadlineMs: attemptDeadline(stage),
    stageTimeoutMs: options.stageTimeoutMs,
  };
}

/**
 * Handshakes with every address of the access points (src/probe's scheduler, no retries); each
 * result's `pool` is the key the access point was given.
 */
function probeAccessPoints(
  keyed: Array<[string, AccessPoint]>,
  runner: ProbeRunner,
  signal: AbortSignal | undefined,
): AsyncIterable<ProbeAddressResult> {
  // The scheduler hands each target's relay object back to resolve: map it to its access point.
  const apOf = new Map<ProbeRelay, AccessPoint>();
  const targets: ProbeTarget[] = keyed.map(([key, ap]) => {
    const relay: ProbeRelay = { kind: ap.kind, host: ap.address, port: ap.port };
    apOf.set(relay, ap);
    return { pool: key, relay };
  });
  return probeEndpoints(targets, {
    resolve: async (relay, s) => {
      const ap = apOf.get(relay);
      return ap ? runner.resolve(ap, s) : [];
    },
    attempt: runner.attempt,
    concurrency: 64,
    attemptDeadlineMs: runner.attemptDeadlineMs,
    stageTimeoutMs: runner.stageTimeoutMs,
    retry: 'never',
    signal,
  });
}

/** Probes access points; the best RTT (ms) of each that answered, keyed by endpointKey. */
export async function probeRtts(
  aps: readonly AccessPoint[],
  runner: ProbeRunner,
  signal?: AbortSignal,
): Promise<Map<string, number | undefined>> {
  const { rttOf } = await import('../probe/aggregate.js');
  const byKey = new Map(aps.map((ap) => [endpointKey(ap), ap]));
  const out = new Map<string, number | undefined>();
  for await (const r of probeAccessPoints([...byKey], runner, signal)) {
    const rtt = rttOf(r);
    const prev = out.get(r.pool);
    if (rtt !== undefined && (prev === undefined || rtt < prev)) out.set(r.pool, rtt);
    else if (!out.has(r.pool)) out.set(r.pool, undefined);
  }
  return out;
}
