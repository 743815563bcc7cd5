/**
 * Resolves one registered relay to endpoints the way cardano-node does: IP relays as they are (900 s),
 * DNS names by A/AAAA with the registered port, SRV names by the CIP-0155 rule with the SRV ports.
 */
import { formatEndpoint } from '../lib/address.js';
import type { AddressFamily, DnsResolver, ResolvedAddress } from './index.js';
import { MAX_TTL_SEC } from './ttl.js';

/**
 * The relay shape of src/registry/model.ts (`Relay`), restated structurally so this module does not
 * depend on the registry: any `Relay` is one.
 */
export interface RelayInput {
  kind: 'ipv4' | 'ipv6' | 'dns' | 'srv';
  host: string;
  port?: number | undefined;
}

export interface RelayEndpoint {
  /** The relay as registered (IP, DNS name or SRV name). */
  host: string;
  address: string;
  port: number;
  family: 4 | 6;
  /** Clipped to [60, 900] s (for SRV, the SRV record's TTL, as the node). */
  ttlSec: number;
  rawTtlSec: number;
  recordType: ResolvedAddress['recordType'];
  /** SRV: the target the address belongs to. */
  target?: string;
}

export interface ResolveRelayOptions {
  family?: AddressFamily;
  signal?: AbortSignal | undefined;
  /** Port for a DNS relay registered without one (the network's default, 3001). */
  defaultPort?: number;
  /** SRV: every target of the lowest priority group instead of the node's single weighted choice. */
  wholeGroup?: boolean;
}

/** The endpoints of one relay; DNS failures throw DnsError (NXDOMAIN, timeout, ...). */
export async function resolveRelay(
  resolver: DnsResolver,
  relay: RelayInput,
  options: ResolveRelayOptions = {},
): Promise<RelayEndpoint[]> {
  const family = options.family ?? 'both';
  const port = relay.port ?? options.defaultPort ?? 3001;
  if (relay.kind === 'ipv4' || relay.kind === 'ipv6') {
    const fam = relay.kind === 'ipv4' ? 4 : 6;
    if ((family === 'ipv4' && fam === 6) || (family === 'ipv6' && fam === 4)) return [];
    return [
      {
        host: relay.host,
        address: relay.host,
        port,
        family: fam,
        ttlSec: MAX_TTL_SEC,
        rawTtlSec: MAX_TTL_SEC,
        recordType: 'IP',
      },
    ];
  }
  if (relay.kind === 'srv') {
    const r = await resolver.resolveSrv(relay.host, {
      family,
      signal: options.signal,
      ...(options.wholeGroup === undefined ? {} : { wholeGroup: options.wholeGroup }),
    });
    return r.addresses.map((a) => ({
      host: relay.host,
      address: a.address,
      port: a.port ?? port,
      family: a.family,
      ttlSec: a.ttlSec,
      rawTtlSec: a.rawTtlSec,
      recordType: a.recordType,
      ...(a.target === undefined ? {} : { target: a.target }),
    }));
  }
  const r = await resolver.resolveAddresses(relay.host, { family, signal: options.signal });
  return r.addresses.map((a) => ({
    host: relay.host,
    address: a.address,
    port,
    family: a.family,
    ttlSec: a.ttlSec,
    rawTtlSec: a.rawTtlSec,
    recordType: a.recordType,
  }));
}

/** `address:port` of an endpoint, bracketed for IPv6. */
export function endpointText(e: RelayEndpoint): string {
  return formatEndpoint({ host: e.address, port: e.port });
}
