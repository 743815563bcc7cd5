/**
 * spo's DNS client (src/dns) as the live node's two name-resolution parameters: the root-peer
 * providers' `RootPeerResolver` (src/driver/root-peers.ts: A/AAAA with the raw TTL, SRV records) and
 * the peer state actions' `PeerResolver` (a name given as a peer, dialled at its first address).
 * A shell: it sends DNS queries.
 */

import type { DnsResolver } from '../dns/index.js';
import type { AddressAnswer, RootPeerResolver, SrvAnswer } from '../driver/root-peers.js';
import { srvQueryName } from '../lib/address.js';
import type { PeerResolver } from './peer-state-actions.js';

export function nodeResolver(dns: DnsResolver): RootPeerResolver & PeerResolver {
  return {
    async resolveAddresses(name: string): Promise<AddressAnswer> {
      const r = await dns.resolveAddresses(name);
      // the shortest TTL of the answer: the name is looked up again when the first record expires
      const ttlS = r.addresses.reduce((m, a) => Math.min(m, a.rawTtlSec), Number.POSITIVE_INFINITY);
      return { addresses: r.addresses.map((a) => a.address), ttlS: Number.isFinite(ttlS) ? ttlS : 60 };
    },
    async resolveSrv(name: string): Promise<SrvAnswer> {
      // the SRV records only (the root-peer provider draws the target and resolves it itself)
      const r = await dns.resolveSrv(srvQueryName(name), { asIs: true });
      const ttlS = r.records.reduce((m, x) => Math.min(m, x.ttl), Number.POSITIVE_INFINITY);
      return {
        records: r.records.map((x) => ({ target: x.target, port: x.port, priority: x.priority, weight: x.weight })),
        ttlS: Number.isFinite(ttlS) ? ttlS : 60,
      };
    },
    async addresses(name: string, signal?: AbortSignal) {
      const r = await dns.resolveAddresses(name, { signal });
      return r.addresses.map((a) => ({ address: a.address, family: a.family }));
    },
  };
}
