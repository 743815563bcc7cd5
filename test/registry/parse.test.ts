import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyAddress } from '../../src/lib/address.js';
import { SpoError } from '../../src/lib/errors.js';
import { selectNetwork } from '../../src/lib/networks.js';
import { normalisePoolId, poolIdHex } from '../../src/registry/cardano-cli.js';
import { exportRegistry, toCsv } from '../../src/registry/export.js';
import { FieldPath } from '../../src/registry/fields.js';
import { applyHygiene, maybeSpecial } from '../../src/registry/hygiene.js';
import { finishRegistry, loadRegistry, parseRegistryDocument } from '../../src/registry/index.js';
import type { Registry } from '../../src/registry/model.js';
import { bigLedgerCut } from '../../src/registry/stake.js';

const FIX = new URL('../fixtures/registry/', import.meta.url);
const fixture = (name: string): string => new URL(name, FIX).pathname;
const mainnet = selectNetwork('mainnet', undefined);
const preview = selectNetwork('preview', undefined);

function kinds(reg: Registry): Record<string, number> {
  const c: Record<string, number> = {};
  for (const p of reg.pools) for (const r of p.relays) c[r.kind] = (c[r.kind] ?? 0) + 1;
  return c;
}
function codes(reg: Registry): Record<string, number> {
  const c: Record<string, number> = {};
  for (const f of reg.findings) c[f.code] = (c[f.code] ?? 0) + 1;
  return c;
}

/** Parses a document and returns the error it throws (or fails). */
function parseError(doc: unknown, file = 'bad.json'): SpoError {
  try {
    parseRegistryDocument(doc, file);
  } catch (error) {
    expect(error).toBeInstanceOf(SpoError);
    return error as SpoError;
  }
  throw new Error('expected a parse error');
}

