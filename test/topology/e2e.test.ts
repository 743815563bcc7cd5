/**
 * spo topology generate | lint | migrate through the built binary (bin/run.js): exit codes, --json
 * shapes, no prompting without a terminal (stdin closed), atomic --out with .bak, the migrate diff
 * and confirmation rule, and the network checks against real loopback servers: dnsmasq for
 * --resolve, src/net's startServer relay for --probe.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TopologyGenerateJson } from '../../src/commands/topology/generate.js';
import type { TopologyLintJson } from '../../src/commands/topology/lint.js';
import type { TopologyMigrateJson } from '../../src/commands/topology/migrate.js';
import { NETWORKS } from '../../src/lib/networks.js';
import { type RunningServer, startServer } from '../../src/net/serve.js';
import { type Dnsmasq, startDnsmasq } from '../dns/dnsmasq.js';
import { parseJsonOutput, runCli } from '../lib/cli.js';

const FIX = fileURLToPath(new URL('../fixtures/topology/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'spo-topo-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const tmp = (name: string): string => join(dir, name);

describe('spo topology lint', () => {
  it('exit 0 on a real file with only info findings', async () => {
    const r = await runCli(['topology', 'lint', join(FIX, 'guild-mainnet-topology.json')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('0 errors, 0 warnings');
  });

  it('exit 1 with errors, and the --json shape', async () => {
    const r = await runCli([
      'topology',
      'lint',
      join(FIX, 'cardano-node-mainnet-topology.legacy-producers.2020-08.json'),
      '--json',
    ]);
    expect(r.code).toBe(1);
    const doc = parseJsonOutput<TopologyLintJson>(r);
    expect(doc).toMatchObject({ format: 'legacy-producers', ok: false, counts: { error: 1 } });
    expect(doc.findings[0]).toEqual({
      code: 'TOPOLOGY_LEGACY_FORMAT',
      severity: 'error',
      path: '$',
      message: expect.stringContaining('Producers'),
      fix: expect.stringContaining('migrate'),
    });
  });

  it('exit 2 on a usage error, exit 1 on a missing file', async () => {
    expect((await runCli(['topology', 'lint', join(FIX, 'guild-mainnet-topology.json'), '--role', 'bp'])).code).toBe(2);
    expect((await runCli(['topology', 'lint'])).code).toBe(2);
    const missing = await runCli(['topology', 'lint', tmp('nope.json')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no such file');
  });

  it('reads the node config: peer sharing on a producer is an error', async () => {
    const topo = tmp('bp.json');
    writeFileSync(
      topo,
      JSON.stringify({
        localRoots: [
          { accessPoints: [{ address: '5.9.1.1', port: 3001 }], advertise: false, trustable: true, hotValency: 1 },
        ],
        publicRoots: [],
        useLedgerAfterSlot: -1,
      }),
    );
    const cfg = tmp('config.json');
    writeFileSync(cfg, JSON.stringify({ PeerSharing: true }));
    const r = await runCli(['topology', 'lint', topo, '--role', 'producer', '--config', cfg, '--json']);
    expect(r.code).toBe(1);
    expect(parseJsonOutput<TopologyLintJson>(r).findings.map((f) => f.code)).toEqual([
      'TOPOLOGY_PRODUCER_PEER_SHARING',
    ]);
  });

  it('reads a YAML node config as the dry run does (src/config), and refuses a config the node refuses', async () => {
    const topo = tmp('relay-yaml.json');
    writeFileSync(
      topo,
      JSON.stringify({
        localRoots: [
          {
            accessPoints: [1, 2, 3].map((i) => ({ address: `5.9.1.${i}`, port: 3001 })),
            advertise: false,
            trustable: true,
            hotValency: 3,
          },
        ],
        publicRoots: [],
        bootstrapPeers: null,
        useLedgerAfterSlot: 0,
      }),
    );
    const cfg = tmp('config.yaml');
    writeFileSync(
      cfg,
      '# relay\nPeerSharing: true\nTargetNumberOfActivePeers: 2\nTargetNumberOfEstablishedPeers: 30\n',
    );
    const r = await runCli(['topology', 'lint', topo, '--role', 'relay', '--config', cfg, '--json']);
    expect(r.code).toBe(0);
    expect(parseJsonOutput<TopologyLintJson>(r).findings.map((f) => f.code)).toEqual(['TOPOLOGY_HOT_ABOVE_ACTIVE']);
    writeFileSync(cfg, 'TargetNumberOfKnownPeers: 10\n');
    const bad = await runCli(['topology', 'lint', topo, '--config', cfg, '--json']);
    expect(bad.code).toBe(1);
    const err = parseJsonOutput<{ error: { code: string; message: string } }>(bad).error;
    expect(err.code).toBe('CONFIG_TARGETS');
    expect(err.message).toContain('TargetNumberOfKnownPeers 10');
  });
});

describe('spo topology lint --resolve (dnsmasq on loopback)', () => {
  let dns: Dnsmasq;
  beforeAll(async () => {
    dns = await startDnsmasq({
      hostRecords: ['relay1.pool.test,192.0.2.10', 'relay1.pool.test,192.0.2.11', 'target.pool.test,192.0.2.20'],
      srvHosts: ['_cardano._tcp.srv.pool.test,target.pool.test,4001,0,1'],
    });
  });
  afterAll(async () => {
    await dns?.stop();
  });

  it('reports a name that does not exist and counts addresses against hotValency', async () => {
    const topo = tmp('names.json');
    writeFileSync(
      topo,
      JSON.stringify({
        localRoots: [
          {
            accessPoints: [{ address: 'relay1.pool.test', port: 3001 }],
            advertise: false,
            trustable: true,
            hotValency: 2,
          },
          { accessPoints: [{ address: 'relay1.pool.test', port: 4000 }], advertise: false, hotValency: 3 },
        ],
        publicRoots: [
          { accessPoints: [{ address: 'gone.pool.test', port: 3001 }, { address: '_cardano._tcp.srv.pool.test' }] },
        ],
        bootstrapPeers: null,
        useLedgerAfterSlot: 0,
      }),
    );
    const before = parseJsonOutput<TopologyLintJson>(await runCli(['topology', 'lint', topo, '--json']));
    expect(before.findings.map((f) => f.code).sort()).toEqual([
      'TOPOLOGY_HOTVALENCY_NAMES',
      'TOPOLOGY_HOTVALENCY_NAMES',
    ]);
    const r = await runCli([
      'topology',
      'lint',
      topo,
      '--resolve',
      '--dns-server',
      dns.server,
      '--ipv4-only',
      '--json',
    ]);
    expect(r.code).toBe(1);
    const doc = parseJsonOutput<TopologyLintJson>(r);
    expect(doc.findings.map((f) => [f.code, f.severity, f.path])).toEqual([
      ['TOPOLOGY_UNRESOLVED', 'error', '$.publicRoots[0].accessPoints[0].address'],
      ['TOPOLOGY_HOTVALENCY', 'error', '$.localRoots[1].hotValency'],
      // the SRV target's 192.0.2.20 is a documentation address: no public peer, as the literal would not be
      ['TOPOLOGY_PUBLIC_ROOT_PRIVATE', 'warning', '$.publicRoots[0].accessPoints[1].address'],
    ]);
    expect(doc.findings[1]?.message).toContain('2 address(es)');
  });
});

describe('spo topology lint --probe (a real relay on 127.0.0.1)', () => {
  let relay: RunningServer;
  beforeAll(async () => {
    relay = await startServer({ host: '127.0.0.1', port: 0, magic: NETWORKS.mainnet.magic });
  });
  afterAll(async () => {
    await relay?.close();
  });

  it('a relay that answers passes; a closed port is unreachable', async () => {
    const topo = tmp('probe.json');
    // A closed port: bind nothing on 1 (privileged, never listening in the test container).
    writeFileSync(
      topo,
      JSON.stringify({
        localRoots: [
          {
            accessPoints: [
              { address: '127.0.0.1', port: relay.port },
              { address: '127.0.0.1', port: 1 },
            ],
            advertise: false,
            trustable: true,
            hotValency: 1,
            warmValency: 2,
          },
        ],
        publicRoots: [],
        bootstrapPeers: null,
        useLedgerAfterSlot: 0,
      }),
    );
    const r = await runCli(['topology', 'lint', topo, '--probe', '--timeout', '2s', '--json']);
    const doc = parseJsonOutput<TopologyLintJson>(r);
    expect(doc.findings.map((f) => [f.code, f.severity, f.path])).toEqual([
      ['TOPOLOGY_UNREACHABLE', 'error', '$.localRoots[0].accessPoints[1]'],
    ]);
    expect(doc.findings[0]?.message).toContain('CONNECT_REFUSED');
    expect(r.code).toBe(1);
    expect(relay.stats().handshakes).toBeGreaterThanOrEqual(1);
  });

  it('another network magic makes the live relay unreachable too', async () => {
    const topo = tmp('probe2.json');
    writeFileSync(
      topo,
      JSON.stringify({
        localRoots: [
          {
            accessPoints: [{ address: '127.0.0.1', port: relay.port }],
            advertise: false,
            trustable: true,
            hotValency: 1,
          },
        ],
        publicRoots: [],
        useLedgerAfterSlot: 0,
      }),
    );
    const r = await runCli(['topology', 'lint', topo, '--probe', '--network', 'preprod', '--timeout', '2s', '--json']);
    const doc = parseJsonOutput<TopologyLintJson>(r);
    expect(doc.findings.map((f) => f.code)).toEqual(['TOPOLOGY_UNREACHABLE']);
    expect(doc.findings[0]?.message).toContain('HANDSHAKE_REFUSED');
  });
});

describe('spo topology generate', () => {
  it('never waits for input without a terminal: a usage error naming the missing flag', async () => {
    const r = await runCli(['topology', 'generate', '--role', 'relay'], { timeoutMs: 15_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('missing --producer');
    expect(r.stderr).toContain('not prompting');
    expect(r.ms).toBeLessThan(10_000);
    const j = await runCli(['topology', 'generate', '--json'], { timeoutMs: 15_000 });
    expect(j.code).toBe(2);
    expect(parseJsonOutput<{ error: { code: string; details: { missing: string[] } } }>(j).error).toMatchObject({
      code: 'TOPOLOGY_MISSING_FLAG',
      details: { missing: ['--role'] },
    });
  });

  it('writes a producer file atomically, keeps the previous one as .bak, and it lints clean', async () => {
    const out = tmp('bp-topology.json');
    const args = [
      'topology',
      'generate',
      '--role',
      'producer',
      '--relay',
      '5.9.1.1:3001',
      '--relay',
      'relay2.example.org',
      '--out',
      out,
    ];
    const r = await runCli(args);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('"PeerSharing": false');
    const first = readFileSync(out, 'utf8');
    expect(JSON.parse(first)).toEqual({
      localRoots: [
        {
          accessPoints: [
            { address: '5.9.1.1', port: 3001 },
            { address: 'relay2.example.org', port: 3001 },
          ],
          advertise: false,
          trustable: true,
          hotValency: 2,
        },
      ],
      publicRoots: [],
      useLedgerAfterSlot: -1,
    });
    expect((await runCli([...args.slice(0, -4), '--relay', 'relay3.example.org:3001', '--out', out])).code).toBe(0);
    expect(readFileSync(`${out}.bak`, 'utf8')).toBe(first);
    const lint = await runCli(['topology', 'lint', out, '--role', 'producer', '--json']);
    expect(lint.code).toBe(0);
    expect(parseJsonOutput<TopologyLintJson>(lint).counts).toEqual({ error: 0, warning: 0, info: 0 });
  });

  it('a relay for preprod with public roots and a peer snapshot written next to it', async () => {
    const out = tmp('relay-topology.json');
    const snap = tmp('peer-snapshot.json');
    const r = await runCli([
      'topology',
      'generate',
      '--role',
      'relay',
      '--network',
      'preprod',
      '--producer',
      '10.0.0.5:3001',
      '--relay',
      'relay2.example.org:3001',
      '--relay',
      'relay1.example.org:3001',
      '--self',
      'relay1.example.org:3001',
      '--public-roots',
      '4',
      '--seed',
      '42',
      '--snapshot',
      snap,
      '--out',
      out,
      '--json',
    ]);
    expect(r.code).toBe(0);
    const doc = parseJsonOutput<TopologyGenerateJson>(r);
    expect(doc.out).toBe(out);
    expect(doc.publicRoots.length).toBe(4);
    expect(doc.seed).toBe(42);
    expect(doc.snapshot?.pools).toBeGreaterThan(0);
    const topo = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
    expect(topo.peerSnapshotFile).toBe('peer-snapshot.json');
    expect(topo.bootstrapPeers).toEqual([{ address: 'preprod-node.play.dev.cardano.org', port: 3001 }]);
    expect((topo.localRoots as Array<{ accessPoints: unknown[] }>)[1]?.accessPoints).toEqual([
      { address: 'relay2.example.org', port: 3001 },
    ]);
    expect(JSON.parse(readFileSync(snap, 'utf8'))).toMatchObject({ version: 2 });
    // The same seed draws the same public roots.
    const again = parseJsonOutput<TopologyGenerateJson>(
      await runCli([
        'topology',
        'generate',
        '--role',
        'relay',
        '--network',
        'preprod',
        '--producer',
        '10.0.0.5:3001',
        '--public-roots',
        '4',
        '--seed',
        '42',
        '--json',
      ]),
    );
    expect(again.publicRoots.map((p) => p.pool)).toEqual(doc.publicRoots.map((p) => p.pool));
    const lint = await runCli(['topology', 'lint', out, '--producer', '10.0.0.5:3001']);
    expect(lint.code).toBe(0);
  });

  it('to standard output, the topology alone (node config keys on stderr)', async () => {
    const r = await runCli(['topology', 'generate', '--role', 'producer', '--relay', '5.9.1.1:3001']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ publicRoots: [], useLedgerAfterSlot: -1 });
    expect(r.stderr).toContain('PeerSharing');
  });
});

describe('spo topology migrate', () => {
  it('shows the diff and writes nothing without --yes and without a terminal', async () => {
    const file = tmp('legacy.json');
    copyFileSync(join(FIX, 'cardano-node-mainnet-topology.legacy-producers.2020-08.json'), file);
    const before = readFileSync(file, 'utf8');
    const r = await runCli(['topology', 'migrate', file]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('-  "Producers": [');
    expect(r.stderr).toContain('+  "localRoots": [');
    expect(r.stderr).toContain('not written');
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(existsSync(`${file}.bak`)).toBe(false);
  });

  it('--yes writes in place, keeps FILE.bak, and the result lints clean', async () => {
    const file = tmp('early.json');
    copyFileSync(join(FIX, 'cardano-node-mainnet-topology.early-p2p-groups.2021-11.json'), file);
    const before = readFileSync(file, 'utf8');
    const r = await runCli(['topology', 'migrate', file, '--yes', '--json']);
    expect(r.code).toBe(0);
    const doc = parseJsonOutput<TopologyMigrateJson>(r);
    expect(doc).toMatchObject({ from: 'early-p2p', written: true, out: file });
    expect(doc.diff).toContain('+      "hotValency": 1');
    expect(readFileSync(`${file}.bak`, 'utf8')).toBe(before);
    const lint = await runCli(['topology', 'lint', file, '--json']);
    expect(parseJsonOutput<TopologyLintJson>(lint).counts.error).toBe(0);
    // Already current: nothing to change.
    const again = parseJsonOutput<TopologyMigrateJson>(await runCli(['topology', 'migrate', file, '--yes', '--json']));
    expect(again).toMatchObject({ written: false, diff: '' });
  });

  it('--legacy-as public-roots and --out', async () => {
    const out = tmp('migrated.json');
    // --role producer: the file lists IOG's public relays, so by default it would migrate as a relay
    const r = await runCli([
      'topology',
      'migrate',
      join(FIX, 'cardano-node-mainnet-topology.legacy-producers.2020-08.json'),
      '--role',
      'producer',
      '--legacy-as',
      'public-roots',
      '--out',
      out,
      '--yes',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({
      localRoots: [],
      publicRoots: [{ accessPoints: [{ address: 'relays-new.cardano-mainnet.iohk.io', port: 3001 }] }],
      useLedgerAfterSlot: -1,
    });
  });

  it('refuses to write a migration that would not lint clean', async () => {
    const file = tmp('broken.json');
    const text = JSON.stringify({
      localRoots: [{ accessPoints: [{ address: '10.0.0.1', port: 1 }], valency: 3 }],
      publicRoots: [],
    });
    writeFileSync(file, text);
    const r = await runCli(['topology', 'migrate', file, '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('nothing written');
    expect(readFileSync(file, 'utf8')).toBe(text);
  });
});
