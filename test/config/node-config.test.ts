import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  DEFAULT_DEADLINE_TARGETS,
  DEFAULT_SYNC_TARGETS,
  defaultNodeSettings,
  loadNodeConfig,
  NODE_CONFIG_KEYS,
  type NodeConfig,
  nodeConfigFromDocument,
  parseNodeConfigText,
  readNetworkMagic,
  SYNC_TARGET_KEYS,
  saneTargets,
  TARGET_KEYS,
  toNodeConfigKeys,
} from '../../src/config/index.js';
import {
  BLOCK_PRODUCER_DEFAULT_TARGETS,
  saneTargets as governorSaneTargets,
  RELAY_DEFAULT_TARGETS,
  SYNC_DEFAULT_TARGETS,
} from '../../src/governor/types.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const GUILD = join(FIXTURES, 'governor', 'guild-mainnet-config.json');
const PREPROD = join(FIXTURES, 'config', 'playground-preprod-config.json');
const YAML_RELAY = join(FIXTURES, 'config', 'relay-config.yaml');

const fromDoc = (doc: Record<string, unknown>, role?: 'relay' | 'producer'): NodeConfig =>
  nodeConfigFromDocument(doc, 'c.json', { role });
const errorOf = (
  f: () => unknown,
): { code: string; message: string; hint?: string; details: Record<string, unknown> } => {
  try {
    f();
  } catch (error) {
    return error as { code: string; message: string; hint?: string; details: Record<string, unknown> };
  }
  throw new Error('expected an error');
};

describe('node configuration: real files', () => {
  it('Guild mainnet (JSON): explicit targets, Genesis sync targets, PeerSharing off, absolute genesis paths', async () => {
    const c = await loadNodeConfig(GUILD);
    expect(c.targets).toEqual({
      root: 60,
      known: 100,
      established: 40,
      active: 20,
      knownBigLedger: 15,
      establishedBigLedger: 10,
      activeBigLedger: 5,
    });
    expect(c.syncTargets).toEqual({
      ...DEFAULT_SYNC_TARGETS,
      active: 0,
      activeBigLedger: 30,
      establishedBigLedger: 50,
      knownBigLedger: 100,
    });
    expect(c.peerSharing).toBe(false);
    expect(c.consensusMode).toBe('praos');
    expect(c.enableP2P).toBe(true);
    expect(c.minBigLedgerPeersForTrustedState).toBe(5);
    expect(c.requiresNetworkMagic).toBe('RequiresNoMagic');
    expect(c.genesis.shelley).toBe('/opt/cardano/cnode/files/shelley-genesis.json');
    expect(c.given.has('TargetNumberOfRootPeers')).toBe(true);
    expect(c.given.has('AcceptedConnectionsLimit')).toBe(false);
    // what the file does not say is the node's default
    expect(c.acceptedConnectionsLimit).toEqual({ hardLimit: 512, softLimit: 384, delayMs: 5000 });
    expect(c.protocolIdleTimeoutMs).toBe(5000);
    expect(c.timeWaitTimeoutMs).toBe(60_000);
    expect(c.chainSyncIdleTimeoutMs).toBe(3_373_000);
    expect(c.diffusionMode).toBe('InitiatorAndResponder');
  });

  it('Playground preprod (JSON): GenesisMode, defaults for every target, genesis next to the file', async () => {
    const c = await loadNodeConfig(PREPROD);
    expect(c.consensusMode).toBe('genesis');
    expect(c.peerSharing).toBe(true);
    expect(c.targets).toEqual(DEFAULT_DEADLINE_TARGETS.relay);
    expect(c.syncTargets).toEqual(DEFAULT_SYNC_TARGETS);
    expect(c.genesis.shelley).toBe(join(FIXTURES, 'config', 'shelley-genesis.json'));
    expect(c.requiresNetworkMagic).toBe('RequiresMagic');
  });

  it('a relay configuration in YAML: nested AcceptedConnectionsLimit, YAML 1.1 boolean, seconds to milliseconds', async () => {
    const c = await loadNodeConfig(YAML_RELAY);
    expect(c.targets).toEqual({ ...DEFAULT_DEADLINE_TARGETS.relay, root: 40, known: 120, established: 25, active: 15 });
    expect(c.syncTargets).toEqual({ ...DEFAULT_SYNC_TARGETS, active: 4, established: 8 });
    expect(c.peerSharing).toBe(true);
    expect(c.consensusMode).toBe('genesis');
    expect(c.acceptedConnectionsLimit).toEqual({ hardLimit: 256, softLimit: 200, delayMs: 2000 });
    expect(c.protocolIdleTimeoutMs).toBe(7000);
    expect(c.timeWaitTimeoutMs).toBe(30_500);
    expect(c.chainSyncIdleTimeoutMs).toBe(600_000);
    expect(c.minBigLedgerPeersForTrustedState).toBe(6);
    expect(c.genesis.byron).toBe(join(FIXTURES, 'config', 'byron-genesis.json'));
    expect(c.genesis.conway).toBe('/etc/cardano/conway-genesis.json');
  });

  it('standard input: the same settings as the file', async () => {
    const text = readFileSync(YAML_RELAY, 'utf8');
    const c = await loadNodeConfig('-', { stdin: Readable.from([text]) });
    const f = await loadNodeConfig(YAML_RELAY);
    expect(c.targets).toEqual(f.targets);
    expect(c.acceptedConnectionsLimit).toEqual(f.acceptedConnectionsLimit);
    expect(c.file).toBe('-');
  });
});

