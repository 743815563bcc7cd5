/**
 * Issue 15, first wrong answer: a registry *name* resolving to a loopback, private, link-local or
 * unspecified address gets the hygiene a literal address gets. `spo probe` reports it as
 * UNUSABLE_ADDRESS and does not connect (it reached the operator's own machine and said "ok"),
 * `--include-unusable` probes it; `spo relays resolve` flags it; `topology lint --resolve` warns
 * about such a name in the public roots or bootstrap peers. Names on a real dnsmasq; the only
 * connection ever made is to 127.0.0.1 (10.x addresses are checked with a stage function that
 * records calls instead of connecting).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelaysResolveJson } from '../../src/commands/relays/resolve.js';
import type { TopologyLintJson } from '../../src/commands/topology/lint.js';
import { startServer } from '../../src/net/serve.js';
import {
  type ProbeAddressResult,
  type ProbeEndpoint,
  probeEndpoints,
  type StageFunction,
  targetsFromPools,
} from '../../src/probe/index.js';
import type { Pool } from '../../src/registry/model.js';
import { type Dnsmasq, startDnsmasq } from '../dns/dnsmasq.js';
import { parseJsonOutput, runCli } from '../lib/cli.js';

const MAGIC = 764824073;
let dns: Dnsmasq;
let relay: Awaited<ReturnType<typeof startServer>>;
let dir: string;
let registry: string;

beforeAll(async () => {
  // A healthy node on loopback: without the hygiene, a name pointing at it is "ok".
  relay = await startServer({ host: '127.0.0.1', port: 0, magic: MAGIC });
  dns = await startDnsmasq({
    hostRecords: [
      'lo.test,127.0.0.1',
      'lan.test,10.0.0.7',
      'linklocal.test,169.254.10.1',
      'zero.test,0.0.0.0',
      'srvtarget.test,127.0.0.1',
    ],
    srvHosts: [`_cardano._tcp.srvlo.test,srvtarget.test,${relay.port},0,10`],
  });
  dir = mkdtempSync(join(tmpdir(), 'spo-resolved-hygiene-'));
  registry = join(dir, 'snapshot.json');
  writeFileSync(
    registry,
    JSON.stringify({
      version: 2,
      slotNo: 1,
      bigLedgerPools: [
        { accumulatedStake: 0.5, relativeStake: 0.5, relays: [{ address: 'lo.test', port: relay.port }] },
        { accumulatedStake: 1, relativeStake: 0.5, relays: [{ address: 'srvlo.test' }] },
      ],
    }),
  );
}, 30_000);

afterAll(async () => {
  await relay?.close();
  await dns?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('spo probe: a registry name resolving to loopback', () => {
  it('is UNUSABLE_ADDRESS, not probed, with the address and the reason (DNS name and SRV name)', async () => {
    const r = await runCli(['probe', '--source', registry, '--dns-server', dns.server, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = parseJsonOutput<{ addresses: ProbeAddressResult[]; summary: { ok: number } }>(r);
    expect(doc.summary.ok).toBe(0);
    const byRelay = new Map(doc.addresses.map((a) => [a.relay, a]));
    expect(byRelay.get('lo.test')).toMatchObject({
      status: 'UNUSABLE_ADDRESS',
      stage: 'resolve',
      address: '127.0.0.1',
      port: relay.port,
      attempts: 0,
    });
    expect(byRelay.get('lo.test')?.message).toMatch(
      /lo\.test resolves to 127\.0\.0\.1.*\(loopback\).*--include-unusable/,
    );
    expect(byRelay.get('srvlo.test')).toMatchObject({ status: 'UNUSABLE_ADDRESS', srvTarget: 'srvtarget.test' });
    // no handshake was made: the relay never saw a connection
    expect(byRelay.get('lo.test')?.handshakeMs).toBeUndefined();
  });

  it('says so in the table and the summary', async () => {
    const r = await runCli(['probe', '--source', registry, '--dns-server', dns.server]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^UNUSABLE_ADDRESS .*lo\.test +127\.0\.0\.1:\d+ .*not probed \(loopback\)/m);
    expect(r.stdout).toMatch(
      /2 registered addresses not probed \(UNUSABLE_ADDRESS.*resolved from a name\).*--include-unusable/,
    );
  });

  it('--include-unusable probes them (ok)', async () => {
    const r = await runCli(['probe', '--source', registry, '--dns-server', dns.server, '--include-unusable', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = parseJsonOutput<{ addresses: ProbeAddressResult[] }>(r);
    expect(doc.addresses.map((a) => [a.relay, a.status]).sort()).toEqual([
      ['lo.test', 'ok'],
      ['srvlo.test', 'ok'],
    ]);
  });
});

describe('the scheduler: names resolving to private, link-local, unspecified addresses', () => {
  const pools: Pool[] = [
    {
      id: '#1',
      status: 'registered',
      relays: [
        { kind: 'dns', host: 'lan.test', port: 3001, flags: [] },
        { kind: 'dns', host: 'mixed.test', port: 3001, flags: [] },
      ],
    },
  ];
  const resolveTo: Record<string, string[]> = {
    'lan.test': ['10.0.0.7', '169.254.10.1', '0.0.0.0', 'fe80::1'],
    'mixed.test': ['192.168.1.2', '203.0.114.9'],
  };
  const run = async (includeUnusable: boolean): Promise<{ results: ProbeAddressResult[]; dialled: string[] }> => {
    const dialled: string[] = [];
    // Records what would be dialled; nothing leaves the process.
    const attempt: StageFunction = async (e: ProbeEndpoint) => {
      dialled.push(e.address);
      return { status: 'ok', connectMs: 1, handshakeMs: 1 };
    };
    const results: ProbeAddressResult[] = [];
    for await (const r of probeEndpoints(targetsFromPools(pools, includeUnusable), {
      resolve: async (relay) =>
        (resolveTo[relay.host] ?? []).map((address) => ({
          address,
          port: 3001,
          family: address.includes(':') ? 6 : 4,
        })),
      attempt,
      concurrency: 4,
      attemptDeadlineMs: 1000,
      stageTimeoutMs: 1000,
      retry: 'never',
    })) {
      results.push(r);
    }
    return { results, dialled };
  };

  it('reports each unusable address with its hygiene flag and dials only the public one', async () => {
    const { results, dialled } = await run(false);
    expect(dialled).toEqual(['203.0.114.9']);
    const flag = (address: string): string | undefined =>
      /public peer \(([^)]*)\)/.exec(results.find((r) => r.address === address)?.message ?? '')?.[1];
    expect(flag('10.0.0.7')).toBe('private');
    expect(flag('169.254.10.1')).toBe('link-local');
    expect(flag('0.0.0.0')).toBe('unspecified');
    expect(flag('fe80::1')).toBe('link-local');
    expect(flag('192.168.1.2')).toBe('private');
    expect(results.filter((r) => r.status === 'UNUSABLE_ADDRESS')).toHaveLength(5);
    expect(results.find((r) => r.address === '203.0.114.9')?.status).toBe('ok');
  });

  it('with --include-unusable (includeUnusable) every address is dialled', async () => {
    const { dialled } = await run(true);
    expect(dialled.sort()).toEqual(['0.0.0.0', '10.0.0.7', '169.254.10.1', '192.168.1.2', '203.0.114.9', 'fe80::1']);
  });
});

describe('spo relays resolve: flags names resolving to unusable addresses', () => {
  let source: string;
  beforeAll(() => {
    source = join(dir, 'names.json');
    writeFileSync(
      source,
      JSON.stringify({
        version: 2,
        slotNo: 1,
        bigLedgerPools: [
          {
            accumulatedStake: 1,
            relativeStake: 1,
            relays: ['lo.test', 'lan.test', 'linklocal.test', 'zero.test'].map((address) => ({ address, port: 3001 })),
          },
        ],
      }),
    );
  });

  it('JSON: each such address carries its flag, and the summary counts the names', async () => {
    const r = await runCli(['relays', 'resolve', '--source', source, '--dns-server', dns.server, '--json']);
    expect(r.code, r.stderr).toBe(0); // they resolved: flagged, not failed
    const doc = parseJsonOutput<RelaysResolveJson>(r);
    const flags = Object.fromEntries(doc.names.map((n) => [n.name, n.addresses.map((a) => a.unusable)]));
    expect(flags).toEqual({
      'lo.test': ['loopback'],
      'lan.test': ['private'],
      'linklocal.test': ['link-local'],
      'zero.test': ['unspecified'],
    });
    expect(doc.summary).toMatchObject({ names: 4, resolved: 4, unusable: 4 });
  });

  it('table: the NOTE column says so, and the summary says what it means', async () => {
    const r = await runCli(['relays', 'resolve', '--source', source, '--dns-server', dns.server]);
    expect(r.stdout).toMatch(/lan\.test .*10\.0\.0\.7 .*not public: private/);
    expect(r.stdout).toMatch(/lo\.test .*127\.0\.0\.1 .*not public: loopback/);
    expect(r.stdout).toMatch(/4 names resolve to addresses not usable as public peers/);
  });
});

describe('spo topology lint --resolve: names in public roots or bootstrap peers', () => {
  it('warns TOPOLOGY_PUBLIC_ROOT_PRIVATE for a name resolving to a private or loopback address; local roots may', async () => {
    const file = join(dir, 'topology.json');
    writeFileSync(
      file,
      JSON.stringify({
        localRoots: [
          { accessPoints: [{ address: 'lan.test', port: 3001 }], advertise: false, trustable: true, hotValency: 1 },
        ],
        publicRoots: [{ accessPoints: [{ address: 'lan.test', port: 3001 }], advertise: false }],
        bootstrapPeers: [{ address: 'lo.test', port: 3001 }],
        useLedgerAfterSlot: 0,
      }),
    );
    const r = await runCli(['topology', 'lint', file, '--resolve', '--dns-server', dns.server, '--json']);
    const doc = parseJsonOutput<TopologyLintJson>(r);
    const hits = doc.findings.filter((f) => f.code === 'TOPOLOGY_PUBLIC_ROOT_PRIVATE');
    expect(hits.map((f) => [f.path, f.severity])).toEqual(
      expect.arrayContaining([
        ['$.publicRoots[0].accessPoints[0].address', 'warning'],
        ['$.bootstrapPeers[0].address', 'warning'],
      ]),
    );
    expect(hits).toHaveLength(2);
    expect(hits.find((f) => f.path.startsWith('$.public'))?.message).toMatch(
      /lan\.test.*resolves to 10\.0\.0\.7 \(private\)/,
    );
    // Without --resolve the name says nothing about its addresses.
    const plain = parseJsonOutput<TopologyLintJson>(await runCli(['topology', 'lint', file, '--json']));
    expect(plain.findings.filter((f) => f.code === 'TOPOLOGY_PUBLIC_ROOT_PRIVATE')).toEqual([]);
  });
});
