/**
 * One broken or risky topology per lint rule: each produces exactly the expected finding (code,
 * severity and JSON path), and nothing else. The files are built from two clean bases (a relay and
 * a block producer) that lint with no finding at all.
 */
import { describe, expect, it } from 'vitest';
import { LINT_RULES, type LintOptions, lintTopology } from '../../src/topology/lint.js';
import type { Severity } from '../../src/topology/model.js';
import { parseTopology } from '../../src/topology/parse.js';

type Doc = Record<string, unknown>;
const relayBase = (): Doc => ({
  bootstrapPeers: [{ address: 'backbone.cardano.iog.io', port: 3001 }],
  localRoots: [
    { accessPoints: [{ address: '10.0.0.5', port: 3001 }], advertise: false, trustable: true, hotValency: 1 },
  ],
  publicRoots: [{ accessPoints: [{ address: 'relay.example.org', port: 3001 }], advertise: false }],
  useLedgerAfterSlot: 0,
});
const producerBase = (): Doc => ({
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
// biome-ignore lint/suspicious/noExplicitAny: test documents are edited freely
type Any = any;
const relay = (edit: (d: Any) => void): Doc => {
  const d = relayBase();
  edit(d);
  return d;
};
const producer = (edit: (d: Any) => void): Doc => {
  const d = producerBase();
  edit(d);
  return d;
};

interface Case {
  name: string;
  doc: unknown;
  code: string;
  severity: Severity;
  path: string;
  options?: LintOptions;
}

const cases: Case[] = [
  {
    name: 'legacy Producers format',
    doc: { Producers: [{ addr: '5.9.1.1', port: 3001, valency: 1 }] },
    code: 'TOPOLOGY_LEGACY_FORMAT',
    severity: 'error',
    path: '$',
  },
  {
    name: 'early grouped P2P format',
    doc: {
      LocalRoots: {
        groups: [{ localRoots: { addrs: [{ addr: '5.9.1.1', port: 3001 }], advertise: false }, valency: 1 }],
      },
      PublicRoots: [],
    },
    code: 'TOPOLOGY_EARLY_P2P_FORMAT',
    severity: 'error',
    path: '$',
  },
  {
    name: 'useLedgerAfterSlot with a fraction (rounded down by the node)',
    doc: relay((d) => {
      d.useLedgerAfterSlot = 100.5;
    }),
    code: 'TOPOLOGY_SLOT_FRACTION',
    severity: 'warning',
    path: '$.useLedgerAfterSlot',
  },
  {
    name: 'publicRoots missing',
    doc: relay((d) => delete d.publicRoots),
    code: 'TOPOLOGY_MISSING_KEY',
    severity: 'error',
    path: '$.publicRoots',
  },
  {
    name: 'advertise as a string',
    doc: relay((d) => (d.localRoots[0].advertise = 'false')),
    code: 'TOPOLOGY_TYPE',
    severity: 'error',
    path: '$.localRoots[0].advertise',
  },
  {
    name: 'useLedgerAfterSlot as a string',
    doc: relay((d) => (d.useLedgerAfterSlot = '0')),
    code: 'TOPOLOGY_TYPE',
    severity: 'error',
    path: '$.useLedgerAfterSlot',
    options: { role: 'relay' },
  },
  {
    name: 'public root group without accessPoints',
    doc: relay((d) => delete d.publicRoots[0].accessPoints),
    code: 'TOPOLOGY_MISSING_ACCESS_POINTS',
    severity: 'error',
    path: '$.publicRoots[0].accessPoints',
  },
  {
    name: 'access point without address',
    doc: relay((d) => d.localRoots[0].accessPoints.unshift({ port: 3001 })),
    code: 'TOPOLOGY_MISSING_ADDRESS',
    severity: 'error',
    path: '$.localRoots[0].accessPoints[0].address',
  },
  {
    name: 'local root group without valency',
    doc: relay((d) => delete d.localRoots[0].hotValency),
    code: 'TOPOLOGY_MISSING_VALENCY',
    severity: 'error',
    path: '$.localRoots[0]',
  },
  {
    name: 'valency and hotValency disagree',
    doc: relay((d) => {
      d.localRoots[0].valency = 1;
      d.localRoots[0].hotValency = 2;
    }),
    code: 'TOPOLOGY_BOTH_VALENCY_KEYS',
    severity: 'error',
    path: '$.localRoots[0].hotValency',
  },
  {
    name: 'port as a string (silently an SRV name)',
    doc: relay((d) => (d.publicRoots[0].accessPoints[0].port = '3001')),
    code: 'TOPOLOGY_BAD_PORT',
    severity: 'error',
    path: '$.publicRoots[0].accessPoints[0].port',
  },
  {
    name: 'port above 65535 (silently narrowed)',
    doc: relay((d) => (d.publicRoots[0].accessPoints[0].port = 70000)),
    code: 'TOPOLOGY_BAD_PORT',
    severity: 'error',
    path: '$.publicRoots[0].accessPoints[0].port',
  },
  {
    name: 'IP address without port',
    doc: relay((d) => delete d.localRoots[0].accessPoints[0].port),
    code: 'TOPOLOGY_MISSING_PORT',
    severity: 'error',
    path: '$.localRoots[0].accessPoints[0]',
  },
  {
    name: '0.0.0.0 as an address',
    doc: relay((d) => (d.publicRoots[0].accessPoints[0].address = '0.0.0.0')),
    code: 'TOPOLOGY_UNSPECIFIED_ADDRESS',
    severity: 'error',
    path: '$.publicRoots[0].accessPoints[0].address',
  },
  {
    name: ':: as an address',
    doc: relay((d) => (d.publicRoots[0].accessPoints[0].address = '::')),
    code: 'TOPOLOGY_UNSPECIFIED_ADDRESS',
    severity: 'error',
    path: '$.publicRoots[0].accessPoints[0].address',
  },
  {
    name: 'a URL as an address',
    doc: relay((d) => (d.publicRoots[0].accessPoints[0].address = 'http://relay.example.org')),
    code: 'TOPOLOGY_BAD_HOST',
    severity: 'error',
    path: '$.publicRoots[0].accessPoints[0].address',
  },
  {
    name: 'unknown diffusionMode',
    doc: relay((d) => (d.localRoots[0].diffusionMode = 'Duplex')),
    code: 'TOPOLOGY_BAD_DIFFUSION_MODE',
    severity: 'error',
    path: '$.localRoots[0].diffusionMode',
  },
  {
    name: 'name without port and without _ prefix',
    doc: relay((d) => delete d.publicRoots[0].accessPoints[0].port),
    code: 'TOPOLOGY_SRV_NO_PREFIX',
    severity: 'warning',
    path: '$.publicRoots[0].accessPoints[0]',
  },
  {
    name: 'SRV name (leading _) with a port',
    doc: relay((d) => (d.publicRoots[0].accessPoints[0].address = '_cardano._tcp.example.org')),
    code: 'TOPOLOGY_SRV_WITH_PORT',
    severity: 'warning',
    path: '$.publicRoots[0].accessPoints[0].port',
  },
  {
    name: 'mistyped top-level key',
    doc: relay((d) => (d.useLedgerAfterSlots = 5)),
    code: 'TOPOLOGY_UNKNOWN_KEY',
    severity: 'warning',
    path: '$.useLedgerAfterSlots',
  },
  {
    name: 'mistyped group key (hotvalency)',
    doc: relay((d) => (d.localRoots[0].hotvalency = 2)),
    code: 'TOPOLOGY_UNKNOWN_KEY',
    severity: 'warning',
    path: '$.localRoots[0].hotvalency',
  },
  {
    name: 'annotation inside an access point',
    doc: relay((d) => (d.localRoots[0].accessPoints[0].description = 'my BP')),
    code: 'TOPOLOGY_UNKNOWN_KEY',
    severity: 'info',
    path: '$.localRoots[0].accessPoints[0].description',
  },
  {
    name: 'hotValency 0',
    doc: relay((d) => (d.localRoots[0].hotValency = 0)),
    code: 'TOPOLOGY_VALENCY_ZERO',
    severity: 'error',
    path: '$.localRoots[0].hotValency',
  },
  {
    name: 'hotValency above the IP access points',
    doc: relay((d) => (d.localRoots[0].hotValency = 2)),
    code: 'TOPOLOGY_HOTVALENCY',
    severity: 'error',
    path: '$.localRoots[0].hotValency',
  },
  {
    name: 'hotValency above access points that are names',
    doc: relay((d) => {
      d.localRoots[0].accessPoints = [{ address: 'relays.example.org', port: 3001 }];
      d.localRoots[0].hotValency = 2;
    }),
    code: 'TOPOLOGY_HOTVALENCY_NAMES',
    severity: 'info',
    path: '$.localRoots[0].hotValency',
  },
  {
    name: 'warmValency below hotValency',
    doc: relay((d) => {
      d.localRoots[0].accessPoints.push({ address: '10.0.0.6', port: 3001 });
      d.localRoots[0].hotValency = 2;
      d.localRoots[0].warmValency = 1;
    }),
    code: 'TOPOLOGY_WARM_BELOW_HOT',
    severity: 'error',
    path: '$.localRoots[0].warmValency',
  },
  {
    name: 'warmValency above the IP access points',
    doc: relay((d) => (d.localRoots[0].warmValency = 3)),
    code: 'TOPOLOGY_WARMVALENCY_ABOVE',
    severity: 'warning',
    path: '$.localRoots[0].warmValency',
  },
  {
    name: 'overlapping local root groups',
    doc: relay((d) =>
      d.localRoots.push({ accessPoints: [{ address: '10.0.0.5', port: 3001 }], advertise: false, hotValency: 1 }),
    ),
    code: 'TOPOLOGY_OVERLAPPING_GROUPS',
    severity: 'error',
    path: '$.localRoots[1].accessPoints[0]',
  },
  {
    name: 'duplicated public root',
    doc: relay((d) => d.publicRoots[0].accessPoints.push({ address: 'RELAY.example.org', port: 3001 })),
    code: 'TOPOLOGY_DUPLICATE_ENDPOINT',
    severity: 'warning',
    path: '$.publicRoots[0].accessPoints[1]',
  },
  {
    name: 'duplicated access point in a local group',
    doc: relay((d) => d.localRoots[0].accessPoints.push({ address: '10.0.0.5', port: 3001 })),
    code: 'TOPOLOGY_DUPLICATE_ENDPOINT',
    severity: 'warning',
    path: '$.localRoots[0].accessPoints[1]',
  },
  {
    name: 'endpoint both local root and public root',
    doc: relay((d) =>
      d.localRoots.push({
        accessPoints: [{ address: 'relay.example.org', port: 3001 }],
        advertise: false,
        hotValency: 1,
      }),
    ),
    code: 'TOPOLOGY_LOCAL_AND_PUBLIC',
    severity: 'warning',
    path: '$.publicRoots[0].accessPoints[0]',
  },
  {
    name: 'empty local root group',
    doc: relay((d) => d.localRoots.push({ accessPoints: [], advertise: false, hotValency: 1 })),
    code: 'TOPOLOGY_EMPTY_GROUP',
    severity: 'info',
    path: '$.localRoots[1].accessPoints',
  },
  {
    name: 'more local roots than TargetNumberOfKnownPeers',
    doc: relay((d) => d.localRoots[0].accessPoints.push({ address: '10.0.0.6', port: 3001 })),
    code: 'TOPOLOGY_LOCAL_ROOTS_ABOVE_KNOWN',
    severity: 'error',
    path: '$.localRoots',
    options: { config: { targetKnown: 1 } },
  },
  {
    name: 'hot valencies above TargetNumberOfActivePeers',
    doc: relay((d) => {
      d.localRoots[0].accessPoints.push({ address: '10.0.0.6', port: 3001 });
      d.localRoots[0].hotValency = 2;
    }),
    code: 'TOPOLOGY_HOT_ABOVE_ACTIVE',
    severity: 'warning',
    path: '$.localRoots',
    options: { config: { targetActive: 1 } },
  },
  {
    name: 'bootstrap enabled, empty, nothing trustable',
    doc: relay((d) => {
      d.bootstrapPeers = [];
      d.localRoots[0].trustable = false;
    }),
    code: 'TOPOLOGY_NO_TRUSTED_SOURCE',
    severity: 'error',
    path: '$.bootstrapPeers',
  },
  {
    name: 'no useLedgerAfterSlot on a relay',
    doc: relay((d) => delete d.useLedgerAfterSlot),
    code: 'TOPOLOGY_NO_LEDGER_AFTER_SLOT',
    severity: 'warning',
    path: '$',
  },
  {
    name: 'ledger peers off on a relay',
    doc: relay((d) => (d.useLedgerAfterSlot = -1)),
    code: 'TOPOLOGY_LEDGER_PEERS_OFF',
    severity: 'info',
    path: '$.useLedgerAfterSlot',
  },
  {
    name: 'peer snapshot with ledger peers off',
    doc: relay((d) => {
      d.useLedgerAfterSlot = -1;
      d.peerSnapshotFile = 'peer-snapshot.json';
    }),
    code: 'TOPOLOGY_SNAPSHOT_IGNORED',
    severity: 'warning',
    path: '$.peerSnapshotFile',
  },
  {
    name: 'relay with no peer source',
    doc: relay((d) => {
      d.useLedgerAfterSlot = -1;
      d.bootstrapPeers = null;
      d.publicRoots = [];
    }),
    code: 'TOPOLOGY_NO_PEER_SOURCE',
    severity: 'warning',
    path: '$',
    options: { role: 'relay' },
  },
  {
    name: 'bootstrap peers in Genesis mode',
    doc: relayBase(),
    code: 'TOPOLOGY_GENESIS_BOOTSTRAP',
    severity: 'warning',
    path: '$.bootstrapPeers',
    options: { config: { consensusMode: 'GenesisMode' } },
  },
  {
    name: 'block producer with public roots',
    doc: producer((d) => (d.publicRoots = [{ accessPoints: [{ address: 'relay.example.org', port: 3001 }] }])),
    code: 'TOPOLOGY_PRODUCER_PUBLIC_ROOTS',
    severity: 'error',
    path: '$.publicRoots',
    options: { role: 'producer' },
  },
  {
    name: 'producer-looking file with public roots (role guessed)',
    doc: producer((d) => (d.publicRoots = [{ accessPoints: [{ address: 'relay.example.org', port: 3001 }] }])),
    code: 'TOPOLOGY_PRODUCER_PUBLIC_ROOTS',
    severity: 'warning',
    path: '$.publicRoots',
  },
  {
    name: 'block producer with ledger peers',
    doc: producer((d) => (d.useLedgerAfterSlot = 0)),
    code: 'TOPOLOGY_PRODUCER_LEDGER_PEERS',
    severity: 'error',
    path: '$.useLedgerAfterSlot',
    options: { role: 'producer' },
  },
  {
    name: 'block producer with bootstrap peers',
    doc: producer((d) => (d.bootstrapPeers = [{ address: 'backbone.cardano.iog.io', port: 3001 }])),
    code: 'TOPOLOGY_PRODUCER_BOOTSTRAP_PEERS',
    severity: 'error',
    path: '$.bootstrapPeers',
    options: { role: 'producer' },
  },
  {
    name: 'block producer advertising its relays',
    doc: producer((d) => (d.localRoots[0].advertise = true)),
    code: 'TOPOLOGY_PRODUCER_ADVERTISE',
    severity: 'error',
    path: '$.localRoots[0].advertise',
    options: { role: 'producer' },
  },
  {
    name: 'block producer with peer sharing on',
    doc: producerBase(),
    code: 'TOPOLOGY_PRODUCER_PEER_SHARING',
    severity: 'error',
    path: '$',
    options: { role: 'producer', config: { peerSharing: true } },
  },
  {
    name: 'block producer with a peer snapshot',
    doc: producer((d) => (d.peerSnapshotFile = 'peer-snapshot.json')),
    code: 'TOPOLOGY_PRODUCER_SNAPSHOT',
    severity: 'warning',
    path: '$.peerSnapshotFile',
    options: { role: 'producer' },
  },
  {
    name: 'block producer without relays',
    doc: producer((d) => (d.localRoots = [])),
    code: 'TOPOLOGY_PRODUCER_NO_RELAYS',
    severity: 'warning',
    path: '$.localRoots',
    options: { role: 'producer' },
  },
  {
    name: 'relay advertising the producer',
    doc: relay((d) => (d.localRoots[0].advertise = true)),
    code: 'TOPOLOGY_ADVERTISES_PRODUCER',
    severity: 'error',
    path: '$.localRoots[0].advertise',
    options: { producers: [{ address: '10.0.0.5', port: 3001, kind: 'ipv4' }] },
  },
  {
    name: 'relay advertising a private address',
    doc: relay((d) => (d.localRoots[0].advertise = true)),
    code: 'TOPOLOGY_ADVERTISE_PRIVATE',
    severity: 'warning',
    path: '$.localRoots[0].accessPoints[0]',
  },
  {
    name: 'private address in public roots',
    doc: relay((d) => (d.publicRoots[0].accessPoints[0] = { address: '192.168.1.10', port: 3001 })),
    code: 'TOPOLOGY_PUBLIC_ROOT_PRIVATE',
    severity: 'warning',
    path: '$.publicRoots[0].accessPoints[0].address',
  },
  {
    name: 'loopback address in bootstrap peers',
    doc: relay((d) => (d.bootstrapPeers = [{ address: '127.0.0.1', port: 3001 }])),
    code: 'TOPOLOGY_PUBLIC_ROOT_PRIVATE',
    severity: 'warning',
    path: '$.bootstrapPeers[0].address',
  },
  {
    name: 'carrier-grade NAT address in public roots',
    doc: relay((d) => (d.publicRoots[0].accessPoints[0] = { address: '100.100.100.100', port: 3001 })),
    code: 'TOPOLOGY_PUBLIC_ROOT_PRIVATE',
    severity: 'warning',
    path: '$.publicRoots[0].accessPoints[0].address',
  },
  {
    name: "mainnet's bootstrap peer for a node on preprod",
    doc: relayBase(),
    options: { network: 'preprod' },
    code: 'TOPOLOGY_OTHER_NETWORK',
    severity: 'warning',
    path: '$.bootstrapPeers[0].address',
  },
  {
    name: 'peerSnapshotFile that does not exist',
    doc: relay((d) => (d.peerSnapshotFile = 'snap.json')),
    options: { snapshot: { path: '/srv/cardano/snap.json', problem: 'missing' } },
    code: 'TOPOLOGY_SNAPSHOT_MISSING',
    severity: 'error',
    path: '$.peerSnapshotFile',
  },
  {
    name: 'peerSnapshotFile that is not a snapshot',
    doc: relay((d) => (d.peerSnapshotFile = 'snap.json')),
    options: { snapshot: { path: '/srv/cardano/snap.json', problem: 'invalid', reason: 'not JSON' } },
    code: 'TOPOLOGY_SNAPSHOT_INVALID',
    severity: 'error',
    path: '$.peerSnapshotFile',
  },
  {
    name: 'documentation address in local roots',
    doc: relay((d) => (d.localRoots[0].accessPoints[0].address = '192.0.2.1')),
    code: 'TOPOLOGY_LOCAL_ROOT_UNROUTABLE',
    severity: 'warning',
    path: '$.localRoots[0].accessPoints[0].address',
  },
];

describe('lint rules, one broken or risky file each', () => {
  it('the bases lint with no finding at all', () => {
    expect(lintTopology(parseTopology(relayBase(), 'relay')).findings).toEqual([]);
    expect(lintTopology(parseTopology(producerBase(), 'bp'), { role: 'producer' }).findings).toEqual([]);
    expect(lintTopology(parseTopology(producerBase(), 'bp')).role).toBe('producer');
    expect(lintTopology(parseTopology(relayBase(), 'relay')).role).toBe('relay');
  });

  it('has at least 30 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  for (const c of cases) {
    it(`${c.code}: ${c.name}`, () => {
      const r = lintTopology(parseTopology(c.doc, 'case.json'), c.options);
      expect(r.findings.map((f) => ({ code: f.code, severity: f.severity, path: f.path }))).toEqual([
        { code: c.code, severity: c.severity, path: c.path },
      ]);
      const f = r.findings[0];
      expect(f?.message.length).toBeGreaterThan(10);
      expect(f?.message).not.toContain('\n');
      expect(f?.fix.length).toBeGreaterThan(5);
    });
  }

  it('every rule in LINT_RULES that lint can find offline has a case', () => {
    const network = new Set(['TOPOLOGY_UNRESOLVED', 'TOPOLOGY_RESOLVE_FAILED', 'TOPOLOGY_UNREACHABLE']);
    const covered = new Set(cases.map((c) => c.code));
    const missing = LINT_RULES.map((r) => r.code).filter((c) => !covered.has(c) && !network.has(c));
    expect(missing).toEqual([]);
  });

  it('a file with several problems reports them all, errors first', () => {
    const doc = relay((d) => {
      d.localRoots[0].hotValency = 3;
      d.publicRoots[0].accessPoints.push({ address: '10.1.1.1', port: 3001 });
      d.bootstrapPeers.push({ address: '0.0.0.0', port: 3001 });
    });
    const r = lintTopology(parseTopology(doc, 'x'));
    expect(r.findings.map((f) => f.code)).toEqual([
      'TOPOLOGY_UNSPECIFIED_ADDRESS',
      'TOPOLOGY_HOTVALENCY',
      'TOPOLOGY_PUBLIC_ROOT_PRIVATE',
    ]);
    expect(r.counts).toEqual({ error: 2, warning: 1, info: 0 });
  });

  it('parseTopology throws only for what is not a topology', () => {
    expect(() => parseTopology([], 'x.json')).toThrow(/not a topology/);
    expect(() => parseTopology({ foo: 1 }, 'x.json')).toThrow(/not a topology/);
  });
});
