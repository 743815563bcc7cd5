/**
 * Registry hygiene: classifies every relay, lower-cases names, removes exact duplicates inside a
 * pool and finds endpoints registered by more than one pool. Everything done or found is reported
 * as a finding and as flags on the relay; nothing is dropped here (export decides, and says so).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { classifyAddress, isValidHostname } from '../lib/address.js';
import type { Pool, RegistryFinding, Relay, RelayKind } from './model.js';

/** A relay as a parser read it, before hygiene. */
export interface RawRelay {
  kind: RelayKind;
  host: string;
  port?: number | undefined;
  /** Set by parsers, e.g. `default-port` when the source gave none. */
  flags?: string[];
}

export interface RawPool extends Omit<Pool, 'relays'> {
  relays: RawRelay[];
}

/** `host:port`, `[v6]:port`, or the bare name for SRV. */
export function relayLabel(r: { kind?: RelayKind; host: string; port?: number | undefined }): string {
  if (r.port === undefined) return r.host;
  const v6 = r.kind === undefined ? isIPv6(r.host) : r.kind === 'ipv6';
  return v6 ? `[${r.host}]:${r.port}` : `${r.host}:${r.port}`;
}

const ADDRESS_FLAG: Record<string, string> = {
  unspecified: 'unspecified',
  loopback: 'loopback',
  private: 'private',
  'unique-local': 'unique-local',
  'link-local': 'link-local',
  shared: 'shared-address-space',
  documentation: 'documentation',
  multicast: 'multicast',
  reserved: 'reserved',
};

const FLAG_TEXT: Record<string, string> = {
  unspecified: 'an unspecified address (0.0.0.0 or ::) is not reachable',
  loopback: 'a loopback address is only reachable from the machine itself',
  private: 'a private (RFC 1918) address is not reachable from the Internet',
  'unique-local': 'a unique-local IPv6 address is not reachable from the Internet',
  'link-local': 'a link-local address is not reachable from the Internet',
  'shared-address-space': 'a carrier-grade NAT address (100.64.0.0/10) is not reachable from the Internet',
  documentation: 'a documentation address is not a real host',
  multicast: 'a multicast address cannot be a relay',
  reserved: 'a reserved address cannot be a relay',
  'invalid-port': 'port 0 cannot be connected to',
  'malformed-name': 'not a valid DNS name',
  'malformed-address': 'not a valid IP address',
};

/**
 * A cheap pre-check in front of classifyAddress (a BlockList walk, ~20 µs per address): false only
 * for addresses certainly outside every special range, so classifyAddress stays the authority.
 */
export function maybeSpecial(kind: 'ipv4' | 'ipv6', host: string): boolean {
  if (kind === 'ipv6') {
    const first = Number.parseInt(host.slice(0, host.indexOf(':')) || '0', 16);
    // global unicast 2000::/3 except documentation 2001:db8::/32
    return !(first >= 0x2000 && first <= 0x3fff) || /^2001:0?db8:/i.test(host);
  }
  const dot1 = host.indexOf('.');
  const a = Number(host.slice(0, dot1));
  const b = Number(host.slice(dot1 + 1, host.indexOf('.', dot1 + 1)));
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    a >= 224 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && (b === 0 || b === 168)) ||
    (a === 198 && (b === 18 || b === 19 || b === 51)) ||
    (a === 203 && b === 0)
  );
}

/**
 * The hygiene flag of an address a name resolved to (`loopback`, `private`...), undefined for a
 * public unicast address: a registered name gets the same verdict as the literal would.
 */
export function resolvedAddressFlag(address: string): string | undefined {
  const kind = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
  if (kind === undefined || !maybeSpecial(kind, address)) return undefined;
  const cls = classifyAddress(address);
  return cls === undefined ? undefined : (ADDRESS_FLAG[cls] ?? cls);
}

export interface HygieneResult {
  pools: Pool[];
  findings: RegistryFinding[];
}

