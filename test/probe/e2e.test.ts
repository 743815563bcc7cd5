/**
 * End-to-end: the real bin/run.js probes a peer-snapshot v2 registry of 230+ relays on 127.0.0.1
 * and ::1 (names on a local dnsmasq), with injected faults; every fault must be reported with its
 * reason and nothing reachable as failed.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProbeCommandJson } from '../../src/commands/probe.js';
import { parseJsonOutput, runCli } from '../lib/cli.js';
import { startFakeRelay } from './responder.js';
import { buildWorld, MAGIC, snapshotV2, type World } from './world.js';

const FAKES = 20;
const SERVERS = 200;
let world: World;
let dir: string;
let registry: string;

beforeAll(async () => {
  world = await buildWorld({ fakes: FAKES, servers: SERVERS, spoServe: true });
  dir = mkdtempSync(join(tmpdir(), 'spo-probe-'));
  registry = join(dir, 'snapshot.json');
  writeFileSync(registry, snapshotV2(world.pools));
}, 60_000);

afterAll(async () => {
  await world?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const base = () => [
  'probe',
  '--source',
  registry,
  '--include-unusable',
  '--dns-server',
  world.dns.server,
  '--timeout',
  // Healthy relays must answer within it on a loaded machine: two full suites at once (load ~19) made
  // one in-process relay miss a 2 s handshake limit. The silent ones take it whole, in parallel.
  '5s',
];

describe('spo probe end to end (bin/run.js, peer snapshot v2, dnsmasq)', () => {
  it('reports every fault with its reason and every reachable relay as ok', async () => {
    const res = await runCli([...base(), '--json', '--tip'], { timeoutMs: 60_000 });
    expect(res.stderr).toBe('');
    const doc = parseJsonOutput<ProbeCommandJson>(res);
    expect(res.code).toBe(0); // whole registry: --fail-on none by default
    expect(doc.summary.pools).toBe(world.pools.length);
    for (const a of doc.addresses) {
      expect(a).toHaveProperty('address');
      expect(a).toHaveProperty('port');
      expect(a).toHaveProperty('status');
    }
    world.pools.forEach((relays, i) => {
      const pool = `#${i + 1}`;
      for (const r of relays) {
        const got = doc.addresses.filter(
          (a) =>
            a.pool === pool &&
            a.relay === r.address &&
            (r.port === undefined || a.port === r.port || a.relayKind === 'dns'),
        );
        expect(got.length, `${pool} ${r.address}:${r.port}`).toBeGreaterThan(0);
        for (const g of got) expect(g.status, `${pool} ${r.address}:${r.port} -> ${g.address}`).toBe(r.expect);
      }
    });
    // A name with A and AAAA is probed on both addresses.
    const both = doc.addresses
      .filter((a) => a.relay === 'both.test')
      .map((a) => a.address)
      .sort();
    expect(both).toEqual(['127.0.0.1', '::1']);
    // The SRV name went to its target's port.
    const srv = doc.addresses.find((a) => a.relay === 'srv.test');
    expect(srv?.srvTarget).toBe('srvtarget.test');
    // Shared endpoint: probed once, reported for both pools, marked shared.
    // (by address and port: a listener on ::1 may get the same port number from the kernel)
    const sharedEnd = world.pools[world.pools.length - 1]?.[0];
    const shared = doc.addresses.filter((a) => a.address === sharedEnd?.address && a.port === sharedEnd?.port);
    expect(shared).toHaveLength(2);
    expect(shared.every((a) => a.shared)).toBe(true);
    // Stages are named
    expect(doc.addresses.find((a) => a.status === 'DNS_NXDOMAIN')?.stage).toBe('resolve');
    expect(doc.addresses.find((a) => a.status === 'CONNECT_REFUSED')?.stage).toBe('connect');
    expect(doc.addresses.find((a) => a.status === 'HANDSHAKE_TIMEOUT')?.stage).toBe('handshake');
    // Pool lines and the summary
    const twoRelaysIndex = world.pools.findIndex((p) => p[0]?.address === 'both.test');
    const twoRelays = doc.pools.find((p) => p.id === `#${twoRelaysIndex + 1}`);
    expect(twoRelays?.summary).toBe('1 of 2 relays reachable');
    expect(twoRelays?.status).toBe('partial');
    expect(doc.summary.ok).toBe(doc.addresses.filter((a) => a.status === 'ok').length);
    expect(doc.summary.rtt.histogram.reduce((n, b) => n + b.count, 0)).toBe(doc.summary.ok);
    // Tips: the 200 startServer relays (the majority) are at slot 1180 and the spo serve children a few
    // blocks beyond (their chains grow); the 20 fake relays claim 5000-5002, far ahead: the reference
    // is the highest tip of the majority, not the outliers', and lags are measured against it.
    const ref = doc.reference?.slot as number;
    expect(doc.reference?.source).toBe('peers');
    expect(ref).toBeGreaterThanOrEqual(1180);
    expect(ref).toBeLessThanOrEqual(1180 + 120);
    expect(doc.addresses.filter((a) => a.tip && a.tip.slot >= 5000).length).toBe(FAKES);
    for (const a of doc.addresses.filter((x) => x.tip)) {
      expect(a.slotLag).toBe(Math.max(0, ref - (a.tip?.slot as number)));
    }
    // Worst first
    expect(doc.addresses[0]?.status).not.toBe('ok');
    expect(doc.addresses[doc.addresses.length - 1]?.status).toBe('ok');
  }, 90_000);

  it('exits 1 under --fail-on pool when a chosen pool has no reachable relay, 0 when it has one', async () => {
    const silentPool = `#${world.pools.findIndex((p) => p[0]?.expect === 'HANDSHAKE_TIMEOUT') + 1}`;
    const down = await runCli([...base(), '--pool', silentPool], { timeoutMs: 30_000 });
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/HANDSHAKE_TIMEOUT/);
    expect(down.stderr).toMatch(/spo: probe: 1 of 1 pool unreachable/);
    const bothPool = `#${world.pools.findIndex((p) => p[0]?.address === 'both.test') + 1}`;
    const up = await runCli([...base(), '--pool', '#1', '--pool', bothPool], { timeoutMs: 30_000 });
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout.split('\n')[0]).toMatch(/^STATUS\s+POOL/);
    expect(up.stdout).toMatch(/1 of 2 relays reachable/);
  }, 60_000);

  it('writes CSV atomically with --out, and probes addresses given as arguments', async () => {
    const out = join(dir, 'probe.csv');
    const okPort = world.pools.find((p) => p[0]?.address === '127.0.0.1' && p[0].expect === 'ok')?.[0]?.port as number;
    const refused = world.pools.find((p) => p[0]?.expect === 'CONNECT_REFUSED' && p[0].address === '::1')?.[0]?.port;
    const res = await runCli(
      [
        'probe',
        `127.0.0.1:${okPort}`,
        `[::1]:${refused}`,
        'gone.test:3001',
        '--dns-server',
        world.dns.server,
        '--timeout',
        '1s',
        '--csv',
        '--out',
        out,
      ],
      { timeoutMs: 30_000 },
    );
    expect(res.code).toBe(1); // addresses given: --fail-on any
    const lines = readFileSync(out, 'utf8').trim().split('\r\n');
    expect(lines[0]).toMatch(/^pool,ticker,relay,relayKind,address,port,family,status,stage/);
    expect(lines).toHaveLength(4);
    expect(lines.some((l) => l.includes(`127.0.0.1,${okPort},4,ok`))).toBe(true);
    expect(lines.some((l) => l.includes(`::1,${refused},6,CONNECT_REFUSED,connect`))).toBe(true);
    expect(lines.some((l) => l.includes('DNS_NXDOMAIN,resolve'))).toBe(true);
    expect(res.stdout).toMatch(/probed 3 addresses/);
  }, 60_000);

  it('stops at once on Ctrl-C (exit 130), however long the timeouts', async () => {
    const silent = world.pools.filter((p) => p[0]?.expect === 'HANDSHAKE_TIMEOUT').map((p) => p[0]);
    const args = silent.map((r) => (r?.address === '::1' ? `[::1]:${r.port}` : `${r?.address}:${r?.port}`));
    const res = await runCli(['probe', ...args, '--timeout', '60s'], {
      timeoutMs: 20_000,
      onSpawn: (child) => {
        // interrupt once the probe is under way (its progress line), not while node is still starting
        let sent = false;
        child.stderr?.on('data', (d: Buffer) => {
          if (!sent && d.toString().includes('probing')) {
            sent = true;
            child.kill('SIGINT'); // the handler is in place before any progress shows
          }
        });
      },
    });
    expect(res.code).toBe(130);
    expect(res.ms).toBeLessThan(15_000); // the stage timeout is 60 s
    expect(res.stderr).toMatch(/interrupted/);
  }, 30_000);

  it('on Ctrl-C reports what was probed, marked partial (exit 130), and leaves --out alone', async () => {
    // Three relays that answer and two that never do. The interruption is sent once each healthy
    // relay has seen the prober end keep-alive (it has all its samples): an event, not a delay.
    let finished = 0;
    let onAllFinished: () => void = () => undefined;
    const allFinished = new Promise<void>((r) => {
      onAllFinished = r;
    });
    const onKeepAliveDone = (): void => {
      finished++;
      if (finished === 3) onAllFinished();
    };
    const ok = await Promise.all(
      [0, 1, 2].map(() => startFakeRelay('127.0.0.1', { kind: 'ok', magic: MAGIC, onKeepAliveDone })),
    );
    const silent = await Promise.all([0, 1].map(() => startFakeRelay('127.0.0.1', { kind: 'silent' })));
    const dir = mkdtempSync(join(tmpdir(), 'spo-probe-int-'));
    const out = join(dir, 'last.json');
    writeFileSync(out, '{"previous":"complete run"}\n');
    try {
      const args = [...ok, ...silent].map((r) => `127.0.0.1:${r.port}`);
      const res = await runCli(['probe', ...args, '--timeout', '60s', '--json', '--out', out], {
        timeoutMs: 30_000,
        onSpawn: (child) => {
          child.stderr?.on('data', () => {});
          void allFinished.then(() => child.kill('SIGINT'));
        },
      });
      expect(res.code).toBe(130);
      const doc = parseJsonOutput<ProbeCommandJson>(res);
      expect(doc.interrupted).toBe(true);
      expect(doc.addresses.map((a) => a.status)).toEqual(['ok', 'ok', 'ok']);
      expect(doc.summary.addresses).toBe(3);
      expect(readFileSync(out, 'utf8')).toBe('{"previous":"complete run"}\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await Promise.all([...ok, ...silent].map((r) => r.close()));
    }
  }, 40_000);

  it('measures slot lag against Koios /tip with --reference koios (a Koios-shaped server on loopback)', async () => {
    const koios = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(
        req.url === '/api/v1/tip' ? JSON.stringify([{ abs_slot: 1500, block_no: 75, hash: 'cd'.repeat(32) }]) : '[]',
      );
    });
    await new Promise<void>((r) => koios.listen(0, '127.0.0.1', () => r()));
    const { port } = koios.address() as AddressInfo;
    try {
      const server = world.pools.find((p) => p[0]?.address === '127.0.0.1' && p[0].expect === 'ok')?.[0];
      const res = await runCli(
        [
          'probe',
          `127.0.0.1:${server?.port}`,
          '--tip',
          '--reference',
          'koios',
          '--koios-url',
          `http://127.0.0.1:${port}/api/v1`,
          '--json',
        ],
        { timeoutMs: 30_000 },
      );
      const doc = parseJsonOutput<ProbeCommandJson>(res);
      expect(res.code).toBe(0);
      expect(doc.reference).toMatchObject({ slot: 1500, source: 'koios', blockNo: 75 });
      const a = doc.addresses[0];
      expect(a?.status).toBe('ok');
      expect(a?.slotLag).toBe(1500 - (a?.tip?.slot as number));
    } finally {
      koios.close();
    }
  }, 30_000);

  it('--top keeps the largest pools (and fails on nothing by default); --retry always retries timeouts', async () => {
    const top = await runCli([...base(), '--top', '2', '--json'], { timeoutMs: 30_000 });
    const doc = parseJsonOutput<ProbeCommandJson>(top);
    expect(top.code).toBe(0);
    expect(doc.summary.pools).toBe(2);
    expect(doc.verdict).toEqual({ failOn: 'none', failed: false });
    const silent = world.pools.find((p) => p[0]?.expect === 'HANDSHAKE_TIMEOUT' && p[0].address === '127.0.0.1')?.[0];
    const res = await runCli(
      ['probe', `127.0.0.1:${silent?.port}`, '--retry', 'always', '--timeout', '500ms', '--json'],
      {
        timeoutMs: 30_000,
      },
    );
    const retried = parseJsonOutput<ProbeCommandJson>(res);
    expect(res.code).toBe(1);
    expect(retried.addresses[0]).toMatchObject({ status: 'HANDSHAKE_TIMEOUT', attempts: 2 });
    expect(retried.summary.retried).toBe(1);
    expect(retried.summary.elapsedMs).toBeGreaterThanOrEqual(1000); // two handshake timeouts of 500 ms
  }, 60_000);
});
