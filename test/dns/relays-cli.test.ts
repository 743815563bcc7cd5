/**
 * End to end: `spo relays resolve` against a real dnsmasq on loopback, for a small snapshot file and
 * for the embedded registry (a dnsmasq configuration generated from the embedded snapshot's names).
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelaysResolveJson } from '../../src/commands/relays/resolve.js';
import { selectNetwork } from '../../src/lib/networks.js';
import { loadRegistry } from '../../src/registry/index.js';
import { parseJsonOutput, runCli } from '../lib/cli.js';
import { type Dnsmasq, startDnsmasq } from './dnsmasq.js';

const SMALL = fileURLToPath(new URL('../fixtures/dns/small-snapshot.json', import.meta.url));

describe('spo relays resolve (small snapshot)', () => {
  let dns: Dnsmasq;
  beforeAll(async () => {
    dns = await startDnsmasq({
      hostRecords: [
        'relay1.pool-a.test,192.0.2.1,2001:db8::1',
        'relay2.pool-a.test,192.0.2.2',
        'b1.pool-b.test,192.0.2.3,45',
      ],
      srvHosts: ['_cardano._tcp.pool-b.test,b1.pool-b.test,4001,0,1'],
    });
  });
  afterAll(async () => {
    await dns?.stop();
  });

  it('resolves each relay name once, SRV by the CIP-0155 rule, and counts the NXDOMAIN (exit 1)', async () => {
    const r = await runCli(['relays', 'resolve', '--source', SMALL, '--dns-server', dns.server, '--json']);
    expect(r.code).toBe(1);
    const doc = parseJsonOutput<RelaysResolveJson>(r);
    expect(doc.ipRelays).toBe(1);
    // unusable: the names resolve to documentation addresses (192.0.2.0/24, 2001:db8::/32)
    expect(doc.summary).toEqual({ names: 4, resolved: 3, nxdomain: 1, failed: 0, timedOut: 0, unusable: 3 });
    const byName = new Map(doc.names.map((n) => [n.name, n]));
    expect(byName.get('relay1.pool-a.test')).toMatchObject({ kind: 'dns', ports: [3001], status: 'resolved' });
    expect(byName.get('relay1.pool-a.test')?.pools).toHaveLength(2);
    expect(
      byName
        .get('relay1.pool-a.test')
        ?.addresses.map((a) => a.address)
        .sort(),
    ).toEqual(['192.0.2.1', '2001:db8::1']);
    expect(byName.get('pool-b.test')).toMatchObject({ kind: 'srv', queryName: '_cardano._tcp.pool-b.test' });
    expect(byName.get('pool-b.test')?.addresses).toEqual([
      expect.objectContaining({ address: '192.0.2.3', port: 4001, target: 'b1.pool-b.test', addressRawTtlSec: 45 }),
    ]);
    expect(byName.get('gone.pool-c.test')).toMatchObject({ status: 'nxdomain', error: { code: 'DNS_NXDOMAIN' } });
  });

  it('prints a table and the summary for people', async () => {
    const r = await runCli(['relays', 'resolve', '--source', SMALL, '--dns-server', dns.server, '--ipv4-only']);
    expect(r.code).toBe(1);
    // name, the pool that registered it (a snapshot's #N), port, record type, address, TTL
    expect(r.stdout).toMatch(/relay2\.pool-a\.test\s+#1\s+3002\s+A\s+192\.0\.2\.2\s+300\s/);
    expect(r.stdout).toMatch(/relay1\.pool-a\.test\s+#1 \+1\s+3001\s+A\s+192\.0\.2\.1\s/);
    expect(r.stdout).toMatch(/pool-b\.test\s+#2\s+4001\s+SRV A\s+192\.0\.2\.3\s+.*via b1\.pool-b\.test/);
    expect(r.stdout).toMatch(/gone\.pool-c\.test\s+#3\s+6000\s+DNS_NXDOMAIN/);
    expect(r.stdout).toContain('4 names: 3 resolved, 1 NXDOMAIN, 0 failed, 0 timed out');
    // progress goes to stderr (plain lines when not a TTY), never into stdout
    expect(r.stderr).toContain('reading the registry from');
    expect(r.stderr).toContain('1 of 4 relay names did not resolve');
    expect(r.stdout).not.toContain('reading the registry');
  });
});

describe('spo relays resolve (embedded registry)', () => {
  let dns: Dnsmasq;
  let dnsNames = 0;
  let srvNames = 0;
  beforeAll(async () => {
    // A dnsmasq serving every name of the embedded mainnet snapshot (documentation addresses).
    const reg = await loadRegistry({ source: 'embedded', network: selectNetwork('mainnet', undefined) });
    const hostRecords: string[] = [];
    const srvHosts: string[] = [];
    const seen = new Set<string>();
    let i = 0;
    for (const pool of reg.pools) {
      for (const relay of pool.relays) {
        const key = `${relay.kind} ${relay.host.toLowerCase()}`;
        if ((relay.kind !== 'dns' && relay.kind !== 'srv') || seen.has(key)) continue;
        seen.add(key);
        i++;
        const ip = `198.18.${(i >> 8) & 255}.${i & 255}`;
        if (relay.kind === 'dns') {
          hostRecords.push(`${relay.host.toLowerCase()},${ip}`);
          dnsNames++;
        } else {
          const target = `srv-target-${i}.test`;
          hostRecords.push(`${target},${ip}`);
          srvHosts.push(
            `_cardano._tcp.${relay.host.toLowerCase().replace(/^_cardano\._tcp\./, '')},${target},3001,0,1`,
          );
          srvNames++;
        }
      }
    }
    dns = await startDnsmasq({ hostRecords, srvHosts });
  });
  afterAll(async () => {
    await dns?.stop();
  });

  it('resolves every DNS and SRV name of the embedded registry', async () => {
    const r = await runCli(['relays', 'resolve', '--dns-server', dns.server, '--ipv4-only', '--json'], {
      timeoutMs: 60_000,
    });
    const doc = parseJsonOutput<RelaysResolveJson>(r);
    expect(dnsNames).toBeGreaterThan(100);
    expect(srvNames).toBeGreaterThan(0);
    expect(doc.summary).toEqual({
      names: dnsNames + srvNames,
      resolved: dnsNames + srvNames,
      nxdomain: 0,
      failed: 0,
      timedOut: 0,
      unusable: dnsNames + srvNames, // 198.18.0.0/15 is reserved (benchmarking): flagged
    });
    expect(r.code).toBe(0);
    expect(doc.names.filter((n) => n.kind === 'srv').every((n) => n.addresses[0]?.port === 3001)).toBe(true);
  });

  it('the table fits in 120 columns, with pool and port columns (issue 15)', async () => {
    const r = await runCli(['relays', 'resolve', '--dns-server', dns.server], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^NAME\s+POOL\s+PORT\s+TYPE\s+ADDRESS\s+TTL s\s+TIME ms\s+NOTE$/);
    const widest = Math.max(...lines.map((l) => l.length));
    expect(widest).toBeLessThan(120);
    expect(lines.length).toBeGreaterThan(dnsNames);
  });
});