describe('peer snapshots (real files)', () => {
  it('reads the embedded mainnet NodeToClientVersion 23 snapshot: 470 pools, 1,020 relays', async () => {
    const reg = await loadRegistry({ source: 'embedded', network: mainnet });
    expect(reg.source).toBe('embedded:mainnet');
    expect(reg.format).toBe('snapshot-n2c');
    expect(reg.scope).toBe('big');
    expect(reg.slot).toBe(185831188);
    expect(reg.networkMagic).toBe(764824073);
    expect(reg.blockHash).toMatch(/^[0-9a-f]{64}$/);
    expect(reg.pools).toHaveLength(470);
    // 1,020 registered; 3 exact duplicates inside a pool are kept once and reported
    const k = kinds(reg);
    expect(k).toEqual({ dns: 679, ipv4: 317, ipv6: 3, srv: 18 });
    const c = codes(reg);
    expect(c['duplicate-relay']).toBe(3);
    expect(c['shared-endpoint']).toBe(121);
    expect(c['lower-cased']).toBeGreaterThan(0);
    expect(reg.findings.some((f) => f.code === 'network-mismatch')).toBe(false);
    // ids are positions; stake is relative and sums to the last accumulatedStake
    expect(reg.pools[0]?.id).toBe('#1');
    const total = reg.pools.reduce((s, p) => s + (p.stake ?? 0), 0);
    expect(total).toBeCloseTo(0.9005, 3);
    // names are lower-cased, SRV relays have no port
    for (const p of reg.pools)
      for (const r of p.relays) {
        if (r.kind === 'dns' || r.kind === 'srv') expect(r.host).toBe(r.host.toLowerCase());
        if (r.kind === 'srv') expect(r.port).toBeUndefined();
        else expect(r.port).toBeGreaterThan(0);
      }
  });

  it('reads v1 files with `domain` keys, including IP literals under `domain`', async () => {
    const reg = await loadRegistry({ source: fixture('mainnet-peer-snapshot.v1.json'), network: mainnet });
    expect(reg.format).toBe('snapshot-v1');
    expect(reg.slot).toBe(177899416);
    expect(reg.pools).toHaveLength(452);
    expect(kinds(reg).srv).toBeUndefined();
    const prev = await loadRegistry({ source: fixture('preview-peer-snapshot.v1.json'), network: preview });
    const flagged = prev.pools.flatMap((p) =>
      p.relays.filter((r) => r.flags.length > 0 && !r.flags.includes('shared-endpoint')),
    );
    const hosts = flagged.map((r) => `${r.host} ${r.kind} ${r.flags.join(',')}`).sort();
    expect(hosts).toEqual([
      '0.0.0.0 ipv4 unspecified',
      '100.100.100.100 ipv4 shared-address-space',
      '172.30.100.10 ipv4 private',
      '172.30.100.12 ipv4 private',
    ]);
    const pre = await loadRegistry({
      source: fixture('preprod-peer-snapshot.v1.json'),
      network: selectNetwork('preprod', undefined),
    });
    expect(pre.pools).toHaveLength(60);
  });

  it('reads v2 files, where an address without a port is an SRV name', async () => {
    const reg = await loadRegistry({ source: fixture('preview-peer-snapshot.v2.json'), network: preview });
    expect(reg.format).toBe('snapshot-v2');
    expect(reg.pools).toHaveLength(135);
    const srv = reg.pools.flatMap((p) => p.relays.filter((r) => r.kind === 'srv'));
    expect(srv).toEqual([{ kind: 'srv', host: 'cardano.illusion.hu', flags: [] }]);
    const pre = await loadRegistry({
      source: fixture('preprod-peer-snapshot.v2.json'),
      network: selectNetwork('preprod', undefined),
    });
    expect(pre.pools).toHaveLength(61);
  });

  it('reads allLedgerPools (no accumulatedStake) and reports a network mismatch', async () => {
    const doc = {
      NetworkMagic: 1,
      NodeToClientVersion: 23,
      Point: 'origin',
      allLedgerPools: [{ relativeStake: 0.5, relays: [{ address: 'a.example.com', port: 3001 }] }],
    };
    const reg = finishRegistry(parseRegistryDocument(doc, 'all.json'), 'all.json', mainnet);
    expect(reg.scope).toBe('all');
    expect(reg.pools[0]?.relays[0]).toEqual({ kind: 'dns', host: 'a.example.com', port: 3001, flags: [] });
  });

  it('the embedded preview and preprod snapshots load; sanchonet has none', async () => {
    expect((await loadRegistry({ source: 'embedded', network: preview })).pools).toHaveLength(135);
    await expect(
      loadRegistry({ source: 'embedded', network: selectNetwork('sanchonet', undefined) }),
    ).rejects.toMatchObject({
      code: 'EMBEDDED_UNAVAILABLE',
    });
  });
});

