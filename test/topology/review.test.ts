/**
 * Acceptance review of the topology module against the node's decoding rules (ouroboros-network
 * OrphanInstances.hs / RelayAccessPoint.hs, cardano-node TopologyP2P.hs), restated:
 * - optional keys are read with `.:?`, which takes a JSON null as "absent": null advertise,
 *   trustable, behindFirewall, warmValency, diffusionMode mean the defaults, not a refused file;
 * - the hot valency is `o .: "valency" <|> o .: "hotValency"`: when "valency" does not decode, the
 *   node falls back to "hotValency" (and never reads "hotValency" when "valency" decodes);
 * - `useLedgerAfterSlot` accepts any JSON number and floors it (a fraction is not refused).
 * Also: operator mistakes the CLI must report cleanly (a UTF-8 BOM, 0.0.0.0 given to generate).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { guessRole, lintTopology } from '../../src/topology/lint.js';
import { parseTopology } from '../../src/topology/parse.js';
import { runCli } from '../lib/cli.js';

const ap = { address: '5.9.1.1', port: 3001 };
const file = (group: Record<string, unknown>, top: Record<string, unknown> = {}): unknown => ({
  localRoots: [{ accessPoints: [ap], hotValency: 1, ...group }],
  publicRoots: [],
  useLedgerAfterSlot: -1,
  ...top,
});
const errors = (doc: unknown, role: 'relay' | 'producer' = 'producer'): string[] =>
  lintTopology(parseTopology(doc, 't.json'), { role })
    .findings.filter((f) => f.severity === 'error')
    .map((f) => `${f.code} ${f.path}`);

describe('null means absent (aeson .:?)', () => {
  it('null optional group keys are the defaults, not errors', () => {
    const doc = file({
      advertise: null,
      trustable: null,
      behindFirewall: null,
      warmValency: null,
      diffusionMode: null,
    });
    expect(errors(doc)).toEqual([]);
    const g = parseTopology(doc, 't.json').topology.localRoots[0];
    expect(g).toMatchObject({
      advertise: false,
      trustable: false,
      behindFirewall: false,
      warmValency: 1,
      warmValencySet: false,
      diffusionMode: 'InitiatorAndResponder',
    });
  });

  it('null public-root advertise, useLedgerAfterSlot and peerSnapshotFile are the defaults', () => {
    const doc = {
      localRoots: [],
      publicRoots: [{ accessPoints: [ap], advertise: null }],
      useLedgerAfterSlot: null,
      peerSnapshotFile: null,
    };
    expect(errors(doc, 'relay')).toEqual([]);
    expect(parseTopology(doc, 't.json').topology.ledgerPeers.mode).toBe('never');
  });
});

describe('valency <|> hotValency', () => {
  it('a "valency" that does not decode falls back to a valid "hotValency" (a warning, not an error)', () => {
    const parsed = parseTopology(file({ valency: '2', hotValency: 1 }), 't.json');
    expect(parsed.topology.localRoots[0]?.hotValency).toBe(1);
    expect(errors(file({ valency: '2', hotValency: 1 }))).toEqual([]);
    expect(parsed.findings.map((f) => `${f.code} ${f.severity} ${f.path}`)).toContain(
      'TOPOLOGY_TYPE warning $.localRoots[0].valency',
    );
  });

  it('a valid "valency" wins and "hotValency" is never read (even a broken one)', () => {
    const parsed = parseTopology(file({ valency: 1, hotValency: 'x' }), 't.json');
    expect(parsed.topology.localRoots[0]?.hotValency).toBe(1);
    expect(errors(file({ valency: 1, hotValency: 'x' }))).toEqual([]);
  });

  it('neither decodes: the node refuses the file', () => {
    expect(errors(file({ valency: '1', hotValency: '1' }))).toContain('TOPOLOGY_TYPE $.localRoots[0].hotValency');
    expect(errors(file({ hotValency: null }))).toContain('TOPOLOGY_TYPE $.localRoots[0].hotValency');
  });
});

describe('addresses as the node reads them (Data.IP, no zone ids)', () => {
  it('an IPv6 address with a zone id (%eth0) is not an IP to the node: error', () => {
    const doc = file({ accessPoints: [{ address: 'fe80::1%eth0', port: 3001 }] });
    expect(errors(doc)).toContain('TOPOLOGY_BAD_HOST $.localRoots[0].accessPoints[0].address');
  });
});

describe('legacy Producers as the legacy node read them', () => {
  const legacy = {
    Producers: [
      { addr: 'relay1.example.org', port: 3001, valency: 2 },
      { addr: 'relay2.example.org', port: 3001, valency: 0 },
      { addr: '5.9.1.1', port: 3001, valency: 0 },
    ],
  };

  it('a producer with valency 0 was skipped by the legacy node: left out, with a warning', () => {
    const parsed = parseTopology(legacy, 't.json');
    expect(parsed.topology.localRoots.map((g) => g.accessPoints[0]?.address)).toEqual(['relay1.example.org']);
    expect(parsed.legacyProducers?.map((p) => p.address)).toEqual(['relay1.example.org']);
    const zero = parsed.findings.filter((f) => f.code === 'TOPOLOGY_VALENCY_ZERO');
    expect(zero.map((f) => `${f.severity} ${f.path}`)).toEqual([
      'warning $.Producers[1].valency',
      'warning $.Producers[2].valency',
    ]);
  });

  it('a producer without "valency" is an error, as the legacy node refused the file; migrate then refuses too', async () => {
    const doc = { Producers: [{ addr: 'relay1.example.org', port: 3001 }] };
    const missing = parseTopology(doc, 't.json').findings.filter((f) => f.code === 'TOPOLOGY_MISSING_VALENCY');
    expect(missing.map((f) => `${f.severity} ${f.path}`)).toEqual(['error $.Producers[0]']);
    const f = join(dir, 'legacy-no-valency.json');
    writeFileSync(f, JSON.stringify(doc));
    const r = await runCli(['topology', 'migrate', f, '--out', '-']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/valency/);
  });

  it('lint paths point at the Producers entry even after skipped entries', () => {
    const doc = {
      Producers: [
        { addr: 'relay0.example.org', port: 3001, valency: 0 },
        { addr: '5.9.1.1', port: 3001, valency: 1 },
        { addr: '5.9.1.1', port: 3001, valency: 1 },
      ],
    };
    const f = lintTopology(parseTopology(doc, 't.json')).findings.find((x) => x.code === 'TOPOLOGY_OVERLAPPING_GROUPS');
    expect(f?.path).toBe('$.Producers[2]');
  });

  it('migrate says it left them out', async () => {
    const f = join(dir, 'legacy-valency0.json');
    writeFileSync(f, JSON.stringify(legacy));
    const r = await runCli(['topology', 'migrate', f, '--out', '-', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { changes: string[] };
    expect(doc.changes.join('\n')).toMatch(/2 producers with valency 0 left out/);
  });
});

describe('useLedgerAfterSlot is any JSON number, floored', () => {
  it('a fraction is accepted and floored (warning), not refused', () => {
    const doc = { localRoots: [], publicRoots: [], useLedgerAfterSlot: 1289088.5 };
    const parsed = parseTopology(doc, 't.json');
    expect(parsed.topology.ledgerPeers).toEqual({ mode: 'after-slot', slot: 1289088 });
    expect(errors(doc, 'relay')).toEqual([]);
    expect(parsed.findings.map((f) => `${f.code} ${f.severity}`)).toContain('TOPOLOGY_SLOT_FRACTION warning');
  });

  it('a negative fraction means never; a fraction below 1 means after slot 0', () => {
    expect(
      parseTopology({ localRoots: [], publicRoots: [], useLedgerAfterSlot: -0.5 }, 't').topology.ledgerPeers,
    ).toEqual({ mode: 'never' });
    expect(
      parseTopology({ localRoots: [], publicRoots: [], useLedgerAfterSlot: 0.5 }, 't').topology.ledgerPeers,
    ).toEqual({
      mode: 'after-slot',
      slot: 0,
    });
  });

  it('a string is still refused', () => {
    expect(errors({ localRoots: [], publicRoots: [], useLedgerAfterSlot: '100' })).toContain(
      'TOPOLOGY_TYPE $.useLedgerAfterSlot',
    );
  });
});

describe('role guess', () => {
  const bpWithBootstrap = {
    bootstrapPeers: [{ address: 'backbone.cardano.iog.io', port: 3001 }],
    localRoots: [
      {
        accessPoints: [
          { address: '10.0.0.6', port: 3001 },
          { address: '10.0.0.7', port: 3001 },
        ],
        advertise: false,
        trustable: true,
        hotValency: 2,
      },
    ],
    publicRoots: [],
    useLedgerAfterSlot: -1,
  };

  it('a block producer that kept bootstrap peers (ledger off, no public roots) is still guessed a producer', () => {
    const parsed = parseTopology(bpWithBootstrap, 't.json');
    expect(guessRole(parsed.topology)).toBe('producer');
    const f = lintTopology(parsed).findings.map((x) => `${x.code} ${x.severity}`);
    expect(f).toContain('TOPOLOGY_PRODUCER_BOOTSTRAP_PEERS warning');
  });

  it('a relay with bootstrap peers and public roots is still a relay', () => {
    const doc = { ...bpWithBootstrap, publicRoots: [{ accessPoints: [{ address: 'relay.example.org', port: 3001 }] }] };
    expect(guessRole(parseTopology(doc, 't.json').topology)).toBe('relay');
  });
});

const dir = mkdtempSync(join(tmpdir(), 'spo-topo-review-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('CLI: operator mistakes reported cleanly', () => {
  it('a UTF-8 byte-order mark is named (the node refuses it too)', async () => {
    const f = join(dir, 'bom.json');
    writeFileSync(f, `\uFEFF${JSON.stringify(file({}))}`);
    const r = await runCli(['topology', 'lint', f]);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^spo: .*bom\.json: .*byte-order mark/);
    expect(lines[1]).toMatch(/^hint: /);
  });

  it('generate: an unspecified address given as --relay is a usage error naming the flag', async () => {
    const r = await runCli(['topology', 'generate', '--role', 'producer', '--relay', '0.0.0.0:3001']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^spo: .*--relay.*0\.0\.0\.0/);
    expect(r.stdout).toBe('');
    const z = await runCli(['topology', 'generate', '--role', 'producer', '--relay', '[fe80::1%eth0]:3001']);
    expect(z.code).toBe(2);
    expect(z.stderr).toMatch(/^spo: --relay .*zone id/);
  });

  it('generate: an SRV name given with a port is a usage error that says to drop the port', async () => {
    const r = await runCli(['topology', 'generate', '--role', 'producer', '--relay', '_cardano._tcp.mypool.io:3001']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^spo: .*_cardano\._tcp\.mypool\.io:3001.*SRV name takes no port/);
    expect(r.stderr).toMatch(/\nhint: give _cardano\._tcp\.mypool\.io alone/);
  });

  it('lint: a BP that kept bootstrap peers gets the producer warning without --role', async () => {
    const f = join(dir, 'bp-boot.json');
    writeFileSync(
      f,
      JSON.stringify({
        bootstrapPeers: [{ address: 'backbone.cardano.iog.io', port: 3001 }],
        localRoots: [{ accessPoints: [{ address: '10.0.0.6', port: 3001 }], trustable: true, hotValency: 1 }],
        publicRoots: [],
        useLedgerAfterSlot: -1,
      }),
    );
    const r = await runCli(['topology', 'lint', f, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { role: string; findings: Array<{ code: string; severity: string }> };
    expect(doc.role).toBe('producer');
    expect(doc.findings).toContainEqual(
      expect.objectContaining({ code: 'TOPOLOGY_PRODUCER_BOOTSTRAP_PEERS', severity: 'warning' }),
    );
  });

  it('migrate refuses a source whose entries the node refuses, instead of dropping them silently', async () => {
    const cases: Array<[string, unknown, string]> = [
      [
        'legacy-string-port.json',
        {
          Producers: [
            { addr: 'relay1.example.org', port: 3001, valency: 1 },
            { addr: 'relay2.example.org', port: '3001', valency: 1 },
          ],
        },
        '$.Producers[1].port',
      ],
      [
        'zero.json',
        {
          localRoots: [{ accessPoints: [{ address: '0.0.0.0', port: 3001 }, ap], hotValency: 1 }],
          publicRoots: [],
          useLedgerAfterSlot: 0,
        },
        '$.localRoots[0].accessPoints[0].address',
      ],
    ];
    for (const [name, doc, path] of cases) {
      const f = join(dir, name);
      const text = JSON.stringify(doc);
      writeFileSync(f, text);
      const out = join(dir, `migrated-${name}`);
      const r = await runCli(['topology', 'migrate', f, '--out', out, '--yes']);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(path);
      expect(existsSync(out)).toBe(false);
      expect(readFileSync(f, 'utf8')).toBe(text);
      const j = await runCli(['topology', 'migrate', f, '--out', out, '--yes', '--json']);
      expect(j.code).toBe(1);
      expect((JSON.parse(j.stdout) as { error: { code: string } }).error.code).toBe('TOPOLOGY_MIGRATE_INVALID');
    }
  });

  it('generate: a relay without public roots writes "publicRoots": [], not an empty group', async () => {
    const r = await runCli([
      'topology',
      'generate',
      '--role',
      'relay',
      '--producer',
      '10.0.0.5:3001',
      '--public-roots',
      '0',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { publicRoots: unknown[] }).publicRoots).toEqual([]);
  });
});
