import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsError, DnsResolver } from '../../src/dns/index.js';
import { endpointText, resolveRelay } from '../../src/dns/relays.js';
import { type Dnsmasq, startDnsmasq } from './dnsmasq.js';

const MANY = Array.from({ length: 30 }, (_, i) => `many.test,10.1.0.${i + 1}`);
const BIG = Array.from({ length: 80 }, (_, i) => `big.test,2001:db8:b::${(i + 1).toString(16)}`);

let dns: Dnsmasq;
let resolver: DnsResolver;
const server = (): { host: string; port: number } => ({ host: dns.host, port: dns.port });

beforeAll(async () => {
  dns = await startDnsmasq({
    localTtl: 300,
    hostRecords: [
      'a.test,192.0.2.1',
      'aaaa.test,2001:db8::1',
      'both.test,192.0.2.2,2001:db8::2',
      'ttl5.test,192.0.2.5,5',
      'ttlday.test,192.0.2.6,86400',
      'r1.test,192.0.2.11',
      'r2.test,192.0.2.12,2001:db8::12',
      'r3.test,192.0.2.13',
      ...MANY,
      ...BIG,
    ],
    cnames: ['c1.test,c2.test', 'c2.test,c3.test', 'c3.test,a.test', 'cnx.test,missing.test'],
    srvHosts: [
      '_cardano._tcp.pool.test,r1.test,3001,10,60',
      '_cardano._tcp.pool.test,r2.test,3002,10,30',
      '_cardano._tcp.pool.test,r3.test,3003,20,100',
      '_cardano._tcp.pool.test,missing.test,3004,30,1',
      '_cardano._tcp.dot.test',
    ],
  });
  resolver = new DnsResolver({ servers: [server()], timeoutMs: 1000, attempts: 1 });
});
afterAll(async () => {
  await dns?.stop();
});