describe('cardano-cli JSON (hand-made samples)', () => {
  it('reads pool-state in the StakePoolState spelling, hex ids to bech32, both IP families, retiring', async () => {
    const reg = await loadRegistry({ source: fixture('cardano-cli-pool-state.json'), network: mainnet });
    expect(reg.format).toBe('cardano-cli-pool-state');
    expect(reg.pools).toHaveLength(2); // the unregistered pool (poolParams null) is left out
    const [a, b] = reg.pools;
    expect(a?.id).toMatch(/^pool1/);
    expect(poolIdHex(a?.id ?? '')).toBe('0f292fcaa02b8b2f9b3c8f9fd8e0bb21abedb692a6d5058df3ef2735');
    expect(a?.relays.map((r) => `${r.kind} ${r.host} ${r.port ?? '-'}`)).toEqual([
      'dns relay1.pool-a.example.com 3001',
      'ipv4 203.0.113.10 3001',
      'ipv6 2a01:4f8:c17:1a2b::1 3001',
      'srv pool-a.example.com -',
    ]);
    expect(a?.relays[0]?.flags).toEqual(['lower-cased', 'shared-endpoint']);
    expect(a?.relays[1]?.flags).toEqual(['documentation']);
    expect(b?.status).toBe('retiring');
    expect(b?.relays[0]?.flags).toEqual(['private']);
    expect(codes(reg)['shared-endpoint']).toBe(1);
    expect(a?.stake).toBeUndefined();
  });

  it('reads the older pool-params spelling; a missing port becomes 3001 and is flagged', async () => {
    const reg = await loadRegistry({ source: fixture('cardano-cli-pool-params.legacy.json'), network: mainnet });
    expect(reg.pools).toHaveLength(1);
    expect(reg.pools[0]?.relays[1]).toEqual({
      kind: 'ipv4',
      host: '198.51.100.7',
      port: 3001,
      flags: ['default-port', 'documentation'],
    });
  });

  it('reads the oldest single-pool pool-params form (not keyed by id; the id is publicKey)', () => {
    const doc = JSON.parse(readFileSync(fixture('cardano-cli-pool-params.legacy.json'), 'utf8'));
    const single = Object.values(doc)[0];
    const reg = finishRegistry(parseRegistryDocument(single, 'one.json'), 'one.json');
    expect(reg.pools).toHaveLength(1);
    expect(poolIdHex(reg.pools[0]?.id ?? '')).toBe('0f292fcaa02b8b2f9b3c8f9fd8e0bb21abedb692a6d5058df3ef2735');
    expect(reg.pools[0]?.relays).toHaveLength(2);
  });

  it('adds stake weights from query stake-snapshot (the set snapshot over its total)', async () => {
    const reg = await loadRegistry({
      source: fixture('cardano-cli-pool-state.json'),
      stakeSnapshot: fixture('cardano-cli-stake-snapshot.json'),
      network: mainnet,
    });
    expect(reg.pools[0]?.stake).toBeCloseTo(64300000000000 / 21400000000000000, 12);
    expect(reg.pools[1]?.stake).toBeCloseTo(2140000000000 / 21400000000000000, 12);
  });

  it('reads pool-state from standard input', async () => {
    const { Readable } = await import('node:stream');
    const text = readFileSync(fixture('cardano-cli-pool-state.json'), 'utf8');
    const reg = await loadRegistry({ source: '-', network: mainnet, stdin: Readable.from([text]) });
    expect(reg.source).toBe('-');
    expect(reg.pools).toHaveLength(2);
  });

  it('a stake snapshot alone is not a relay source', () => {
    const doc = JSON.parse(readFileSync(fixture('cardano-cli-stake-snapshot.json'), 'utf8'));
    expect(parseError(doc).code).toBe('REGISTRY_NO_RELAYS');
  });

  it('pool ids: hex and bech32 round-trip; junk is refused', () => {
    const hex = '153806dbcd134ddee69a8c5204e38ac80448f62342f8c23cfe4b7edf';
    const b = normalisePoolId(hex, new FieldPath('f', 'k'));
    expect(poolIdHex(b)).toBe(hex);
    expect(normalisePoolId(b, new FieldPath('f', 'k'))).toBe(b);
    expect(() => normalisePoolId('pool-x', new FieldPath('f', 'k'))).toThrow(/f: k: expected a pool id/);
  });
});

