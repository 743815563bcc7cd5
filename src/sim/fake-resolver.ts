/**
 * A deterministic stand-in for DNS, for `spo governor dry-run`, the simulated node and the tests of
 * the root-peer providers (src/driver/root-peers.ts): the same name always gets the same answer,
 * derived from the name alone, and nothing is sent anywhere. (Which SRV target is used is drawn by
 * the providers from the run's seed, as the node draws it.)
 *
 * - A/AAAA: one or two IPv4 addresses in 198.18.0.0/15 (the benchmarking range of RFC 2544, never
 *   routed), from an FNV-1a hash of the lower-cased name; raw TTL 300 s.
 * - SRV: two records of priority 0 and weights 1 and 3, targets `a.<name>` and `b.<name>`, port
 *   3001; raw TTL 600 s.
 * - Names ending in `.invalid` (RFC 2606) are NXDOMAIN (`DNS_NXDOMAIN`); names listed in `failing`
 *   fail with `DNS_TIMEOUT`.
 */
import { splitPeer } from '../driver/node-inputs.js';
import { type AddressAnswer, isLiteralPeer, type RootPeerResolver, type SrvAnswer } from '../driver/root-peers.js';
import { SyncResult } from '../driver/sync-result.js';
import type { Peer } from '../governor/types.js';

export const FAKE_ADDRESS_TTL_S = 300;
export const FAKE_SRV_TTL_S = 600;

function fnv1a(text: string, salt: number): number {
  let h = (0x811c9dc5 ^ salt) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const dnsError = (code: string, name: string) => Object.assign(new Error(`${code}: ${name}`), { code });

/** The addresses the fake resolver gives a name. */
export function fakeAddresses(name: string): string[] {
  const n = name.toLowerCase();
  const out: string[] = [];
  const count = 1 + (fnv1a(n, 0) % 2);
  for (let i = 0; i < count; i++) {
    const h = fnv1a(n, i + 1);
    out.push(`198.${18 + ((h >>> 16) & 1)}.${(h >>> 8) & 255}.${1 + (h % 254)}`);
  }
  return [...new Set(out)];
}

/** The SRV answer of a name: targets `a.<name>` (weight 1) and `b.<name>` (weight 3), port 3001. */
function srvRecords(name: string) {
  return [
    { target: `a.${name}`, port: 3001, priority: 0, weight: 1 },
    { target: `b.${name}`, port: 3001, priority: 0, weight: 3 },
  ];
}

export class FakeResolver implements RootPeerResolver {
  /** Lookups made (name and kind), for tests. */
  readonly asked: Array<{ name: string; kind: 'address' | 'srv' }> = [];

  constructor(private readonly failing: ReadonlySet<string> = new Set()) {}

  resolveAddresses(name: string): PromiseLike<AddressAnswer> {
    this.asked.push({ name, kind: 'address' });
    return this.answer(name, () => ({ addresses: fakeAddresses(name), ttlS: FAKE_ADDRESS_TTL_S }));
  }

  resolveSrv(name: string): PromiseLike<SrvAnswer> {
    this.asked.push({ name, kind: 'srv' });
    return this.answer(name, () => ({ records: srvRecords(name), ttlS: FAKE_SRV_TTL_S }));
  }

  /**
   * Every peer an access point can resolve to here (a literal itself, a name's addresses with its
   * port, both SRV targets' addresses with the SRV port; nothing for a name that does not resolve):
   * the simulated world builds a peer for each.
   */
  peersOf(accessPoint: Peer): Peer[] {
    if (isLiteralPeer(accessPoint)) return [accessPoint];
    const { address, port } = splitPeer(accessPoint);
    const fails = (n: string) => n.toLowerCase().endsWith('.invalid') || this.failing.has(n);
    if (fails(address)) return [];
    if (port !== null) return fakeAddresses(address).map((a) => `${a}:${port}`);
    return srvRecords(address).flatMap((r) =>
      fails(r.target) ? [] : fakeAddresses(r.target).map((a) => `${a}:${r.port}`),
    );
  }

  private answer<T>(name: string, make: () => T): PromiseLike<T> {
    const r = new SyncResult<T>();
    if (name.toLowerCase().endsWith('.invalid')) r.reject(dnsError('DNS_NXDOMAIN', name));
    else if (this.failing.has(name)) r.reject(dnsError('DNS_TIMEOUT', name));
    else r.resolve(make());
    return r;
  }
}
