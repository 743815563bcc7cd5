/** `spo ping` of DNS names (every address) and SRV names, against in-process servers and a real dnsmasq. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/net/serve.js';
import { type Dnsmasq, startDnsmasq } from '../dns/dnsmasq.js';
import { parseJsonOutput, runCli } from '../lib/cli.js';

let v4: RunningServer;
let v6: RunningServer | undefined;
let other: RunningServer;
let dns: Dnsmasq;

beforeAll(async () => {
  v4 = await startServer({ host: '127.0.0.1', port: 0, magic: 2 });
  try {
    v6 = await startServer({ host: '::1', port: v4.port, magic: 2 });
  } catch {
    v6 = undefined; // no IPv6 loopback here, or the port is taken on ::1
  }
  other = await startServer({ host: '127.0.0.1', port: 0, magic: 2 });
  dns = await startDnsmasq({
    hostRecords: [v6 ? 'relays.test,127.0.0.1,::1' : 'relays.test,127.0.0.1', 'relay2.test,127.0.0.1'],
    srvHosts: [`_cardano._tcp.pool.test,relay2.test,${other.port},0,10`],
  });
}, 30_000);

afterAll(async () => {
  await Promise.all([v4.close(), v6?.close(), other.close(), dns?.stop()]);
});

interface Doc {
  targets: Array<{
    ok: boolean;
    kind: string;
    error?: { code: string };
    addresses: Array<{ ok: boolean; address: string; port: number; family: number }>;
  }>;
}

describe('spo ping of names', () => {
  it('a DNS name: every address is pinged', async () => {
    const r = await runCli([
      'ping',
      `relays.test:${v4.port}`,
      '--dns-server',
      dns.server,
      '--network',
      'preview',
      '--count',
      '1',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const t = parseJsonOutput<Doc>(r).targets[0];
    expect(t?.kind).toBe('dns');
    expect(t?.addresses.map((a) => a.address).sort()).toEqual(v6 ? ['127.0.0.1', '::1'] : ['127.0.0.1']);
    expect(t?.addresses.every((a) => a.ok)).toBe(true);
  });

  it('an SRV name: the SRV target and port', async () => {
    const r = await runCli([
      'ping',
      '_cardano._tcp.pool.test',
      '--dns-server',
      dns.server,
      '--network',
      'preview',
      '--mode',
      'tip',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const t = parseJsonOutput<Doc>(r).targets[0];
    expect(t?.kind).toBe('srv');
    expect(t?.addresses).toMatchObject([{ address: '127.0.0.1', port: other.port, ok: true }]);
  });

  it('a name that does not exist: DNS_NXDOMAIN, exit 1', async () => {
    const r = await runCli(['ping', 'nope.test:3001', '--dns-server', dns.server, '--network', 'preview', '--json']);
    expect(r.code).toBe(1);
    expect(parseJsonOutput<Doc>(r).targets[0]?.error?.code).toBe('DNS_NXDOMAIN');
  });
});