/** Applies the hygiene rules to parsed pools. Pure. */
export function applyHygiene(raw: readonly RawPool[]): HygieneResult {
  const findings: RegistryFinding[] = [];
  // label (it names kind, host and port) -> the first pool and relay registering it; the shared
  // ones get an entry in `shared` (no allocation for the usual, unshared relay)
  const firstPool = new Map<string, string>();
  const firstRelay = new Map<string, Relay>();
  const shared = new Map<string, { ids: string[]; relays: Relay[] }>();
  const pools: Pool[] = [];
  for (const rp of raw) {
    // duplicates inside one pool: a scan for the usual handful of relays, a Set beyond that
    const seenList: string[] = [];
    const seenSet = rp.relays.length > 16 ? new Set<string>() : undefined;
    const relays: Relay[] = [];
    for (const r of rp.relays) {
      const flags = r.flags ? r.flags.slice() : [];
      let host = r.host;
      if (r.kind === 'dns' || r.kind === 'srv') {
        const lower = host.toLowerCase();
        if (lower !== host) {
          flags.push('lower-cased');
          findings.push({
            code: 'lower-cased',
            severity: 'info',
            pool: rp.id,
            relay: relayLabel({ kind: r.kind, host, port: r.port }),
            message: `name "${host}" lower-cased to "${lower}"`,
          });
          host = lower;
        }
        // "relay.example.com." is the same name written fully qualified; keeping the dot would hide
        // it from duplicate and shared-endpoint detection
        if (host.length > 1 && host.endsWith('.')) {
          const bare = host.slice(0, -1);
          flags.push('trailing-dot');
          findings.push({
            code: 'trailing-dot',
            severity: 'info',
            pool: rp.id,
            relay: relayLabel({ kind: r.kind, host, port: r.port }),
            message: `name "${host}" written without its trailing dot as "${bare}"`,
          });
          host = bare;
        }
        if (!isValidHostname(host)) flags.push('malformed-name');
        // CIP-0155: the ledger holds the bare name and _cardano._tcp. is prefixed when resolving;
        // a name already carrying another service prefix (Blockfrost's example) would not resolve
        else if (r.kind === 'srv' && host.startsWith('_') && !host.startsWith('_cardano._tcp.')) {
          flags.push('srv-prefixed');
          findings.push({
            code: 'srv-prefixed',
            severity: 'warning',
            pool: rp.id,
            relay: host,
            message: `SRV name "${host}" already carries a service prefix; it is looked up under _cardano._tcp.${host}`,
          });
        }
      } else {
        // node:net accepts a zone id (fe80::1%eth0); the ledger holds 16 bytes and the node refuses it
        const valid = r.kind === 'ipv4' ? isIPv4(host) : isIPv6(host) && !host.includes('%');
        const cls = valid && maybeSpecial(r.kind, host) ? classifyAddress(host) : undefined;
        if (!valid) flags.push('malformed-address');
        else if (cls) flags.push(ADDRESS_FLAG[cls] ?? cls);
      }
      if (r.port === 0) flags.push('invalid-port');
      const label = relayLabel({ kind: r.kind, host, port: r.port });
      if (seenSet ? seenSet.has(label) : seenList.includes(label)) {
        findings.push({
          code: 'duplicate-relay',
          severity: 'info',
          pool: rp.id,
          relay: label,
          message: `${label} is registered twice by the same pool; kept once`,
        });
        continue;
      }
      if (seenSet) seenSet.add(label);
      else seenList.push(label);
      for (const f of flags) {
        const text = FLAG_TEXT[f];
        if (text) {
          findings.push({ code: f, severity: 'warning', pool: rp.id, relay: label, message: `${label}: ${text}` });
        }
      }
      const relay: Relay = { kind: r.kind, host, flags };
      if (r.port !== undefined) relay.port = r.port;
      relays.push(relay);
      const first = firstPool.get(label);
      if (first === undefined) {
        firstPool.set(label, rp.id);
        firstRelay.set(label, relay);
      } else {
        const entry = shared.get(label);
        if (entry) {
          entry.ids.push(rp.id);
          entry.relays.push(relay);
        } else shared.set(label, { ids: [first, rp.id], relays: [firstRelay.get(label) as Relay, relay] });
      }
    }
    if (relays.length === 0) {
      findings.push({ code: 'no-relays', severity: 'info', pool: rp.id, message: `pool ${rp.id} registers no relay` });
    }
    pools.push({ ...rp, relays });
  }
  // Endpoints registered by more than one pool: operators running several pools behind one relay set.
  for (const [label, { ids, relays }] of shared) {
    for (const r of relays) r.flags.push('shared-endpoint');
    findings.push({
      code: 'shared-endpoint',
      severity: 'info',
      relay: label,
      pools: ids,
      message: `${label} is registered by ${ids.length} pools`,
    });
  }
  return { pools, findings };
}