describe('bad input: one line naming the file and the field', () => {
  const cases: Array<[string, unknown, string, RegExp]> = [
    [
      'unknown version',
      { version: 7, slotNo: 1, bigLedgerPools: [] },
      'SNAPSHOT_VERSION',
      /^bad\.json: unknown peer snapshot version \(version 7\)$/,
    ],
    [
      'unknown N2C version',
      { NodeToClientVersion: 22, bigLedgerPools: [] },
      'SNAPSHOT_VERSION',
      /NodeToClientVersion 22/,
    ],
    [
      'N2C form without NetworkMagic',
      { NodeToClientVersion: 23, Point: 'origin', bigLedgerPools: [] },
      'REGISTRY_FIELD',
      /^bad\.json: NetworkMagic: required field is missing$/,
    ],
    ['no version marker', { bigLedgerPools: [] }, 'SNAPSHOT_VERSION', /no version marker/],
    ['not a registry', { hello: 'world' }, 'REGISTRY_FORMAT', /^bad\.json: not a registry file/],
    ['an array', [1, 2], 'REGISTRY_FORMAT', /not a registry file/],
    [
      'wrong field type',
      { version: 2, slotNo: 1, bigLedgerPools: [{ accumulatedStake: 0.1, relativeStake: '0.1', relays: [] }] },
      'REGISTRY_FIELD',
      /^bad\.json: bigLedgerPools\[0\]\.relativeStake: expected a number, got "0\.1"$/,
    ],
    [
      'port as a string',
      {
        version: 2,
        slotNo: 1,
        bigLedgerPools: [{ accumulatedStake: 0.1, relativeStake: 0.1, relays: [{ address: 'a.b', port: '3001' }] }],
      },
      'REGISTRY_FIELD',
      /bigLedgerPools\[0\]\.relays\[0\]\.port: expected an integer 0-65535, got "3001"/,
    ],
    [
      'negative port',
      {
        version: 2,
        slotNo: 1,
        bigLedgerPools: [{ accumulatedStake: 0.1, relativeStake: 0.1, relays: [{ address: 'a.b', port: -1 }] }],
      },
      'REGISTRY_FIELD',
      /relays\[0\]\.port: expected an integer 0-65535, got -1/,
    ],
    [
      'port too large',
      {
        version: 2,
        slotNo: 1,
        bigLedgerPools: [{ accumulatedStake: 0.1, relativeStake: 0.1, relays: [{ address: 'a.b', port: 70000 }] }],
      },
      'REGISTRY_FIELD',
      /port: expected an integer 0-65535, got 70000/,
    ],
    [
      'huge string',
      {
        version: 2,
        slotNo: 1,
        bigLedgerPools: [
          { accumulatedStake: 0.1, relativeStake: 0.1, relays: [{ address: 'a'.repeat(100_000), port: 1 }] },
        ],
      },
      'REGISTRY_FIELD',
      /relays\[0\]\.address: expected a string of at most 255 characters, got a string of 100000 characters/,
    ],
    [
      'nested garbage',
      {
        version: 2,
        slotNo: 1,
        bigLedgerPools: [{ accumulatedStake: 0.1, relativeStake: 0.1, relays: [{ address: { a: [[{}]] }, port: 1 }] }],
      },
      'REGISTRY_FIELD',
      /relays\[0\]\.address: expected a string, got an object/,
    ],
    [
      'relay not an object',
      { version: 2, slotNo: 1, bigLedgerPools: [{ accumulatedStake: 0.1, relativeStake: 0.1, relays: [[['x']]] }] },
      'REGISTRY_FIELD',
      /relays\[0\]: expected an object, got an array/,
    ],
    [
      'missing relays',
      { version: 1, slotNo: 1, bigLedgerPools: [{ accumulatedStake: 0.1, relativeStake: 0.1 }] },
      'REGISTRY_FIELD',
      /bigLedgerPools\[0\]\.relays: required field is missing/,
    ],
    [
      'stake above 1',
      { version: 2, slotNo: 1, bigLedgerPools: [{ accumulatedStake: 7, relativeStake: 0.1, relays: [] }] },
      'REGISTRY_FIELD',
      /accumulatedStake: expected a number between 0 and 1, got 7/,
    ],
    [
      'capitalised Origin (the node writes "origin")',
      { NodeToClientVersion: 23, NetworkMagic: 2, Point: 'Origin', bigLedgerPools: [] },
      'REGISTRY_FIELD',
      /^bad\.json: Point: expected an object \{blockPointHash, blockPointSlot\} or "origin", got "Origin"$/,
    ],
    [
      'v2 without slotNo',
      { version: 2, bigLedgerPools: [] },
      'REGISTRY_FIELD',
      /^bad\.json: slotNo: required field is missing$/,
    ],
    [
      'bad point hash',
      {
        NodeToClientVersion: 23,
        NetworkMagic: 2,
        Point: { blockPointHash: 'zz', blockPointSlot: 1 },
        bigLedgerPools: [],
      },
      'REGISTRY_FIELD',
      /Point\.blockPointHash: expected a 64-digit hex hash/,
    ],
    [
      'pool-state with an unknown relay shape',
      {
        '0f292fcaa02b8b2f9b3c8f9fd8e0bb21abedb692a6d5058df3ef2735': { poolParams: { relays: [{ 'weird host': {} }] } },
      },
      'REGISTRY_FIELD',
      /relays\[0\]: expected one of "single host address"/,
    ],
    [
      'pool-state with a bad IPv4',
      {
        '0f292fcaa02b8b2f9b3c8f9fd8e0bb21abedb692a6d5058df3ef2735': {
          poolParams: { spsRelays: [{ 'single host address': { IPv4: 'relay.example.com', port: 1 } }] },
        },
      },
      'REGISTRY_FIELD',
      /spsRelays\[0\]\.single host address\.IPv4: expected an IPv4 address/,
    ],
  ];
  for (const [what, doc, code, message] of cases) {
    it(what, () => {
      const e = parseError(doc);
      expect(e.code).toBe(code);
      expect(e.message).toMatch(message);
      expect(e.message).not.toContain('\n');
      expect(e.message.length).toBeLessThan(300);
      expect(e.exitCode).toBe(1);
    });
  }

  it('a missing file and invalid JSON name the file', async () => {
    await expect(loadRegistry({ source: '/nonexistent/snap.json', network: mainnet })).rejects.toMatchObject({
      code: 'FILE_NOT_FOUND',
      message: '/nonexistent/snap.json: no such file',
    });
    const { Readable } = await import('node:stream');
    await expect(
      loadRegistry({ source: '-', network: mainnet, stdin: Readable.from(['{"version": 2,']) }),
    ).rejects.toMatchObject({
      code: 'INVALID_JSON',
      message: expect.stringMatching(/^\(stdin\): invalid JSON: /),
    });
  });

  it('property: any relay entry either parses or fails with a SpoError naming the field (never a crash)', () => {
    const relay = fc.oneof(
      fc.record(
        {
          address: fc.oneof(fc.string({ maxLength: 300 }), fc.ipV4(), fc.ipV6(), fc.domain(), fc.anything()),
          port: fc.oneof(fc.integer({ min: -5, max: 70_000 }), fc.anything()),
        },
        { requiredKeys: [] },
      ),
      fc.anything(),
    );
    fc.assert(
      fc.property(fc.array(relay, { maxLength: 4 }), (relays) => {
        const doc = { version: 2, slotNo: 1, bigLedgerPools: [{ accumulatedStake: 0.5, relativeStake: 0.5, relays }] };
        try {
          const reg = finishRegistry(parseRegistryDocument(doc, 'p.json'), 'p.json');
          for (const r of reg.pools[0]?.relays ?? []) {
            expect(['ipv4', 'ipv6', 'dns', 'srv']).toContain(r.kind);
            expect(r.host.length).toBeLessThanOrEqual(255);
          }
        } catch (error) {
          expect(error).toBeInstanceOf(SpoError);
          expect((error as SpoError).message).toMatch(/^p\.json: bigLedgerPools\[0\]\.relays/);
        }
      }),
      { seed: 42, numRuns: 400 },
    );
  });
});

