/**
 * Issue 15, output: every figure spo measures or computes reaches `--json` with at most three
 * decimals (src/lib/round.ts), in every command that has such figures: ping (each mode, --count 0's
 * lines, --unix), probe, resolve, relays resolve, governor dry-run, simulate, top, serve. Values
 * passed through from a source are left as the source gives them (docs/json.md): a pool's relative
 * stake from the registry (relays list) and metric values read from a node's Prometheus page (top).
 * Through bin/run.js against src/net's server, the node-to-client responder, a real dnsmasq and an
 * HTTP page server, all on loopback.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/net/serve.js';
import { type Dnsmasq, startDnsmasq } from '../dns/dnsmasq.js';
import { type CliResult, parseJsonOutput, runCli } from '../lib/cli.js';
import { fixture, type PageServer, sendPage, startPageServer } from '../metrics/page-server.js';
import { type N2CResponder, startN2CResponder } from '../net/n2c-responder.js';

const SMALL = fileURLToPath(new URL('../fixtures/dns/small-snapshot.json', import.meta.url));

/** Every number in a JSON value that has more than three decimals, with its path. */
function overPrecise(value: unknown, path = '$', out: string[] = []): string[] {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && Math.round(value * 1000) / 1000 !== value) out.push(`${path} = ${value}`);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => {
      overPrecise(v, `${path}[${i}]`, out);
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) overPrecise(v, `${path}.${k}`, out);
  }
  return out;
}

/** Every float of a JSON value (to show a check saw measured figures, not only integers). */
function floats(value: unknown): number[] {
  if (typeof value === 'number') return Number.isInteger(value) ? [] : [value];
  if (Array.isArray(value)) return value.flatMap(floats);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(floats);
  return [];
}

const jsonLines = (r: CliResult): unknown[] =>
  r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as unknown);

let relay: RunningServer;
let n2c: N2CResponder;
let dns: Dnsmasq;
let page: PageServer;

beforeAll(async () => {
  [relay, n2c, dns, page] = await Promise.all([
    startServer({ host: '127.0.0.1', port: 0, magic: 764824073 }),
    startN2CResponder({ magic: 2, versions: [20, 21, 22] }),
    startDnsmasq({
      hostRecords: [
        'relay1.pool-a.test,192.0.2.1,2001:db8::1',
        'relay2.pool-a.test,192.0.2.2',
        'b1.pool-b.test,192.0.2.3,45',
        'one.example.test,127.0.0.1',
      ],
      srvHosts: ['_cardano._tcp.pool-b.test,b1.pool-b.test,4001,0,1'],
    }),
    startPageServer((_req, res) => sendPage(res, fixture('new-10.5.3.prom'))),
  ]);
});

afterAll(async () => {
  await Promise.all([relay?.close(), n2c?.close(), dns?.stop(), page?.close()]);
});

