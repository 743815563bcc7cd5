import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { InputError } from './errors.js';

/** What a relay or access point is, by the form of its host. */
export type HostKind = 'ipv4' | 'ipv6' | 'dns' | 'srv';

export interface Endpoint {
  host: string;
  port: number;
}

/** Why an address is not usable as a public peer; undefined for a public unicast address. */
export type AddressClass =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'shared' // 100.64.0.0/10 carrier-grade NAT
  | 'documentation'
  | 'multicast'
  | 'reserved'
  | 'unique-local';

const HOSTNAME =
  /^(?=.{1,253}$)(?!-)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?(?:\.(?!-)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?)*\.?$/i;

export function hostKind(host: string): HostKind {
  if (isIPv4(host)) return 'ipv4';
  if (isIPv6(host)) return 'ipv6';
  return host.startsWith('_') ? 'srv' : 'dns';
}

/** A syntactically valid DNS name (labels of letters, digits, `-`, `_`; at most 253 characters). */
export function isValidHostname(name: string): boolean {
  return HOSTNAME.test(name);
}

export function isValidPort(port: unknown): port is number {
  return typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535;
}

const classes: Array<[AddressClass, BlockList]> = (() => {
  const make = (v4: string[], v6: string[]): BlockList => {
    const list = new BlockList();
    for (const c of v4) {
      const [net, bits] = c.split('/') as [string, string];
      list.addSubnet(net, Number(bits), 'ipv4');
    }
    for (const c of v6) {
      const [net, bits] = c.split('/') as [string, string];
      list.addSubnet(net, Number(bits), 'ipv6');
    }
    return list;
  };
  return [
    ['unspecified', make(['0.0.0.0/8'], ['::/128'])],
    ['loopback', make(['127.0.0.0/8'], ['::1/128'])],
    ['private', make(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'], [])],
    ['unique-local', make([], ['fc00::/7'])],
    ['link-local', make(['169.254.0.0/16'], ['fe80::/10'])],
    ['shared', make(['100.64.0.0/10'], [])],
    ['documentation', make(['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24'], ['2001:db8::/32'])],
    ['multicast', make(['224.0.0.0/4'], ['ff00::/8'])],
    ['reserved', make(['240.0.0.0/4', '192.0.0.0/24', '198.18.0.0/15'], [])],
  ];
})();

/** Classifies an IP literal; undefined means a public unicast address. */
export function classifyAddress(ip: string): AddressClass | undefined {
  const family = isIPv4(ip) ? 'ipv4' : isIPv6(ip) ? 'ipv6' : undefined;
  if (!family) return undefined;
  // IPv4-mapped IPv6 (::ffff:a.b.c.d) is classified as the IPv4 address it carries.
  const mapped = family === 'ipv6' ? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1] : undefined;
  for (const [name, list] of classes) {
    if (mapped ? list.check(mapped, 'ipv4') : list.check(ip, family)) return name;
  }
  return undefined;
}

/**
 * Parses `HOST:PORT`, `[IPv6]:PORT`, a bare IPv6 literal, or a bare host (then `defaultPort`).
 * A name starting with `_` is an SRV name and needs no port.
 */
export function parseEndpoint(text: string, defaultPort?: number): Endpoint {
  const s = text.trim();
  let host: string;
  let portText: string | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracket) {
    host = bracket[1] as string;
    portText = bracket[2];
    if (!isIPv6(host)) throw badAddress(text, 'brackets are only for IPv6 addresses');
  } else if (isIPv6(s)) {
    host = s;
  } else {
    const i = s.lastIndexOf(':');
    if (i >= 0) {
      host = s.slice(0, i);
      portText = s.slice(i + 1);
    } else host = s;
  }
  if (host === '') throw badAddress(text, 'the host is empty');
  if (!isIPv4(host) && !isIPv6(host) && !isValidHostname(host))
    throw badAddress(text, `"${host}" is not a valid host name or IP address`);
  let port: number | undefined;
  if (portText !== undefined) {
    port = /^\d+$/.test(portText) ? Number(portText) : Number.NaN;
    if (!isValidPort(port)) throw badAddress(text, `"${portText}" is not a port (1-65535)`);
  } else port = defaultPort;
  if (port === undefined) throw badAddress(text, 'no port given');
  return { host: isIPv6(host) || isIPv4(host) ? host : host.toLowerCase(), port };
}

function badAddress(text: string, why: string): InputError {
  return new InputError('BAD_ADDRESS', `invalid address "${text}": ${why}`, {
    hint: 'use HOST:PORT, [IPv6]:PORT, or a DNS name (an SRV name starts with _)',
  });
}

/** Formats an endpoint the way users write it: `[::1]:3001` for IPv6. */
export function formatEndpoint(e: Endpoint): string {
  return isIPv6(e.host) ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/** CIP-0155: an SRV relay name is looked up under `_cardano._tcp.` unless it already carries that prefix. */
export function srvQueryName(name: string): string {
  const n = name.toLowerCase().replace(/\.$/, '');
  return n.startsWith('_cardano._tcp.') ? n : `_cardano._tcp.${n}`;
}
