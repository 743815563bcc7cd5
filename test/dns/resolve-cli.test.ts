/** End to end: the built `spo resolve` against a real dnsmasq on loopback. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolveJson } from '../../src/commands/resolve.js';
import { parseJsonOutput, runCli } from '../lib/cli.js';
import { type Dnsmasq, startDnsmasq } from './dnsmasq.js';

let dns: Dnsmasq;
beforeAll(async () => {
  dns = await startDnsmasq({
    hostRecords: ['a.test,192.0.2.1', 'both.test,192.0.2.2,2001:db8::2', 'r1.test,192.0.2.11,30'],
    cnames: ['alias.test,a.test'],
    srvHosts: ['_cardano._tcp.pool.test,r1.test,3001,10,1', '_cardano._tcp.pool.test,a.test,4000,20,1'],
  });
});
afterAll(async () => {
  await dns?.stop();
});

describe('spo resolve', () => {
  it('prints every address with its type, TTL and time, and a summary; exit 0 when all resolve', async () => {
    // names may come after --dns-server (one value per flag)
    const r = await runCli(['resolve', '--dns-server', dns.server, 'both.test', 'alias.test']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^NAME\s+TYPE\s+ADDRESS\s+TTL s\s+RAW TTL s\s+TIME ms$/m);
    expect(r.stdout).toMatch(/both\.test\s+A\s+192\.0\.2\.2\s+300\s+300\s+\d+\.\d/);
    expect(r.stdout).toMatch(/AAAA\s+2001:db8::2\s+300\s+300/);
    expect(r.stdout).toContain('2 names: 2 resolved, 0 NXDOMAIN, 0 failed, 0 timed out');
  });

  it('--json: addresses, raw and clipped TTLs, SRV with port, summary; exit 1 on NXDOMAIN', async () => {
    const r = await runCli([
      'resolve',
      'a.test',
      'missing.test',
      '_cardano._tcp.pool.test',
      '--ipv4-only',
      '--dns-server',
      dns.server,
      '--json',
    ]);
    expect(r.code).toBe(1);
    const doc = parseJsonOutput<ResolveJson>(r);
    expect(doc.servers).toEqual([dns.server]);
    expect(doc.summary).toEqual({ names: 3, resolved: 2, nxdomain: 1, failed: 0, timedOut: 0 });
    const [a, missing, srv] = doc.names;
    expect(a?.addresses).toEqual([{ address: '192.0.2.1', family: 4, recordType: 'A', ttlSec: 300, rawTtlSec: 300 }]);
    expect(missing).toMatchObject({ status: 'nxdomain', error: { code: 'DNS_NXDOMAIN' } });
    expect(srv).toMatchObject({ lookup: 'srv', queryName: '_cardano._tcp.pool.test', status: 'resolved' });
    expect(srv?.addresses).toEqual([
      expect.objectContaining({
        address: '192.0.2.11',
        port: 3001,
        ttlSec: 300,
        addressRawTtlSec: 30,
        target: 'r1.test',
      }),
    ]);
    expect(srv?.srv?.records).toHaveLength(2);
  });

  it('--srv prefixes _cardano._tcp. to a bare name', async () => {
    const r = await runCli(['resolve', '--srv', 'pool.test', '--dns-server', dns.server, '--json']);
    expect(r.code).toBe(0);
    const doc = parseJsonOutput<ResolveJson>(r);
    expect(doc.names[0]?.queryName).toBe('_cardano._tcp.pool.test');
    expect(doc.names[0]?.addresses[0]?.port).toBe(3001);
  });

  it('counts a silent server as timed out, within the --timeout', async () => {
    const { createSocket } = await import('node:dgram');
    const silent = createSocket('udp4');
    await new Promise<void>((res) => silent.bind(0, '127.0.0.1', () => res()));
    try {
      const port = (silent.address() as { port: number }).port;
      const r = await runCli([
        'resolve',
        'a.test',
        '--dns-server',
        `127.0.0.1:${port}`,
        '--timeout',
        '200ms',
        '--json',
      ]);
      expect(r.code).toBe(1);
      const doc = parseJsonOutput<ResolveJson>(r);
      expect(doc.summary.timedOut).toBe(1);
      expect(doc.names[0]?.error?.code).toBe('DNS_TIMEOUT');
    } finally {
      silent.close();
    }
  });

  it('rejects a DNS server that is not an IP address (exit 2)', async () => {
    const r = await runCli(['resolve', 'a.test', '--dns-server', 'dns.example']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^spo: invalid DNS server "dns\.example"/);
  });

  it('resolves localhost to the loopback addresses without asking the server (RFC 6761)', async () => {
    const r = await runCli(['resolve', 'localhost', '--dns-server', dns.server, '--json']);
    expect(r.code).toBe(0);
    const out = parseJsonOutput<ResolveJson>(r);
    expect(out.names[0]?.addresses?.map((a) => a.address)).toEqual(['127.0.0.1', '::1']);
  });
});