describe('DnsResolver against dnsmasq', () => {
  it('resolves A only, with its TTL clipped and the raw TTL kept', async () => {
    const r = await resolver.resolveAddresses('a.test');
    expect(r.addresses).toEqual([{ address: '192.0.2.1', family: 4, recordType: 'A', ttlSec: 300, rawTtlSec: 300 }]);
    expect(r.transport).toBe('udp');
  });

  it('resolves AAAA only', async () => {
    const r = await resolver.resolveAddresses('aaaa.test');
    expect(r.addresses.map((a) => [a.address, a.recordType])).toEqual([['2001:db8::1', 'AAAA']]);
    expect(r.partialErrors).toEqual([]);
  });

  it('resolves both families concurrently and honours --ipv4-only/--ipv6-only', async () => {
    const both = await resolver.resolveAddresses('both.test');
    expect(both.addresses.map((a) => a.address).sort()).toEqual(['192.0.2.2', '2001:db8::2']);
    const v4 = await resolver.resolveAddresses('both.test', { family: 'ipv4' });
    expect(v4.addresses.map((a) => a.address)).toEqual(['192.0.2.2']);
    const v6 = await resolver.resolveAddresses('both.test', { family: 'ipv6' });
    expect(v6.addresses.map((a) => a.address)).toEqual(['2001:db8::2']);
  });

  it('reports NO_DATA when the asked family has no records', async () => {
    const err = await resolver.resolveAddresses('a.test', { family: 'ipv6' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DnsError);
    expect((err as DnsError).code).toBe('DNS_NO_DATA');
  });

  it('follows a CNAME chain', async () => {
    const r = await resolver.resolveAddresses('c1.test', { family: 'ipv4' });
    expect(r.cnames).toEqual(['c2.test', 'c3.test', 'a.test']);
    expect(r.canonicalName).toBe('a.test');
    expect(r.addresses.map((a) => a.address)).toEqual(['192.0.2.1']);
  });

  it('stops a CNAME chain at the bound', async () => {
    const short = new DnsResolver({ servers: [server()], timeoutMs: 1000, maxCnameHops: 2 });
    const err = await short.resolveAddresses('c1.test', { family: 'ipv4' }).catch((e: unknown) => e);
    expect((err as DnsError).code).toBe('DNS_CNAME_LIMIT');
  });

  it('says NXDOMAIN for a missing name, distinct from other failures', async () => {
    const err = await resolver.resolveAddresses('missing.test').catch((e: unknown) => e);
    expect((err as DnsError).code).toBe('DNS_NXDOMAIN');
    expect((err as DnsError).message).toContain('missing.test');
  });

  it('says REFUSED for a name the server does not serve', async () => {
    const err = await resolver.resolveAddresses('example.invalid', { family: 'ipv4' }).catch((e: unknown) => e);
    expect((err as DnsError).code).toBe('DNS_REFUSED');
  });

  it('keeps raw TTLs of 5 s and 86,400 s and clips them to 60 and 900', async () => {
    const short = await resolver.resolveAddresses('ttl5.test', { family: 'ipv4' });
    expect(short.addresses[0]).toMatchObject({ rawTtlSec: 5, ttlSec: 60 });
    const long = await resolver.resolveAddresses('ttlday.test', { family: 'ipv4' });
    expect(long.addresses[0]).toMatchObject({ rawTtlSec: 86400, ttlSec: 900 });
  });

  it('returns all 30 addresses of a name', async () => {
    const r = await resolver.resolveAddresses('many.test', { family: 'ipv4' });
    expect(r.addresses).toHaveLength(30);
    expect(new Set(r.addresses.map((a) => a.address)).size).toBe(30);
  });

  it('falls back to TCP when the UDP answer is truncated', async () => {
    const before = resolver.stats.tcp;
    const r = await resolver.resolveAddresses('big.test', { family: 'ipv6' });
    expect(r.addresses).toHaveLength(80);
    expect(r.transport).toBe('tcp');
    expect(resolver.stats.tcp).toBe(before + 1);
  });

  it('SRV: prefixes _cardano._tcp., keeps the lowest priority group, resolves targets with the SRV port', async () => {
    const seq = [0.1, 0.9, 0.5];
    let i = 0;
    const r0 = new DnsResolver({ servers: [server()], timeoutMs: 1000, rng: () => seq[i++ % seq.length] as number });
    const r = await r0.resolveSrv('pool.test');
    expect(r.queryName).toBe('_cardano._tcp.pool.test');
    expect(r.priority).toBe(10);
    expect(r.records).toHaveLength(4);
    // rng 0.1 * 90 = 9 < 60: r1 (weight 60) is drawn
    expect(r.targets.map((t) => t.target)).toEqual(['r1.test']);
    expect(r.addresses).toEqual([
      expect.objectContaining({ address: '192.0.2.11', port: 3001, ttlSec: 300, rawTtlSec: 300, target: 'r1.test' }),
    ]);
  });

  it("SRV: keeps SRV TTLs of 5 s and 86,400 s raw and clips them to 60 and 900, apart from the targets' TTLs", async () => {
    // dnsmasq gives every SRV record of an instance one TTL (--local-ttl): one instance per TTL
    const short = await startDnsmasq({
      localTtl: 5,
      hostRecords: ['t.test,192.0.2.40,3600'],
      srvHosts: ['_cardano._tcp.s.test,t.test,3001,1,1'],
    });
    const long = await startDnsmasq({
      localTtl: 86_400,
      hostRecords: ['t.test,192.0.2.41,30'],
      srvHosts: ['_cardano._tcp.s.test,t.test,3002,1,1'],
    });
    try {
      const fromShort = await new DnsResolver({ servers: [{ host: short.host, port: short.port }] }).resolveSrv(
        's.test',
      );
      expect(fromShort.records[0]).toMatchObject({ ttl: 5, ttlSec: 60 });
      expect(fromShort.addresses[0]).toMatchObject({
        address: '192.0.2.40',
        port: 3001,
        rawTtlSec: 5,
        ttlSec: 60,
        addressRawTtlSec: 3600,
      });
      const fromLong = await new DnsResolver({ servers: [{ host: long.host, port: long.port }] }).resolveSrv('s.test');
      expect(fromLong.records[0]).toMatchObject({ ttl: 86_400, ttlSec: 900 });
      expect(fromLong.addresses[0]).toMatchObject({
        address: '192.0.2.41',
        port: 3002,
        rawTtlSec: 86_400,
        ttlSec: 900,
        addressRawTtlSec: 30,
      });
    } finally {
      await short.stop();
      await long.stop();
    }
  });

  it('SRV: does not double the prefix and can return the whole group in weighted order', async () => {
    const r = await resolver.resolveSrv('_cardano._tcp.pool.test', { wholeGroup: true });
    expect(r.queryName).toBe('_cardano._tcp.pool.test');
    expect(r.targets.map((t) => t.target).sort()).toEqual(['r1.test', 'r2.test']);
    expect(r.addresses.map((a) => `${a.address}:${a.port}`).sort()).toEqual([
      '192.0.2.11:3001',
      '192.0.2.12:3002',
      '2001:db8::12:3002',
    ]);
  });

  it('SRV: weighted choice follows the weights over many draws', async () => {
    let s = 1;
    const rng = (): number => {
      s = (s * 16807) % 2147483647;
      return (s - 1) / 2147483646;
    };
    const r0 = new DnsResolver({ servers: [server()], timeoutMs: 1000, rng });
    const counts: Record<string, number> = {};
    for (let k = 0; k < 300; k++) {
      const r = await r0.resolveSrv('pool.test', { family: 'ipv4' });
      const t = r.targets[0]?.target ?? '';
      counts[t] = (counts[t] ?? 0) + 1;
    }
    // weights 60:30 -> about 200:100
    expect(counts['r1.test']).toBeGreaterThan(160);
    expect(counts['r2.test']).toBeGreaterThan(60);
    expect(counts['r3.test']).toBeUndefined();
  });

  it('SRV: a target of "." means the service is not available', async () => {
    const err = await resolver.resolveSrv('dot.test').catch((e: unknown) => e);
    expect((err as DnsError).code).toBe('DNS_NO_DATA');
    expect((err as DnsError).message).toContain('"."');
  });

  it('SRV: NXDOMAIN for a name without SRV records', async () => {
    const err = await resolver.resolveSrv('nothing.test').catch((e: unknown) => e);
    expect((err as DnsError).code).toBe('DNS_NXDOMAIN');
  });

  it('caches answers for their TTL and serves them without a query', async () => {
    const r0 = new DnsResolver({ servers: [server()], timeoutMs: 1000 });
    await r0.resolveAddresses('a.test', { family: 'ipv4' });
    const q = r0.stats.queries;
    const again = await r0.resolveAddresses('a.test', { family: 'ipv4' });
    expect(r0.stats.queries).toBe(q);
    expect(again.transport).toBe('cache');
    expect(again.addresses[0]?.address).toBe('192.0.2.1');
  });

  it('keeps a cached answer exactly for its TTL on the resolver clock, then asks again', async () => {
    let now = 1_000;
    const r0 = new DnsResolver({ servers: [server()], timeoutMs: 1000, now: () => now });
    await r0.resolveAddresses('a.test', { family: 'ipv4' }); // TTL 300 s (dnsmasq --local-ttl)
    await r0.resolveAddresses('a.test'); // both families: the A answer from the cache, AAAA asked
    const q = r0.stats.queries;
    now += 299_000;
    const hit = await r0.resolveAddresses('a.test', { family: 'ipv4' });
    expect(hit.transport).toBe('cache');
    expect(hit.addresses[0]?.rawTtlSec).toBe(1); // what is left of it
    expect(r0.stats.queries).toBe(q);
    now += 1_001;
    const again = await r0.resolveAddresses('a.test', { family: 'ipv4' });
    expect(again.transport).toBe('udp');
    expect(r0.stats.queries).toBe(q + 1);
  });

  it('answers localhost names with the loopback addresses, asking no server (RFC 6761)', async () => {
    const r0 = new DnsResolver({ servers: [server()], timeoutMs: 1000 });
    const both = await r0.resolveAddresses('localhost');
    expect(both.addresses.map((a) => [a.address, a.recordType])).toEqual([
      ['127.0.0.1', 'IP'],
      ['::1', 'IP'],
    ]);
    expect((await r0.resolveAddresses('relay.LOCALHOST.', { family: 'ipv6' })).addresses.map((a) => a.address)).toEqual(
      ['::1'],
    );
    expect(r0.stats.queries).toBe(0);
  });

  it('an abort ends a lookup in flight at once and frees its place for the next', async () => {
    const { createSocket } = await import('node:dgram');
    const silent = createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
    const silentPort = (silent.address() as { port: number }).port;
    try {
      const r0 = new DnsResolver({
        servers: [{ host: '127.0.0.1', port: silentPort }],
        timeoutMs: 5000,
        attempts: 1,
        concurrency: 1,
      });
      const ac = new AbortController();
      const started = performance.now();
      const pending = r0.resolveAddresses('a.test', { family: 'ipv4', signal: ac.signal });
      setTimeout(() => ac.abort(new Error('user stop')), 50);
      await expect(pending).rejects.toThrow('user stop');
      expect(performance.now() - started).toBeLessThan(1000);
      // the one concurrency slot is free again: the next lookup is sent (and times out on its own)
      const next = await r0
        .resolveAddresses('a.test', { family: 'ipv4', signal: AbortSignal.timeout(100) })
        .catch((e: unknown) => e);
      expect(String(next)).toMatch(/TimeoutError|aborted/i);
      expect(r0.stats.queries).toBe(2);
    } finally {
      silent.close();
    }
  });

  it('times out on a silent server, then tries the next server', async () => {
    const { createSocket } = await import('node:dgram');
    const silent = createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
    const silentPort = (silent.address() as { port: number }).port;
    try {
      const only = new DnsResolver({ servers: [{ host: '127.0.0.1', port: silentPort }], timeoutMs: 200, attempts: 1 });
      const err = await only.resolveAddresses('a.test', { family: 'ipv4' }).catch((e: unknown) => e);
      expect((err as DnsError).code).toBe('DNS_TIMEOUT');
      const two = new DnsResolver({
        servers: [{ host: '127.0.0.1', port: silentPort }, server()],
        timeoutMs: 200,
        attempts: 1,
      });
      const r = await two.resolveAddresses('a.test', { family: 'ipv4' });
      expect(r.addresses[0]?.address).toBe('192.0.2.1');
    } finally {
      silent.close();
    }
  });

  it('stops at once when the signal is aborted', async () => {
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(resolver.resolveAddresses('a.test', { signal: ac.signal })).rejects.toThrow('stop');
  });

  it('resolveRelay: IP relays pass through, DNS relays keep their port, SRV relays take the SRV ports', async () => {
    const ip = await resolveRelay(resolver, { kind: 'ipv6', host: '2001:db8::9', port: 3001 });
    expect(ip).toEqual([
      {
        host: '2001:db8::9',
        address: '2001:db8::9',
        port: 3001,
        family: 6,
        ttlSec: 900,
        rawTtlSec: 900,
        recordType: 'IP',
      },
    ]);
    expect(await resolveRelay(resolver, { kind: 'ipv6', host: '2001:db8::9', port: 3001 }, { family: 'ipv4' })).toEqual(
      [],
    );
    const dnsRelay = await resolveRelay(resolver, { kind: 'dns', host: 'both.test', port: 6000 });
    expect(dnsRelay.map(endpointText).sort()).toEqual(['192.0.2.2:6000', '[2001:db8::2]:6000']);
    const srvRelay = await resolveRelay(
      resolver,
      { kind: 'srv', host: 'pool.test' },
      { wholeGroup: true, family: 'ipv4' },
    );
    expect(srvRelay.map(endpointText).sort()).toEqual(['192.0.2.11:3001', '192.0.2.12:3002']);
    expect(srvRelay.every((e) => e.host === 'pool.test' && e.target !== undefined)).toBe(true);
  });
});
