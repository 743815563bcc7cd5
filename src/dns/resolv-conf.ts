import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { Endpoint } from '../lib/address.js';
import { parseEndpoint } from '../lib/address.js';
import { InputError } from '../lib/errors.js';

/** The `nameserver` lines of a resolv.conf text (glibc falls back to 127.0.0.1 when there is none). */
export function parseResolvConf(text: string): Endpoint[] {
  const servers: Endpoint[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (!m) continue;
    const host = (m[1] as string).replace(/%.*$/, ''); // drop an IPv6 zone id
    if (isIP(host)) servers.push({ host, port: 53 });
  }
  return servers;
}

export function systemServers(path = '/etc/resolv.conf'): Endpoint[] {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    // no resolv.conf: the glibc default below
  }
  const servers = parseResolvConf(text);
  return servers.length > 0 ? servers : [{ host: '127.0.0.1', port: 53 }];
}

/** Parses a `--dns-server` value: an IP address with an optional port (53). */
export function parseDnsServer(text: string): Endpoint {
  const bad = (why: string): InputError =>
    new InputError('BAD_DNS_SERVER', `invalid DNS server "${text}": ${why}`, {
      hint: 'give the server as IP[:PORT] or [IPv6]:PORT, e.g. --dns-server 127.0.0.1:5353',
    });
  let e: Endpoint;
  try {
    e = parseEndpoint(text, 53);
  } catch (error) {
    // parseEndpoint's message speaks of relay addresses and SRV names: say it in DNS-server terms
    throw bad(error instanceof Error ? error.message.replace(/^invalid address "[^"]*": /, '') : 'not an address');
  }
  if (!isIP(e.host)) throw bad('not an IP address');
  return e;
}
