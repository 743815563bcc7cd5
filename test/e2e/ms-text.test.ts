/**
 * Issue 15, output: milliseconds in text have one decimal (docs/CONVENTIONS.md) in every table
 * that shows measured times, not only ping's (test/net/ping-polish.e2e.test.ts): probe's table and
 * summary, resolve's and relays resolve's TIME ms column, ping --unix. Through bin/run.js against
 * src/net's server, a real dnsmasq and the node-to-client responder on loopback.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/net/serve.js';
import { type Dnsmasq, startDnsmasq } from '../dns/dnsmasq.js';
import { runCli } from '../lib/cli.js';
import { type N2CResponder, startN2CResponder } from '../net/n2c-responder.js';

const SMALL = fileURLToPath(new URL('../fixtures/dns/small-snapshot.json', import.meta.url));

/** The cells of a column (by its header) of the first table in a text. */
function column(text: string, header: string): string[] {
  const lines = text.split('\n');
  const h = lines.findIndex((l) => l.includes(header));
  if (h < 0) throw new Error(`no column ${header} in\n${text}`);
  const head = lines[h] as string;
  const start = head.indexOf(header);
  const end = start + header.length;
  const cells: string[] = [];
  for (const l of lines.slice(h + 1)) {
    if (l.trim() === '') break;
    // right-aligned cells no wider than their header; '-' or blank where there is no figure
    const cell = l.slice(start, end).trim();
    if (cell !== '' && cell !== '-') cells.push(cell);
  }
  return cells;
}

let relay: RunningServer;
let dns: Dnsmasq;
let n2c: N2CResponder;

beforeAll(async () => {
  [relay, dns, n2c] = await Promise.all([
    startServer({ host: '127.0.0.1', port: 0, magic: 764824073 }),
    startDnsmasq({
      hostRecords: [
        'relay1.pool-a.test,192.0.2.1,2001:db8::1',
        'relay2.pool-a.test,192.0.2.2',
        'b1.pool-b.test,192.0.2.3',
      ],
      srvHosts: ['_cardano._tcp.pool-b.test,b1.pool-b.test,4001,0,1'],
    }),
    startN2CResponder({ magic: 2, versions: [22] }),
  ]);
});

afterAll(async () => {
  await Promise.all([relay?.close(), dns?.stop(), n2c?.close()]);
});

const ONE_DECIMAL = /^\d+\.\d$/;

describe('milliseconds in text: one decimal', () => {
  it('probe: CONNECT ms, HANDSHAKE ms, RTT ms cells and the rtt summary line', async () => {
    const r = await runCli(['probe', `127.0.0.1:${relay.port}`, `[::1]:1`, '--samples', '2', '--timeout', '2s']);
    expect(r.stdout).toContain('CONNECT ms');
    for (const header of ['CONNECT ms', 'HANDSHAKE ms', 'RTT ms']) {
      const cells = column(r.stdout, header);
      expect(cells.length, header).toBeGreaterThan(0);
      for (const c of cells) expect(c, `${header}\n${r.stdout}`).toMatch(ONE_DECIMAL);
    }
    const rtt = /^rtt ms: median (\S+), p90 (\S+), min (\S+), max (\S+)$/m.exec(r.stdout);
    expect(rtt, r.stdout).not.toBeNull();
    for (const v of rtt?.slice(1) ?? []) expect(v).toMatch(ONE_DECIMAL);
  });

  it('resolve and relays resolve: TIME ms', async () => {
    const one = await runCli(['resolve', 'relay1.pool-a.test', 'b1.pool-b.test', '--dns-server', dns.server]);
    expect(one.code, one.stderr).toBe(0);
    const cells = column(one.stdout, 'TIME ms');
    expect(cells).toHaveLength(2);
    for (const c of cells) expect(c).toMatch(ONE_DECIMAL);
    const relays = await runCli(['relays', 'resolve', '--source', SMALL, '--dns-server', dns.server]);
    const relayCells = column(relays.stdout, 'TIME ms');
    expect(relayCells.length).toBeGreaterThan(2);
    for (const c of relayCells) expect(c).toMatch(ONE_DECIMAL);
  });

  it('ping --unix: connect and handshake', async () => {
    const r = await runCli(['ping', '--unix', n2c.path, '--network', 'preview']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/connect \d+\.\d ms {2}handshake \d+\.\d ms/);
  });
});
