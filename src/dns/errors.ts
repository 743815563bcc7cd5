import { SpoError, type SpoErrorOptions } from '../lib/errors.js';

/** Stable codes of every DNS failure (docs/json.md). */
export type DnsErrorCode =
  | 'DNS_NXDOMAIN'
  | 'DNS_SERVFAIL'
  | 'DNS_REFUSED'
  | 'DNS_TIMEOUT'
  | 'DNS_MALFORMED'
  | 'DNS_NO_DATA'
  | 'DNS_CNAME_LIMIT'
  | 'DNS_RCODE'
  | 'DNS_NETWORK'
  | 'DNS_BAD_NAME';

const HINTS: Record<DnsErrorCode, string> = {
  DNS_NXDOMAIN: 'the name does not exist: check its spelling (an SRV name is looked up under _cardano._tcp.)',
  DNS_SERVFAIL: 'the DNS server failed to answer; try again later or another server with --dns-server',
  DNS_REFUSED: 'the DNS server refused the query; use a server that resolves this name (--dns-server HOST[:PORT])',
  DNS_TIMEOUT: 'no valid answer in time; check the server with --dns-server, or raise --timeout',
  DNS_MALFORMED: 'the DNS server sent answers spo cannot trust; try another server with --dns-server',
  DNS_NO_DATA: 'the name exists but has no records of the requested type (try without --ipv4-only/--ipv6-only)',
  DNS_CNAME_LIMIT: 'the name is an overly long or looping CNAME chain; fix the zone',
  DNS_RCODE: 'the DNS server answered with an error; try another server with --dns-server',
  DNS_NETWORK: 'the DNS server could not be reached; check --dns-server and /etc/resolv.conf',
  DNS_BAD_NAME: 'a DNS name is labels of letters, digits, - and _ (at most 63 bytes each, 253 in all)',
};

/** A DNS failure: a SpoError whose code says which (NXDOMAIN, SERVFAIL, timeout, ...). */
export class DnsError extends SpoError {
  declare readonly code: DnsErrorCode;
  constructor(code: DnsErrorCode, message: string, options: Omit<SpoErrorOptions, 'hint'> & { hint?: string } = {}) {
    super(code, message, { ...options, hint: options.hint ?? HINTS[code] });
    this.name = 'DnsError';
  }
}

export function isDnsError(error: unknown): error is DnsError {
  return error instanceof DnsError;
}

/**
 * Which of two failures to report: a definite answer from a server (NXDOMAIN, REFUSED, SERVFAIL)
 * says more than a malformed packet, which says more than silence.
 */
const RANK: Record<DnsErrorCode, number> = {
  DNS_BAD_NAME: 10,
  DNS_NXDOMAIN: 9,
  DNS_NO_DATA: 8,
  DNS_CNAME_LIMIT: 7,
  DNS_SERVFAIL: 6,
  DNS_REFUSED: 5,
  DNS_RCODE: 4,
  DNS_MALFORMED: 3,
  DNS_NETWORK: 2,
  DNS_TIMEOUT: 1,
};

export function moreInformative(a: DnsError | undefined, b: DnsError): DnsError {
  return a === undefined || RANK[b.code] > RANK[a.code] ? b : a;
}
