/**
 * The probe pipeline on real sockets and a real dnsmasq, in-process: registry file -> targets ->
 * DnsResolver/resolveRelay -> src/net connectPeer stages -> scheduler -> aggregation (e2e.test.ts
 * runs the same world through bin/run.js).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsResolver } from '../../src/dns/index.js';
import { selectNetwork } from '../../src/lib/networks.js';
import { ProbeCollector, pipelineOptions, probeEndpoints, targetsFromPools } from '../../src/probe/index.js';
import { loadRegistry } from '../../src/registry/index.js';
import { buildWorld, MAGIC, snapshotV2, type World } from './world.js';

let world: World;
let dir: string;

beforeAll(async () => {
  world = await buildWorld({ fakes: 20, servers: 60 });
  dir = mkdtempSync(join(tmpdir(), 'spo-probe-'));
}, 60_000);

afterAll(async () => {
  await world?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('probe pipeline on loopback', () => {
  it('reports every fault with its reason and nothing reachable as failed', async () => {
    const file = join(dir, 'snap.json');
    writeFileSync(file, snapshotV2(world.pools));
    const reg = await loadRegistry({ source: file, network: selectNetwork('mainnet', undefined) });
    const resolver = new DnsResolver({ servers: [{ host: world.dns.host, port: world.dns.port }], timeoutMs: 1000 });
    const stageTimeoutMs = 2000;
    const collector = new ProbeCollector();
    const started = performance.now();
    const options = await pipelineOptions({
      magic: MAGIC,
      resolver,
      stageTimeoutMs,
      samples: 2,
      tip: true,
      concurrency: 500,
    });
    for await (const r of probeEndpoints(targetsFromPools(reg.pools, true), options)) {
      collector.add(r);
    }
    const elapsed = performance.now() - started;
    resolver.close();
    const report = collector.finish(elapsed);
    world.pools.forEach((relays, i) => {
      for (const r of relays) {
        const got = report.addresses.filter(
          (a) =>
            a.pool === `#${i + 1}` &&
            a.relay === r.address &&
            (r.port === undefined || a.port === r.port || a.relayKind === 'dns'),
        );
        expect(got.length, `#${i + 1} ${r.address}`).toBeGreaterThan(0);
        for (const g of got) expect(g.status, `#${i + 1} ${r.address}:${r.port} -> ${g.address}`).toBe(r.expect);
      }
    });
    expect(report.summary.pools).toBe(world.pools.length);
    expect(report.addresses.filter((a) => a.status === 'ok').every((a) => a.samples === 2 && a.tip !== undefined)).toBe(
      true,
    );
    // about one timeout (the silent and slow ones) plus a little: never one timeout per fault in turn
    expect(elapsed).toBeLessThan(3 * stageTimeoutMs);
  }, 60_000);
});