describe('the fast path for snapshot relays', () => {
  it('property: fastRelay gives what the validating parser gives, or defers to it', async () => {
    const { fastRelay, parseRelay } = await import('../../src/registry/snapshot.js');
    const value = fc.oneof(
      fc.constant(undefined),
      fc.constant(null),
      fc.ipV4(),
      fc.ipV6(),
      fc.domain(),
      fc.string({ maxLength: 260 }),
      fc.integer({ min: -2, max: 65537 }),
      fc.double(),
      fc.anything(),
    );
    // Well-formed entries too, or the comparison would rarely meet the fast path at all.
    const wellFormed = fc.record(
      { address: fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain()), port: fc.integer({ min: 0, max: 65535 }) },
      { requiredKeys: ['address'] },
    );
    const entry = fc.oneof(
      fc.record({ address: value, port: value, domain: value }, { requiredKeys: [] }),
      wellFormed,
      fc.anything(),
    );
    let taken = 0;
    fc.assert(
      fc.property(entry, fc.boolean(), (v, v1) => {
        const fast = fastRelay(v, v1);
        if (fast === undefined) return;
        taken++;
        expect(parseRelay(v, new FieldPath('f', 'r'), v1)).toEqual(fast);
      }),
      { seed: 5, numRuns: 2000 },
    );
    // The comparison above ran: the fast path answered for a good share of the entries.
    expect(taken).toBeGreaterThan(400);
  });

  it('every relay of a real snapshot takes the fast path; an entry it cannot vouch for takes the checked one', async () => {
    const { parseSnapshot, relayPaths } = await import('../../src/registry/snapshot.js');
    const file = new URL('../fixtures/registry/mainnet-peer-snapshot.v23.json', import.meta.url);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    const before = { ...relayPaths };
    const parsed = parseSnapshot(doc, 'mainnet-peer-snapshot.v23.json');
    const relays = parsed.pools.reduce((n, p) => n + p.relays.length, 0);
    expect(relays).toBeGreaterThan(1000);
    expect(relayPaths.fast - before.fast).toBe(relays);
    expect(relayPaths.checked - before.checked).toBe(0);
    // v1 names under "domain" are for the checked parser (it names the field when one is wrong)
    const v1 = {
      version: 1,
      slotNo: 1,
      bigLedgerPools: [
        {
          accumulatedStake: 1,
          relativeStake: 1,
          relays: [
            { domain: 'a.example', port: 3001 },
            { address: '1.2.3.4', port: 3001 },
          ],
        },
      ],
    };
    const mid = { ...relayPaths };
    parseSnapshot(v1, 'v1.json');
    expect(relayPaths.checked - mid.checked).toBe(1);
    expect(relayPaths.fast - mid.fast).toBe(1);
  });
});