describe('node configuration: defaults in one place', () => {
  it('an empty configuration is the defaults of the role; PeerSharing on for a relay, off for a producer', () => {
    const relay = fromDoc({});
    const producer = fromDoc({}, 'producer');
    expect(relay.targets).toEqual({ ...RELAY_DEFAULT_TARGETS });
    expect(producer.targets).toEqual({ ...BLOCK_PRODUCER_DEFAULT_TARGETS });
    expect(relay.peerSharing).toBe(true);
    expect(producer.peerSharing).toBe(false);
    expect(relay.given.size).toBe(0);
    expect(relay).toMatchObject(defaultNodeSettings('relay'));
    expect(producer).toMatchObject(defaultNodeSettings('producer'));
  });

  it("the governor's default target sets are the node's (the governor may not import src/config)", () => {
    expect(DEFAULT_DEADLINE_TARGETS.relay).toEqual(RELAY_DEFAULT_TARGETS);
    expect(DEFAULT_DEADLINE_TARGETS.producer).toEqual(BLOCK_PRODUCER_DEFAULT_TARGETS);
    expect(DEFAULT_SYNC_TARGETS).toEqual(SYNC_DEFAULT_TARGETS);
  });

  it("property: the sanity rule is the governor's", () => {
    const n = fc.integer({ min: -2, max: 12_000 });
    const targets = fc.record({
      root: n,
      known: n,
      established: n,
      active: n,
      knownBigLedger: n,
      establishedBigLedger: n,
      activeBigLedger: n,
    });
    fc.assert(
      fc.property(targets, (t) => {
        expect(saneTargets(t)).toBe(governorSaneTargets(t));
      }),
      { seed: 11, numRuns: 3000 },
    );
  });

  it('null is the same as absent (the default), as the node reads optional keys', () => {
    const c = fromDoc({ PeerSharing: null, TargetNumberOfActivePeers: null, AcceptedConnectionsLimit: null });
    expect(c.peerSharing).toBe(true);
    expect(c.targets.active).toBe(20);
    expect(c.given.size).toBe(0);
  });

  it('writes the keys of settings in the node spelling and a stable order', () => {
    const keys = toNodeConfigKeys({ peerSharing: false, targets: DEFAULT_DEADLINE_TARGETS.producer });
    expect(Object.keys(keys)).toEqual(['PeerSharing', ...Object.values(TARGET_KEYS)]);
    expect(fromDoc(keys, 'producer').targets).toEqual(DEFAULT_DEADLINE_TARGETS.producer);
    expect(NODE_CONFIG_KEYS).toContain('SyncTargetNumberOfRootPeers');
  });
});

