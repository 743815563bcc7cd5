/**
 * `spo governor dry-run` end to end, through the built binary: no arguments (the embedded
 * registry, relay default targets), real topology and config files, --json shape, determinism.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FakeResolver } from '../../src/sim/fake-resolver.js';
import { runCli } from '../lib/cli.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/governor/${name}`, import.meta.url));

interface PeerJson {
  address: string;
  port: number | null;
  name: string | null;
  source: string;
  temperature: 'cold' | 'warm' | 'hot';
  failCount: number;
  upstreamness: number;
}
type Counts = Record<
  'known' | 'established' | 'active' | 'knownBigLedger' | 'establishedBigLedger' | 'activeBigLedger',
  number
>;
interface DryRun {
  counters: Counts;
  targets: Counts & { root: number };
  peers: PeerJson[];
  summary: { invariantViolations: number; decisions: number; targetsFrom: string };
}

/** The last thing printed is one JSON object. */
function lastJson(stdout: string): DryRun {
  return JSON.parse(stdout.slice(stdout.lastIndexOf('\n{') + 1)) as DryRun;
}

describe('spo governor dry-run', () => {
  it('runs with no arguments, offline and quickly, and prints the temperature table', async () => {
    const r = await runCli(['governor', 'dry-run'], { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/PEER\s+NAME\s+SOURCE\s+TEMP\s+FAILS\s+UPSTREAM\s+SINCE/);
    expect(r.stdout).toMatch(/known \d+\/150 {2}established \d+\/30 {2}active \d+\/20/);
    expect(r.stdout).toContain('hot');
    expect(r.ms).toBeLessThan(10_000);
  });

  it('--json: counters, targets and peers as documented, consistent with each other', async () => {
    const r = await runCli(['governor', 'dry-run', '--json', '--duration', '30m'], { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    const d = lastJson(r.stdout);
    for (const k of [
      'known',
      'established',
      'active',
      'knownBigLedger',
      'establishedBigLedger',
      'activeBigLedger',
    ] as const) {
      expect(typeof d.counters[k]).toBe('number');
      expect(typeof d.targets[k]).toBe('number');
    }
    expect(d.targets).toMatchObject({ known: 150, established: 30, active: 20, knownBigLedger: 15 });
    expect(d.counters).toMatchObject({ established: 30, active: 20, activeBigLedger: 5 });
    expect(d.peers.length).toBe(d.counters.known + d.counters.knownBigLedger);
    const hot = d.peers.filter((p) => p.temperature === 'hot').length;
    expect(hot).toBe(d.counters.active + d.counters.activeBigLedger);
    const p = d.peers[0] as PeerJson;
    expect(Object.keys(p)).toEqual(
      expect.arrayContaining(['address', 'port', 'name', 'source', 'temperature', 'failCount', 'upstreamness']),
    );
    // Names were resolved before they became peers: every address is an IP address, and those that
    // came from a registry name say which (the embedded registry is mostly names).
    for (const x of d.peers) expect(x.address).toMatch(/^(\d{1,3}\.){3}\d{1,3}$|:/);
    expect(d.peers.some((x) => x.name !== null && x.address.startsWith('198.1'))).toBe(true);
    expect(d.summary.invariantViolations).toBe(0);
  });

  it('takes targets from a node config and local roots from a topology; a seed reproduces the run', async () => {
    const args = [
      'governor',
      'dry-run',
      '--json',
      '--topology',
      fixture('guild-mainnet-topology.json'),
      '--config',
      fixture('guild-mainnet-config.json'),
      '--duration',
      '20m',
      '--seed',
      '5',
    ];
    const [a, b] = await Promise.all([runCli(args, { timeoutMs: 30_000 }), runCli(args, { timeoutMs: 30_000 })]);
    expect(a.code, a.stderr).toBe(0);
    const d = lastJson(a.stdout);
    expect(d.targets).toMatchObject({ root: 60, known: 100, established: 40, active: 20 });
    expect(d.summary.targetsFrom).toContain('guild-mainnet-config.json');
    // The 10 local-root access points (4 addresses, 6 names) become every address of each name
    // (the dry run's fake DNS, which the library exposes), each with the name it came from.
    const topology = JSON.parse(readFileSync(fixture('guild-mainnet-topology.json'), 'utf8')) as {
      localRoots: Array<{ accessPoints: Array<{ address: string; port: number }> }>;
    };
    const fake = new FakeResolver();
    const expected = topology.localRoots.flatMap((g) =>
      g.accessPoints.flatMap((ap) => fake.peersOf(`${ap.address}:${ap.port}`).map((peer) => ({ peer, ap }))),
    );
    const local = d.peers.filter((p) => p.source === 'local-root');
    expect(local.map((p) => `${p.address}:${p.port}`).sort()).toEqual(expected.map((e) => e.peer).sort());
    for (const p of local) {
      const ap = expected.find((e) => e.peer === `${p.address}:${p.port}`)?.ap;
      expect(p.name).toBe(ap && ap.address !== p.address ? ap.address : null);
    }
    expect(local.filter((p) => p.temperature === 'hot').length).toBeGreaterThanOrEqual(5);
    expect(lastJson(b.stdout)).toEqual(d);
  });

  it("reads cardano-node's own mainnet topology (empty local-root group, ledger peers after a slot)", async () => {
    const r = await runCli(
      [
        'governor',
        'dry-run',
        '--json',
        '--duration',
        '10m',
        '--topology',
        fixture('cardano-node-mainnet-topology.json'),
      ],
      { timeoutMs: 30_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const d = lastJson(r.stdout) as DryRun & { summary: { localRoots: number; ledgerPeers: boolean } };
    expect(d.summary.localRoots).toBe(0);
    expect(d.summary.ledgerPeers).toBe(true); // useLedgerAfterSlot 185500763 <= the embedded snapshot's slot
    expect(d.peers.some((p) => p.source === 'ledger')).toBe(true);
  });

  it('prints the decision trace and tables at chosen times', async () => {
    const r = await runCli(['governor', 'dry-run', '--trace', '--duration', '2m', '--at', '30s'], {
      timeoutMs: 30_000,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('PromoteColdBigLedgerPeers');
    expect(r.stdout).toContain('TargetsChanged');
    expect(r.stdout).toContain('at 0:00:30.0');
    expect(r.stdout).toContain('at 0:02:00.0');
  });

  it('a node starting behind syncs from the bootstrap peers, then uses ledger peers once caught up', async () => {
    const r = await runCli(
      [
        'governor',
        'dry-run',
        '--json',
        '--topology',
        fixture('cardano-node-mainnet-topology.json'),
        '--judgement',
        '0s=too-old,20m=young',
        '--at',
        '10m',
        '--duration',
        '40m',
      ],
      { timeoutMs: 30_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout.slice(r.stdout.lastIndexOf('\n{') + 1)) as DryRun & {
      snapshots: Array<{ peers: PeerJson[]; cardano: Record<string, unknown> }>;
      cardano: Record<string, unknown>;
      summary: { bootstrapPeers: number; judgement: unknown[] };
    };
    expect(d.summary.bootstrapPeers).toBe(3);
    expect(d.summary.judgement).toEqual([
      { atMs: 0, judgement: 'tooOld' },
      { atMs: 1_200_000, judgement: 'youngEnough' },
    ]);
    const at10 = d.snapshots[0];
    expect(at10?.cardano).toMatchObject({
      sensitive: true,
      hasOnlyBootstrapPeers: true,
      ledgerStateJudgement: 'tooOld',
    });
    expect(at10?.peers.length).toBeGreaterThan(0);
    for (const p of at10?.peers ?? []) expect(p.source).toBe('bootstrap');
    expect(d.cardano).toMatchObject({ sensitive: false, ledgerStateJudgement: 'youngEnough' });
    expect(d.peers.some((p) => p.source === 'ledger' || p.source === 'big-ledger')).toBe(true);
    expect(d.summary.invariantViolations).toBe(0);
    // The text output says it too.
    const t = await runCli(
      [
        'governor',
        'dry-run',
        '--topology',
        fixture('cardano-node-mainnet-topology.json'),
        '--ledger-state',
        'too-old',
        '--duration',
        '5m',
      ],
      {
        timeoutMs: 30_000,
      },
    );
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toContain('sensitive: only trusted peers');
  });

  it('Genesis mode uses the sync targets while the ledger state is too old; bad judgements are usage errors', async () => {
    const r = await runCli(
      [
        'governor',
        'dry-run',
        '--json',
        '--no-churn',
        '--consensus-mode',
        'genesis',
        '--ledger-state',
        'too-old',
        '--duration',
        '10m',
      ],
      { timeoutMs: 30_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const d = lastJson(r.stdout) as DryRun & { cardano: Record<string, unknown> };
    expect(d.targets).toEqual({
      root: 0,
      known: 150,
      established: 10,
      active: 5,
      knownBigLedger: 100,
      establishedBigLedger: 40,
      activeBigLedger: 30,
    });
    expect(d.cardano).toMatchObject({ consensusMode: 'genesis', sensitive: false });
    const bad = await runCli(['governor', 'dry-run', '--json', '--judgement', '0s=late'], { timeoutMs: 30_000 });
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout).error.code).toBe('BAD_JUDGEMENT');
  });

  it('reports bad input with a stable code', async () => {
    const r = await runCli(['governor', 'dry-run', '--json', '--config', fixture('guild-mainnet-topology.json')], {
      timeoutMs: 30_000,
    });
    // a topology is no node config: no TargetNumberOf* keys -> relay defaults, still runs
    expect(r.code).toBe(0);
    const bad = await runCli(['governor', 'dry-run', '--json', '--topology', fixture('missing.json')], {
      timeoutMs: 30_000,
    });
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).error.code).toBe('FILE_NOT_FOUND');
    const dur = await runCli(['governor', 'dry-run', '--duration', 'soon'], { timeoutMs: 30_000 });
    expect(dur.code).toBe(2);
  });

  it('Ctrl-C during a long simulation exits 130 at once (the run is sliced and checks the signal)', async () => {
    // Large targets make 30 simulated days minutes of CPU, so the run is still far from done when
    // the signal lands (the relay defaults' 30 days take ~2 s, about when the progress line is out).
    let sent = 0;
    let seen = '';
    const r = await runCli(
      ['governor', 'dry-run', '--duration', '30d', '--config', fixture('large-targets-config.json')],
      {
        timeoutMs: 60_000,
        onSpawn: (child) => {
          // Ctrl-C once the progress line (printed after 2 s of wall time) is out, however loaded the machine.
          child.stderr?.on('data', (d: Buffer | string) => {
            seen += String(d);
            if (sent === 0 && /simulating: .* of 720h 0m/.test(seen)) {
              sent = performance.now();
              child.kill('SIGINT');
            }
          });
        },
      },
    );
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/interrupted/);
    expect(r.stderr).toMatch(/simulating: .* of 720h 0m/); // progress after 2 s of wall time
    expect(sent).toBeGreaterThan(0);
    expect(performance.now() - sent).toBeLessThan(2000);
  });

  it('--duration above 30d, --at after --duration and a --seed beyond 2^53 are usage errors', async () => {
    const long = await runCli(['governor', 'dry-run', '--duration', '31d']);
    expect(long.code).toBe(2);
    expect(long.stderr).toMatch(/--duration 31d.*30d/);
    const late = await runCli(['governor', 'dry-run', '--duration', '30m', '--at', '1h']);
    expect(late.code).toBe(2);
    expect(late.stderr).toMatch(/--at 1h.*--duration 30m/);
    const seed = await runCli(['governor', 'dry-run', '--duration', '1m', '--seed', '99999999999999999999']);
    expect(seed.code).toBe(2);
    expect(seed.stderr).toMatch(/--seed/);
  });

  it('terminal escapes in relay names are shown escaped in the peer table (JSON keeps the data)', async () => {
    const snap = JSON.parse(
      readFileSync(
        fileURLToPath(new URL('../fixtures/registry/preprod-peer-snapshot.v2.json', import.meta.url)),
        'utf8',
      ),
    ) as { bigLedgerPools: Array<{ relays: Array<{ address: string; port: number }> }> };
    for (const pool of snap.bigLedgerPools.slice(0, 5))
      pool.relays = [{ address: '\u001b[31mred\u001b[0m.example', port: 3001 }];
    const file = join(mkdtempSync(join(tmpdir(), 'spo-gov-')), 'esc.json');
    writeFileSync(file, JSON.stringify(snap));
    const r = await runCli(['governor', 'dry-run', '--source', file, '--duration', '10m'], { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    // The name is resolved (fake DNS) and shown beside its address, escaped.
    expect(r.stdout).toContain('\\u001b[31mred\\u001b[0m.example');
    expect(r.stdout).not.toContain('\u001b');
    const j = await runCli(['governor', 'dry-run', '--source', file, '--duration', '10m', '--json'], {
      timeoutMs: 30_000,
    });
    expect(lastJson(j.stdout).peers.some((p) => p.name === '\u001b[31mred\u001b[0m.example')).toBe(true);
  });

  it('--config without any peer-selection key warns on stderr (still runs with the relay defaults)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'spo-gov-')), 'not-a-config.json');
    writeFileSync(file, JSON.stringify({ localRoots: [], publicRoots: [], useLedgerAfterSlot: 0 }));
    const r = await runCli(['governor', 'dry-run', '--config', file, '--duration', '1m'], { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`warning: no peer-selection keys found in ${file}; using relay defaults`);
    const ok = await runCli(
      ['governor', 'dry-run', '--config', fixture('guild-mainnet-config.json'), '--duration', '1m'],
      { timeoutMs: 30_000 },
    );
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).not.toContain('no peer-selection keys');
  });
});

describe('spo governor dry-run with a producer topology and a config without targets', () => {
  it("uses the node's block-producer defaults for the keys the config leaves out, as lint does", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spo-dry-producer-'));
    const topology = join(dir, 'topology.json');
    const config = join(dir, 'config.yaml');
    // a producer: its own relays as local roots, no ledger peers, no public roots
    writeFileSync(
      topology,
      JSON.stringify({
        localRoots: [{ accessPoints: [{ address: '192.0.2.10', port: 3001 }], advertise: false, valency: 1 }],
        publicRoots: [],
        useLedgerAfterSlot: -1,
      }),
    );
    writeFileSync(config, 'ConsensusMode: PraosMode\n');
    const r = await runCli(
      ['governor', 'dry-run', '--topology', topology, '--config', config, '--duration', '5m', '--json'],
      { timeoutMs: 60_000 },
    );
    expect(r.code).toBe(0);
    const out = lastJson(r.stdout);
    // defaultDeadlineTargets of a block producer: root 100, known 100 (a relay's are 60 and 150)
    expect(out.targets.root).toBe(100);
    expect(out.targets.known).toBe(100);
    expect(out.summary.targetsFrom).toContain('producer defaults');
  });
});