describe('hostile API and cardano-cli relay objects', () => {
  it('property: ledger relays and Koios/Blockfrost relay rows parse or fail with a SpoError naming the field', async () => {
    const { parseLedgerRelay } = await import('../../src/registry/cardano-cli.js');
    const { koiosRelay } = await import('../../src/registry/koios.js');
    const { blockfrostRelay } = await import('../../src/registry/blockfrost.js');
    const value = fc.oneof(
      fc.constant(null),
      fc.string({ maxLength: 300 }),
      fc.ipV4(),
      fc.ipV6(),
      fc.integer({ min: -10, max: 70_000 }),
      fc.anything(),
    );
    const ledger = fc.oneof(
      fc.record({ 'single host address': fc.record({ IPv4: value, IPv6: value, port: value }, { requiredKeys: [] }) }),
      fc.record({ 'single host name': fc.record({ dnsName: value, port: value }, { requiredKeys: [] }) }),
      fc.record({ 'multi host name': fc.record({ dnsName: value }, { requiredKeys: [] }) }),
      fc.anything(),
    );
    const row = fc.oneof(
      fc.record(
        { dns: value, srv: value, dns_srv: value, ipv4: value, ipv6: value, port: value },
        { requiredKeys: [] },
      ),
      fc.anything(),
    );
    const check = (f: () => unknown): void => {
      try {
        const relays = f() as Array<{ kind: string; host: string; port?: number }>;
        for (const r of relays) {
          expect(typeof r.host).toBe('string');
          expect(r.host.length).toBeLessThanOrEqual(255);
          if (r.port !== undefined) expect(r.port >= 0 && r.port <= 65535).toBe(true);
        }
      } catch (error) {
        expect(error).toBeInstanceOf(SpoError);
        expect((error as SpoError).message).toMatch(/^f\.json: r(\.|:)/);
      }
    };
    fc.assert(
      fc.property(ledger, row, (l, k) => {
        const at = new FieldPath('f.json', 'r');
        check(() => parseLedgerRelay(l, at));
        check(() => koiosRelay(k, at));
        check(() => blockfrostRelay(k, at));
      }),
      { seed: 11, numRuns: 500 },
    );
  });
});

