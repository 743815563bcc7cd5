import { describe, expect, it } from 'vitest';
import { classifyAddress, formatEndpoint, hostKind, parseEndpoint, srvQueryName } from '../../src/lib/address.js';

describe('parseEndpoint', () => {
  it.each([
    ['1.2.3.4:3001', { host: '1.2.3.4', port: 3001 }],
    ['[2001:db8::1]:6000', { host: '2001:db8::1', port: 6000 }],
    ['Relay.Example.COM:3001', { host: 'relay.example.com', port: 3001 }],
    ['relay.example.com', { host: 'relay.example.com', port: 3001 }],
    ['::1', { host: '::1', port: 3001 }],
  ])('parses %s', (text, expected) => {
    expect(parseEndpoint(text, 3001)).toEqual(expected);
  });

  it.each(['1.2.3.4:0', '1.2.3.4:70000', 'host:abc', '[1.2.3.4]:1', ':3001', 'bad host:1', 'x'.repeat(300)])(
    'rejects %s with a usage error',
    (text) => {
      expect(() => parseEndpoint(text, 3001)).toThrowError(/invalid address/);
    },
  );

  it('requires a port when there is no default', () => {
    expect(() => parseEndpoint('relay.example.com')).toThrowError(/no port/);
  });

  it('formats IPv6 with brackets', () => {
    expect(formatEndpoint({ host: '::1', port: 1 })).toBe('[::1]:1');
    expect(formatEndpoint({ host: 'a.b', port: 2 })).toBe('a.b:2');
  });
});

describe('classifyAddress', () => {
  it.each([
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.30.100.10', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fd00::1', 'unique-local'],
    ['100.100.100.100', 'shared'],
    ['::ffff:10.0.0.1', 'private'],
    ['8.8.8.8', undefined],
    ['2a01:4f8::1', undefined],
  ])('%s is %s', (ip, cls) => {
    expect(classifyAddress(ip)).toBe(cls);
  });
});

describe('hostKind and SRV names', () => {
  it('tells the kind of a host', () => {
    expect(hostKind('1.2.3.4')).toBe('ipv4');
    expect(hostKind('::1')).toBe('ipv6');
    expect(hostKind('relay.example.com')).toBe('dns');
    expect(hostKind('_cardano._tcp.example.com')).toBe('srv');
  });
  it('prepends _cardano._tcp. once (CIP-0155)', () => {
    expect(srvQueryName('example.com')).toBe('_cardano._tcp.example.com');
    expect(srvQueryName('_cardano._tcp.Example.com.')).toBe('_cardano._tcp.example.com');
  });
});

describe('parseDnsServer', () => {
  it('accepts IP[:PORT] and [IPv6]:PORT', async () => {
    const { parseDnsServer } = await import('../../src/dns/resolv-conf.js');
    expect(parseDnsServer('127.0.0.1')).toEqual({ host: '127.0.0.1', port: 53 });
    expect(parseDnsServer('[::1]:5353')).toEqual({ host: '::1', port: 5353 });
  });
  it.each(['bogus!', 'dns.example.com', '1.2.3.4:99999'])(
    'rejects %s as BAD_DNS_SERVER, in DNS-server words',
    async (text) => {
      const { parseDnsServer } = await import('../../src/dns/resolv-conf.js');
      expect(() => parseDnsServer(text)).toThrowError(
        expect.objectContaining({ code: 'BAD_DNS_SERVER', message: expect.stringContaining('invalid DNS server') }),
      );
    },
  );
});