describe('node configuration: JSON and YAML read alike (property)', () => {
  it('the same keys written as JSON and as YAML give the same settings', () => {
    const count = fc.integer({ min: 0, max: 50 });
    const doc = fc.record(
      {
        TargetNumberOfRootPeers: count,
        TargetNumberOfKnownPeers: fc.integer({ min: 150, max: 500 }),
        TargetNumberOfEstablishedPeers: fc.integer({ min: 30, max: 150 }),
        TargetNumberOfActivePeers: fc.integer({ min: 0, max: 30 }),
        SyncTargetNumberOfActivePeers: fc.integer({ min: 0, max: 10 }),
        PeerSharing: fc.boolean(),
        ConsensusMode: fc.constantFrom('PraosMode', 'GenesisMode'),
        DiffusionMode: fc.constantFrom('InitiatorOnly', 'InitiatorAndResponder'),
        ProtocolIdleTimeout: fc.double({ min: 0, max: 100, noNaN: true }),
        AcceptedConnectionsLimit: fc.record({ hardLimit: count, softLimit: count, delay: count }),
        EnableP2P: fc.boolean(),
        Unrelated: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(doc, (d) => {
        const json = nodeConfigFromDocument(parseNodeConfigText(JSON.stringify(d), 'c.json'), 'c.json');
        const yaml = nodeConfigFromDocument(parseNodeConfigText(stringify(d, { version: '1.1' }), 'c.yaml'), 'c.json');
        const { document: _a, ...a } = json;
        const { document: _b, ...b } = yaml;
        expect(b).toEqual(a);
      }),
      { seed: 3, numRuns: 300 },
    );
  });
});

describe('node configuration: errors name the file, the key and what to do', () => {
  it.each([
    [{ PeerSharing: 'on' }, 'PeerSharing', 'true or false'],
    [{ ConsensusMode: 'Genesis' }, 'ConsensusMode', '"PraosMode" or "GenesisMode"'],
    [{ DiffusionMode: 'Responder' }, 'DiffusionMode', 'InitiatorOnly'],
    [{ ProtocolIdleTimeout: '5s' }, 'ProtocolIdleTimeout', 'a number of seconds'],
    [{ TimeWaitTimeout: -1 }, 'TimeWaitTimeout', 'a number of seconds'],
    [{ EnableP2P: 'true' }, 'EnableP2P', 'true or false'],
    [{ MinBigLedgerPeersForTrustedState: 2.5 }, 'MinBigLedgerPeersForTrustedState', 'a non-negative integer'],
    [{ AcceptedConnectionsLimit: 512 }, 'AcceptedConnectionsLimit', 'not an object'],
    [{ AcceptedConnectionsLimit: { hardLimit: 512, softLimit: 384 } }, 'AcceptedConnectionsLimit', 'no "delay"'],
    [{ ShelleyGenesisFile: 7 }, 'ShelleyGenesisFile', 'not a file path'],
  ])('%j -> CONFIG_VALUE naming %s', (doc, key, what) => {
    const e = errorOf(() => fromDoc(doc));
    expect(e.code).toBe('CONFIG_VALUE');
    expect(e.message).toMatch(new RegExp(`^c\\.json: ${key}: `));
    expect(e.message).toContain(what);
    expect(e.hint).toBeTruthy();
    expect(e.details).toMatchObject({ file: 'c.json', key });
  });

  it('a target that is not a non-negative integer: CONFIG_TARGETS listing every such key', () => {
    const e = errorOf(() => fromDoc({ TargetNumberOfActivePeers: '20', SyncTargetNumberOfKnownPeers: 1.5 }));
    expect(e.code).toBe('CONFIG_TARGETS');
    expect(e.message).toContain('TargetNumberOfActivePeers');
    const s = errorOf(() => fromDoc({ SyncTargetNumberOfKnownPeers: -1 }));
    expect(s.message).toContain('SyncTargetNumberOfKnownPeers');
  });

  it('targets the node refuses: CONFIG_TARGETS naming both keys and which one is a default', () => {
    const e = errorOf(() => fromDoc({ TargetNumberOfKnownPeers: 10 }));
    expect(e.code).toBe('CONFIG_TARGETS');
    expect(e.message).toBe(
      'c.json: TargetNumberOfEstablishedPeers 30 (the relay default) is above TargetNumberOfKnownPeers 10: the node refuses these targets',
    );
    const big = errorOf(() =>
      fromDoc({ TargetNumberOfActivePeers: 101, TargetNumberOfEstablishedPeers: 200, TargetNumberOfKnownPeers: 300 }),
    );
    expect(big.message).toContain('TargetNumberOfActivePeers 101 is above 100');
    const sync = errorOf(() => fromDoc({ [SYNC_TARGET_KEYS.activeBigLedger]: 60 }));
    expect(sync.message).toContain(
      'SyncTargetNumberOfActiveBigLedgerPeers 60 is above SyncTargetNumberOfEstablishedBigLedgerPeers 40',
    );
  });

  it('invalid YAML: INVALID_YAML with the line; invalid JSON: INVALID_JSON; not a mapping: CONFIG_FORMAT', () => {
    const y = errorOf(() => parseNodeConfigText('PeerSharing: true\n  bad: [indent\n', 'c.yaml'));
    expect(y.code).toBe('INVALID_YAML');
    expect(y.message).toMatch(/^c\.yaml: invalid YAML at line \d+, column \d+: /);
    expect(errorOf(() => parseNodeConfigText('{"PeerSharing": tru}', 'c.json')).code).toBe('INVALID_JSON');
    for (const text of ['- a\n- b\n', 'just text\n', '', '42'])
      expect(errorOf(() => parseNodeConfigText(text, 'c.yaml')).code).toBe('CONFIG_FORMAT');
  });

  it('unknown keys are kept, never refused (a topology passed by mistake reads as all defaults)', () => {
    const topo = readFileSync(join(FIXTURES, 'governor', 'guild-mainnet-topology.json'), 'utf8');
    const c = nodeConfigFromDocument(parseNodeConfigText(topo, 't.json'), 't.json');
    expect(c.given.size).toBe(0);
    expect(c.targets).toEqual(DEFAULT_DEADLINE_TARGETS.relay);
    expect(Object.keys(c.document)).toContain('localRoots');
  });
});

describe('network magic from the Shelley genesis', () => {
  it('reads networkMagic from the genesis file named relative to the configuration', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spo-config-'));
    writeFileSync(join(dir, 'config.yaml'), 'ShelleyGenesisFile: shelley.json\n');
    writeFileSync(join(dir, 'shelley.json'), JSON.stringify({ networkMagic: 1, systemStart: '2022-06-01T00:00:00Z' }));
    const c = await loadNodeConfig(join(dir, 'config.yaml'));
    expect(await readNetworkMagic(c)).toBe(1);
    expect(await readNetworkMagic(fromDoc({}))).toBeUndefined();
    writeFileSync(join(dir, 'shelley.json'), '{}');
    await expect(readNetworkMagic(c)).rejects.toMatchObject({ code: 'CONFIG_VALUE' });
    const missing = await loadNodeConfig(PREPROD); // its genesis files are not in the fixtures
    await expect(readNetworkMagic(missing)).rejects.toMatchObject({
      code: 'CONFIG_VALUE',
      details: { key: 'ShelleyGenesisFile' },
    });
  });

  it('reads the genesis file as every input is: a path to an endless device ends with INPUT_TOO_LARGE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spo-config-'));
    writeFileSync(join(dir, 'config.yaml'), 'ShelleyGenesisFile: /dev/zero\n');
    const c = await loadNodeConfig(join(dir, 'config.yaml'));
    await expect(readNetworkMagic(c)).rejects.toMatchObject({ code: 'INPUT_TOO_LARGE' });
    const aborted = AbortSignal.abort();
    await expect(readNetworkMagic(c, aborted)).rejects.toBeDefined();
  });
});