describe('hygiene', () => {
  it('flags every unusable class and keeps the relays (reported, not applied)', () => {
    const relays = [
      { kind: 'ipv4' as const, host: '0.0.0.0', port: 3001 },
      { kind: 'ipv6' as const, host: '::', port: 3001 },
      { kind: 'ipv4' as const, host: '127.0.0.1', port: 3001 },
      { kind: 'ipv6' as const, host: '::1', port: 3001 },
      { kind: 'ipv4' as const, host: '10.1.2.3', port: 3001 },
      { kind: 'ipv4' as const, host: '169.254.1.1', port: 3001 },
      { kind: 'ipv6' as const, host: 'fe80::1', port: 3001 },
      { kind: 'ipv4' as const, host: '8.8.8.8', port: 0 },
      { kind: 'dns' as const, host: 'bad..name', port: 3001 },
      { kind: 'dns' as const, host: 'Good.Example.COM', port: 3001 },
      { kind: 'dns' as const, host: 'good.example.com', port: 3001 },
      { kind: 'srv' as const, host: '_relays._tcp.pool.example.com' },
      { kind: 'srv' as const, host: '_cardano._tcp.pool.example.com' },
    ];
    const { pools, findings } = applyHygiene([{ id: 'p', status: 'registered', relays }]);
    const flags = pools[0]?.relays.map((r) => r.flags.join(','));
    expect(flags).toEqual([
      'unspecified',
      'unspecified',
      'loopback',
      'loopback',
      'private',
      'link-local',
      'link-local',
      'invalid-port',
      'malformed-name',
      'lower-cased',
      'srv-prefixed',
      '',
    ]);
    expect(pools[0]?.relays).toHaveLength(12); // Good.Example.COM and good.example.com are one relay
    expect(findings.filter((f) => f.code === 'duplicate-relay')).toHaveLength(1);
    expect(findings.filter((f) => f.severity === 'warning')).toHaveLength(10);
  });

  it('the fast pre-check never hides an address classifyAddress would flag', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.ipV4(),
          fc.ipV4Extended().filter((s) => /^\d+\.\d+\.\d+\.\d+$/.test(s)),
        ),
        (ip) => {
          if (classifyAddress(ip) !== undefined) expect(maybeSpecial('ipv4', ip)).toBe(true);
        },
      ),
      { seed: 7, numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        if (classifyAddress(ip) !== undefined) expect(maybeSpecial('ipv6', ip)).toBe(true);
      }),
      { seed: 7, numRuns: 3000 },
    );
  });
});