describe('figures in --json have at most three decimals', () => {
  it('spo ping, modes ping and tip: connect, handshake, every rtt statistic, the tip rtt, the resolve time', async () => {
    const target = `127.0.0.1:${relay.port}`;
    const ping = await runCli(['ping', target, '--count', '3', '--interval', '0', '--json']);
    expect(ping.code, ping.stderr).toBe(0);
    const doc = parseJsonOutput(ping);
    expect(floats(doc).length).toBeGreaterThan(5); // measured figures are there, not only integers
    expect(overPrecise(doc)).toEqual([]);
    const tip = await runCli(['ping', target, '--mode', 'tip', '--json']);
    expect(tip.code, tip.stderr).toBe(0);
    expect(overPrecise(parseJsonOutput(tip))).toEqual([]);
  });

  it('spo ping --count 0 --json: each line and the document after Ctrl-C', async () => {
    const r = await runCli(['ping', `127.0.0.1:${relay.port}`, '--count', '0', '--interval', '20ms', '--json'], {
      onSpawn: (child: ChildProcess) => {
        let out = '';
        let sent = false;
        child.stdout?.on('data', (d: Buffer | string) => {
          out += String(d);
          if (!sent && out.split('\n').filter((l) => l.includes('"cookie"')).length >= 3) {
            sent = true;
            child.kill('SIGINT');
          }
        });
      },
      timeoutMs: 20_000,
    });
    expect(r.code, r.stderr).toBe(130);
    const lines = jsonLines(r);
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const l of lines) expect(overPrecise(l)).toEqual([]);
  });

  it('spo ping --unix --json: connect and handshake times', async () => {
    const r = await runCli(['ping', '--unix', n2c.path, '--network', 'preview', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = parseJsonOutput<{ connectMs: number; handshakeMs: number }>(r);
    expect(typeof doc.handshakeMs).toBe('number');
    expect(overPrecise(doc)).toEqual([]);
  });

  it('spo probe --json', async () => {
    const r = await runCli(['probe', `127.0.0.1:${relay.port}`, '--samples', '2', '--tip', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = parseJsonOutput(r);
    expect(floats(doc).length).toBeGreaterThan(0);
    expect(overPrecise(doc)).toEqual([]);
  });

  it('spo resolve --json and spo relays resolve --json (elapsed times)', async () => {
    const one = await runCli([
      'resolve',
      'one.example.test',
      'relay1.pool-a.test',
      '--dns-server',
      dns.server,
      '--json',
    ]);
    expect(one.code, one.stderr).toBe(0);
    expect(overPrecise(parseJsonOutput(one))).toEqual([]);
    const relays = await runCli(['relays', 'resolve', '--source', SMALL, '--dns-server', dns.server, '--json']);
    expect(relays.code).toBe(1); // one name of the snapshot is NXDOMAIN on purpose
    expect(overPrecise(parseJsonOutput(relays))).toEqual([]);
  });

  it('spo governor dry-run --json and spo simulate --json (diffusion curves)', async () => {
    const dry = await runCli(['governor', 'dry-run', '--duration', '10m', '--json'], { timeoutMs: 60_000 });
    expect(dry.code, dry.stderr).toBe(0);
    expect(overPrecise(parseJsonOutput(dry))).toEqual([]);
    const sim = await runCli(['simulate', '--nodes', '120', '--rounds', '2', '--hot', '5', '--json'], {
      timeoutMs: 120_000,
    });
    expect(sim.code, sim.stderr).toBe(0);
    const doc = parseJsonOutput(sim);
    expect(floats(doc).length).toBeGreaterThan(0);
    expect(overPrecise(doc)).toEqual([]);
  });

  it("spo top --json: its own figures rounded; the node's metric values as the node gave them", async () => {
    const r = await runCli(['top', '--metrics', page.url, '--json', '--count', '1', '--interval', '50ms']);
    expect(r.code, r.stderr).toBe(0);
    const [snap] = jsonLines(r) as Array<{ scrapeMs: number; tip: { density: number } }>;
    expect(overPrecise(snap?.scrapeMs)).toEqual([]);
    // the page says cardano_node_metrics_density_real 0.0495: passed through, not rounded to 0.05
    expect(snap?.tip.density).toBe(0.0495);
  });

  it("spo relays list --json: a pool's relative stake is the registry's, not rounded (most pools are under 0.1 %)", async () => {
    const r = await runCli(['relays', 'list', '--json', '--top', '1']);
    expect(r.code, r.stderr).toBe(0);
    const doc = parseJsonOutput<{ pools: Array<{ stake: number }> }>(r);
    expect(doc.pools[0]?.stake).toBeCloseTo(0.005374442898, 12);
  });

  it('spo serve --json: its lines carry no unrounded figure', async () => {
    let port = 0;
    const r = await runCli(['serve', '--port', '0', '--json'], {
      onSpawn: (child: ChildProcess) => {
        let out = '';
        let pinged = false;
        child.stdout?.on('data', (d: Buffer | string) => {
          out += String(d);
          const m = /"port":(\d+)/.exec(out);
          if (m && !pinged) {
            pinged = true;
            port = Number(m[1]);
            void runCli(['ping', `127.0.0.1:${port}`, '--count', '1']).then(() => child.kill('SIGTERM'));
          }
        });
      },
      timeoutMs: 30_000,
    });
    expect(port).toBeGreaterThan(0);
    const lines = jsonLines(r);
    expect(lines.some((l) => (l as { event?: string }).event === 'handshake')).toBe(true);
    for (const l of lines) expect(overPrecise(l)).toEqual([]);
  });
});
