/**
 * Parser details the fixtures do not exercise (behindFirewall, diffusionMode, SRV access points,
 * bootstrapPeers null/[], valency precedence, the 0.0.0.0 rule), the writer keeping them, the
 * migration diff, the docs listing every rule, and a property: any JSON value either parses to
 * findings with JSONPaths or is refused as "not a topology", never anything else.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSpoError } from '../../src/lib/errors.js';
import { LINT_RULES, lintTopology } from '../../src/topology/lint.js';
import { lintRulesTable, replaceRulesTable, rulesTableOf } from '../../src/topology/lint-rules.js';
import { lineDiff } from '../../src/topology/migrate.js';
import { parseTopology, parseTopologyStrict } from '../../src/topology/parse.js';
import { topologyMeaning, writeTopology } from '../../src/topology/write.js';

describe('parser rules', () => {
  const doc = {
    localRoots: [
      {
        accessPoints: [{ address: '_cardano._tcp.relays.example.org' }, { address: '2a01:4f8::1', port: 3001 }],
        advertise: false,
        trustable: true,
        hotValency: 1,
        warmValency: 2,
        diffusionMode: 'InitiatorOnly',
        behindFirewall: true,
      },
    ],
    publicRoots: [],
    bootstrapPeers: null,
    useLedgerAfterSlot: 0,
  };

  it('reads every key of the current format and keeps it through the writer', () => {
    const p = parseTopology(doc, 'x');
    expect(p.findings).toEqual([]);
    expect(p.topology.localRoots[0]).toEqual({
      accessPoints: [
        { address: '_cardano._tcp.relays.example.org', kind: 'srv' },
        { address: '2a01:4f8::1', port: 3001, kind: 'ipv6' },
      ],
      advertise: false,
      trustable: true,
      hotValency: 1,
      warmValency: 2,
      warmValencySet: true,
      diffusionMode: 'InitiatorOnly',
      behindFirewall: true,
    });
    expect(p.topology.bootstrapPeers).toBeNull();
    expect(p.topology.ledgerPeers).toEqual({ mode: 'always' });
    const again = parseTopology(JSON.parse(writeTopology(p.topology)), 'y');
    expect(topologyMeaning(again.topology)).toEqual(topologyMeaning(p.topology));
    expect(writeTopology(p.topology)).toContain('"behindFirewall": true');
  });

  it('applies the node defaults', () => {
    const p = parseTopology(
      { localRoots: [{ accessPoints: [], valency: 3 }], publicRoots: [{ accessPoints: [] }] },
      'x',
    );
    expect(p.topology.localRoots[0]).toMatchObject({
      hotValency: 3,
      warmValency: 3,
      warmValencySet: false,
      advertise: false,
      trustable: false,
      behindFirewall: false,
      diffusionMode: 'InitiatorAndResponder',
    });
    expect(p.topology.publicRoots[0]?.advertise).toBe(false);
    expect(p.topology.useLedgerAfterSlot).toBeUndefined();
    expect(p.topology.ledgerPeers).toEqual({ mode: 'never' });
    expect(p.topology.bootstrapPeers).toBeNull();
    // The writer says "never" explicitly.
    expect(JSON.parse(writeTopology(p.topology)).useLedgerAfterSlot).toBe(-1);
  });

  it('bootstrapPeers [] is enabled (and needs a trustable group)', () => {
    const p = parseTopology({ ...doc, bootstrapPeers: [] }, 'x');
    expect(p.topology.bootstrapPeers).toEqual([]);
    expect(lintTopology(p).findings.map((f) => f.code)).not.toContain('TOPOLOGY_NO_TRUSTED_SOURCE');
  });

  it('useLedgerAfterSlot: negative never, 0 always, n after slot n', () => {
    const at = (n: number) => parseTopology({ ...doc, useLedgerAfterSlot: n }, 'x').topology.ledgerPeers;
    expect(at(-5)).toEqual({ mode: 'never' });
    expect(at(0)).toEqual({ mode: 'always' });
    expect(at(123)).toEqual({ mode: 'after-slot', slot: 123 });
  });

  it('parseTopologyStrict throws the first node-refused error with its path and fix', () => {
    const bad = {
      localRoots: [{ accessPoints: [{ address: '0.0.0.0', port: 3001 }], hotValency: 1 }],
      publicRoots: [],
    };
    try {
      parseTopologyStrict(bad, 'bad.json');
      expect.unreachable();
    } catch (error) {
      expect(isSpoError(error) && error.code).toBe('TOPOLOGY_UNSPECIFIED_ADDRESS');
      expect((error as Error).message).toContain('bad.json: $.localRoots[0].accessPoints[0].address');
    }
    expect(() => parseTopologyStrict({ Producers: [] }, 'l.json', { allowOldFormats: true })).not.toThrow();
  });
});

describe('the early grouped format, later spelling (accessPoints/address)', () => {
  it('reads local and public roots and the slot', () => {
    const p = parseTopology(
      {
        LocalRoots: {
          groups: [{ localRoots: { accessPoints: [{ address: '5.9.1.1', port: 3001 }], advertise: true }, valency: 1 }],
        },
        PublicRoots: [
          { publicRoots: { accessPoints: [{ address: 'relays.example.org', port: 3001 }], advertise: false } },
        ],
        useLedgerAfterSlot: 100,
      },
      'early',
    );
    expect(p.format).toBe('early-p2p');
    expect(p.findings.map((f) => f.code)).toEqual(['TOPOLOGY_EARLY_P2P_FORMAT']);
    expect(p.topology.localRoots[0]).toMatchObject({ hotValency: 1, advertise: true });
    expect(p.topology.publicRoots[0]?.accessPoints[0]?.address).toBe('relays.example.org');
    expect(p.topology.ledgerPeers).toEqual({ mode: 'after-slot', slot: 100 });
  });
});

describe('migration diff', () => {
  it('marks kept, removed and added lines', () => {
    expect(lineDiff('a\nb\nc\n', 'a\nx\nc\n')).toBe(' a\n-b\n+x\n c\n');
    expect(lineDiff('same\n', 'same\n')).toBe('');
  });
});

describe('docs/topology-lint.md', () => {
  it('lists every rule with its severity', () => {
    const text = readFileSync(new URL('../../docs/topology-lint.md', import.meta.url), 'utf8');
    for (const r of LINT_RULES) expect(text).toContain(`| \`${r.code}\` | ${r.severity} |`);
  });

  it('its rules table is the one made from the rule objects (npm run docs rewrites it)', () => {
    const text = readFileSync(new URL('../../docs/topology-lint.md', import.meta.url), 'utf8');
    expect(rulesTableOf(text)).toBe(lintRulesTable());
    expect(replaceRulesTable(text, lintRulesTable())).toBe(text);
  });
});

describe('any JSON (property)', () => {
  it('parses to findings with JSONPaths, or is refused as not a topology', () => {
    const topoish = fc.record(
      {
        localRoots: fc.oneof(fc.array(fc.anything(), { maxLength: 3 }), fc.anything()),
        publicRoots: fc.oneof(fc.array(fc.anything(), { maxLength: 3 }), fc.anything()),
        useLedgerAfterSlot: fc.anything(),
        bootstrapPeers: fc.anything(),
        Producers: fc.anything(),
        LocalRoots: fc.anything(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.anything(), topoish), (value) => {
        try {
          const p = parseTopology(value, 'any');
          for (const f of p.findings) {
            expect(f.path.startsWith('$')).toBe(true);
            expect(['error', 'warning', 'info']).toContain(f.severity);
          }
          lintTopology(p);
          writeTopology(p.topology);
        } catch (error) {
          expect(isSpoError(error) && error.code).toBe('TOPOLOGY_FORMAT');
        }
      }),
      { seed: 7, numRuns: 1000 },
    );
  });
});
