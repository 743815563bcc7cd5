import { Flags } from '@oclif/core';
import { parseDuration } from '../lib/duration.js';
import { InputError } from '../lib/errors.js';
import type { AddressFamily, DnsResolverOptions } from './index.js';
import { parseDnsServer } from './resolv-conf.js';

/** `--dns-server` alone, for commands whose `--timeout` means something else. */
export const dnsServerFlags = {
  'dns-server': Flags.string({
    description: 'DNS server to ask, IP[:PORT] (repeatable; default: the nameservers of /etc/resolv.conf)',
    helpValue: 'HOST[:PORT]',
    multiple: true,
    // one value per --dns-server, so that names may follow it on the command line
    multipleNonGreedy: true,
    helpGroup: 'DNS',
  }),
  'ipv4-only': Flags.boolean({
    description: 'look up A records only',
    exclusive: ['ipv6-only'],
    helpGroup: 'DNS',
  }),
  'ipv6-only': Flags.boolean({
    description: 'look up AAAA records only',
    exclusive: ['ipv4-only'],
    helpGroup: 'DNS',
  }),
};

/** The DNS flags of every command that resolves names (docs/CONVENTIONS.md). */
export const dnsFlags = {
  ...dnsServerFlags,
  timeout: Flags.string({
    description: 'timeout of each DNS query, per server (e.g. 500ms, 3s)',
    default: '3s',
    helpValue: 'DURATION',
    helpGroup: 'DNS',
  }),
};

export interface DnsFlagValues {
  'dns-server'?: string[] | undefined;
  'ipv4-only'?: boolean | undefined;
  'ipv6-only'?: boolean | undefined;
  timeout?: string | undefined;
}

/** Resolver options and the address family from parsed flags. */
export function dnsOptions(flags: DnsFlagValues): { resolver: DnsResolverOptions; family: AddressFamily } {
  const resolver: DnsResolverOptions = {};
  const servers = (flags['dns-server'] ?? []).map(parseDnsServer);
  if (servers.length > 0) resolver.servers = servers;
  if (flags.timeout !== undefined) {
    const ms = parseDuration(flags.timeout, '--timeout');
    if (ms <= 0) throw new InputError('BAD_DURATION', `invalid --timeout: "${flags.timeout}" must be positive`);
    resolver.timeoutMs = ms;
  }
  const family: AddressFamily = flags['ipv4-only'] ? 'ipv4' : flags['ipv6-only'] ? 'ipv6' : 'both';
  return { resolver, family };
}