describe('stake and export', () => {
  it('bigLedgerCut keeps the pool that crosses 90%', () => {
    const pools = [0.5, 0.3, 0.15, 0.05].map((stake, i) => ({ id: String(i), stake }));
    expect(bigLedgerCut(pools).map((p) => p.id)).toEqual(['0', '1', '2']);
    expect(bigLedgerCut(pools, 0.8).map((p) => p.id)).toEqual(['0', '1']);
    expect(bigLedgerCut([{ stake: undefined }])).toEqual([]);
  });

  it('snapshot-v2 and snapshot-n2c exports read back to the same pools and relays', async () => {
    const reg = await loadRegistry({ source: 'embedded', network: mainnet });
    for (const format of ['snapshot-v2', 'snapshot-n2c'] as const) {
      const out = exportRegistry(reg, { format, scope: 'big', networkMagic: 764824073 });
      const back = finishRegistry(parseRegistryDocument(JSON.parse(out.text), 'x.json'), 'x.json');
      expect(back.format).toBe(format);
      expect(back.pools).toHaveLength(470);
      expect(back.slot).toBe(185831188);
      expect(back.pools.map((p) => p.relays.map((r) => `${r.kind}|${r.host}|${r.port}`))).toEqual(
        reg.pools.map((p) => p.relays.map((r) => `${r.kind}|${r.host}|${r.port}`)),
      );
      expect(out.findings).toEqual([]);
    }
  });

  it('snapshot exports leave unusable relays out and say so; json keeps them', async () => {
    const reg = await loadRegistry({ source: 'embedded', network: preview });
    const snap = exportRegistry(reg, { format: 'snapshot-v2', scope: 'all', networkMagic: 2 });
    expect(snap.findings.map((f) => f.code).sort()).toEqual(['pool-left-out', 'pool-left-out', 'unusable-dropped']);
    expect(snap.text).not.toContain('172.30.100.10');
    const kept = exportRegistry(reg, { format: 'snapshot-v2', scope: 'all', networkMagic: 2, keepUnusable: true });
    expect(kept.text).toContain('172.30.100.10');
    const json = JSON.parse(exportRegistry(reg, { format: 'json', scope: 'all', networkMagic: 2 }).text);
    const back = finishRegistry(parseRegistryDocument(json, 'spo.json'), 'spo.json');
    expect(back.pools).toHaveLength(135);
  });

  it('a source without a chain point exports "origin", as the node writes it, and reads back', async () => {
    const reg = await loadRegistry({
      source: fixture('cardano-cli-pool-state.json'),
      stakeSnapshot: fixture('cardano-cli-stake-snapshot.json'),
      network: mainnet,
    });
    for (const format of ['snapshot-v2', 'snapshot-n2c'] as const) {
      const out = exportRegistry(reg, { format, scope: 'all', networkMagic: 764824073 });
      expect(out.findings.map((f) => f.code)).toEqual(['unusable-dropped', 'no-point']);
      const doc = JSON.parse(out.text);
      expect(format === 'snapshot-v2' ? doc.slotNo : doc.Point).toBe('origin');
      const back = finishRegistry(parseRegistryDocument(doc, 'o.json'), 'o.json');
      expect(back.slot).toBeUndefined();
      expect(back.pools).toHaveLength(2);
    }
  });

  it('a source without stake cannot become a snapshot', async () => {
    const reg = await loadRegistry({ source: fixture('cardano-cli-pool-state.json'), network: mainnet });
    expect(() => exportRegistry(reg, { format: 'snapshot-v2', scope: 'all', networkMagic: 1 })).toThrow(
      expect.objectContaining({ code: 'STAKE_UNKNOWN' }),
    );
    expect(exportRegistry(reg, { format: 'csv', scope: 'all', networkMagic: 1 }).relays).toBe(6);
  });

  it('CSV quotes what needs quoting and neutralises formulas', () => {
    const csv = toCsv([
      {
        id: 'p',
        ticker: '=HYPERLINK("x")',
        status: 'registered',
        relays: [{ kind: 'dns', host: 'a,b', port: 1, flags: ['x', 'y'] }],
      },
    ]);
    expect(csv).toBe(
      'pool,ticker,stake,status,kind,host,port,flags\np,"\'=HYPERLINK(""x"")",,registered,dns,"a,b",1,x y\n',
    );
  });
});
