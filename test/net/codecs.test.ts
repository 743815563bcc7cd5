import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeTerm, encodeTerm } from '../../src/net/cbor.js';
import { makeHeaderBytes, SyntheticChain } from '../../src/net/chain.js';
import { type ChainSyncMessage, decodeChainSync, encodeChainSync } from '../../src/net/codec/chain-sync.js';
import {
  acceptProposal,
  combineVersionData,
  decodeHandshake,
  decodeVersionData,
  encodeHandshake,
  encodeVersionData,
  type HandshakeMessage,
  type VersionData,
  versionTable,
} from '../../src/net/codec/handshake.js';
import { decodeKeepAlive, encodeKeepAlive, type KeepAliveMessage } from '../../src/net/codec/keep-alive.js';
import {
  decodePeerSharing,
  encodePeerSharing,
  ipv4ToWord,
  type PeerSharingMessage,
  wordToIpv4,
} from '../../src/net/codec/peer-sharing.js';
import type { Point, Tip } from '../../src/net/codec/point.js';
import { CodecError } from '../../src/net/errors.js';
import { decodeHeader, wrapByronHeader, wrapHeader } from '../../src/net/header.js';
import { hex, unhex } from './helpers.js';

const RUNS = { numRuns: 300, seed: 4242 };
/** Decoded byte strings are Buffer views; compare as hex. */
const norm = (v: unknown): unknown => {
  if (v instanceof Uint8Array) return hex(v);
  if (Array.isArray(v)) return v.map(norm);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]));
  return v;
};
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const slot = fc.maxSafeNat();
const hash32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const point: fc.Arbitrary<Point> = fc.option(fc.record({ slot, hash: hash32 }), { nil: null, freq: 5 });
const tip: fc.Arbitrary<Tip> = fc.record({ point, blockNo: fc.maxSafeNat() });

const versionData = (v: number): fc.Arbitrary<VersionData> =>
  fc
    .record({
      networkMagic: u32,
      initiatorOnly: fc.boolean(),
      peerSharing: fc.constantFrom<0 | 1>(0, 1),
      query: fc.boolean(),
      perasSupport: fc.boolean(),
    })
    .map((d) => {
      if (v < 16) {
        const { perasSupport: _p, ...rest } = d;
        return rest;
      }
      return d;
    });

const versionEntries = fc
  .uniqueArray(fc.constantFrom(14, 15, 16), { minLength: 0, maxLength: 3 })
  .chain((vs) =>
    fc.tuple(...[...vs].sort().map((v) => versionData(v).map((d) => ({ version: v, data: encodeVersionData(v, d) })))),
  );

const handshake: fc.Arbitrary<HandshakeMessage> = fc.oneof(
  versionEntries.map((versions) => ({ type: 'ProposeVersions' as const, versions })),
  versionEntries.map((versions) => ({ type: 'QueryReply' as const, versions })),
  fc
    .constantFrom(14, 15, 16)
    .chain((v) =>
      versionData(v).map((d) => ({ type: 'AcceptVersion' as const, version: v, data: encodeVersionData(v, d) })),
    ),
  fc
    .oneof(
      fc
        .array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 8 })
        .map((versions) => ({ kind: 'VersionMismatch' as const, versions })),
      fc.record({
        kind: fc.constant('HandshakeDecodeError' as const),
        version: fc.integer({ min: 0, max: 0xffff }),
        message: fc.string(),
      }),
      fc.record({
        kind: fc.constant('Refused' as const),
        version: fc.integer({ min: 0, max: 0xffff }),
        message: fc.string(),
      }),
    )
    .map((reason) => ({ type: 'Refuse' as const, reason })),
);

const keepAlive: fc.Arbitrary<KeepAliveMessage> = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }).map((cookie) => ({ type: 'KeepAlive' as const, cookie })),
  fc.integer({ min: 0, max: 0xffff }).map((cookie) => ({ type: 'KeepAliveResponse' as const, cookie })),
  fc.constant({ type: 'Done' as const }),
);

const header = fc
  .record({
    era: fc.integer({ min: 1, max: 7 }),
    blockNo: fc.maxSafeNat(),
    slot,
    prev: fc.option(hash32, { nil: null }),
  })
  .map(({ era, blockNo, slot: s, prev }) => wrapHeader(era, makeHeaderBytes(blockNo, s, prev)));

const chainSync: fc.Arbitrary<ChainSyncMessage> = fc.oneof(
  fc.constantFrom<ChainSyncMessage>({ type: 'RequestNext' }, { type: 'AwaitReply' }, { type: 'Done' }),
  fc.record({ type: fc.constant('RollForward' as const), header, tip }),
  fc.record({ type: fc.constant('RollBackward' as const), point, tip }),
  fc.record({
    type: fc.constant('FindIntersect' as const),
    points: fc.array(point, { maxLength: 5 }),
    indefinite: fc.boolean(),
  }),
  fc.record({ type: fc.constant('IntersectFound' as const), point, tip }),
  fc.record({ type: fc.constant('IntersectNotFound' as const), tip }),
);

const ipv6 = fc.ipV6().filter((a) => !a.includes('.'));
const peerAddress = fc.oneof(
  fc.record({ family: fc.constant(4 as const), address: fc.ipV4(), port: fc.integer({ min: 0, max: 0xffff }) }),
  fc.record({ family: fc.constant(6 as const), address: ipv6, port: fc.integer({ min: 0, max: 0xffff }) }),
);
const peerSharing: fc.Arbitrary<PeerSharingMessage> = fc.oneof(
  fc.integer({ min: 0, max: 255 }).map((amount) => ({ type: 'ShareRequest' as const, amount })),
  fc.record({
    type: fc.constant('SharePeers' as const),
    peers: fc.array(peerAddress, { maxLength: 10 }),
    indefinite: fc.boolean(),
  }),
  fc.constant({ type: 'Done' as const }),
);

/** encode -> decode -> encode gives the same bytes (the decoded value may normalise text forms). */
function bytesStable<M>(arb: fc.Arbitrary<M>, enc: (m: M) => Uint8Array, dec: (b: Uint8Array) => M): void {
  fc.assert(
    fc.property(arb, (m) => {
      const b = enc(m);
      expect(hex(enc(dec(b)))).toBe(hex(b));
    }),
    RUNS,
  );
}

describe('property round-trips of every message type', () => {
  it('handshake', () => {
    bytesStable(handshake, encodeHandshake, decodeHandshake);
    fc.assert(
      fc.property(handshake, (m) => {
        expect(decodeHandshake(encodeHandshake(m))).toEqual(m);
      }),
      RUNS,
    );
  });
  it('version data v14/v15/v16', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(14, 15, 16).chain((v) => fc.tuple(fc.constant(v), versionData(v))),
        ([v, d]) => {
          expect(decodeVersionData(v, decodeTerm(encodeTerm(encodeVersionData(v, d))))).toEqual(d);
        },
      ),
      RUNS,
    );
  });
  it('keep-alive', () => {
    fc.assert(
      fc.property(keepAlive, (m) => {
        expect(decodeKeepAlive(encodeKeepAlive(m))).toEqual(m);
      }),
      RUNS,
    );
  });
  it('chain-sync (headers generated with the real Praos/TPraos shapes)', () => {
    bytesStable(chainSync, encodeChainSync, decodeChainSync);
    fc.assert(
      fc.property(chainSync, (m) => {
        const d = decodeChainSync(encodeChainSync(m));
        expect(d.type).toBe(m.type);
        if (m.type === 'RollForward' && d.type === 'RollForward') {
          expect(hex(encodeTerm(d.header))).toBe(hex(encodeTerm(m.header)));
          expect(norm(d.tip)).toEqual(norm(m.tip));
        }
      }),
      RUNS,
    );
  });
  it('peer-sharing (addresses survive the Haskell word order)', () => {
    bytesStable(peerSharing, encodePeerSharing, decodePeerSharing);
    fc.assert(
      fc.property(fc.array(fc.ipV4(), { maxLength: 5 }), (as) => {
        for (const a of as) expect(wordToIpv4(ipv4ToWord(a))).toBe(a);
      }),
      RUNS,
    );
  });
});

describe('byte order of peer-sharing addresses (wire.md §7.2)', () => {
  it('IPv4 1.2.3.4 is the word 0x04030201; 127.0.0.1 is 0x0100007f', () => {
    expect(ipv4ToWord('1.2.3.4')).toBe(0x04030201);
    expect(ipv4ToWord('127.0.0.1')).toBe(0x0100007f);
    expect(
      hex(
        encodePeerSharing({
          type: 'SharePeers',
          peers: [{ family: 4, address: '1.2.3.4', port: 3001 }],
          indefinite: false,
        }),
      ),
    ).toBe('82018183001a04030201190bb9');
  });
  it('IPv6 2001:db8::1 is big-endian per group', () => {
    expect(
      hex(encodePeerSharing({ type: 'SharePeers', peers: [{ family: 6, address: '2001:db8::1', port: 3001 }] })),
    ).toBe('82019f86011a20010db8000001190bb9ff');
  });
});

describe('strict decoding: typed errors', () => {
  const bad: Array<[string, string, (b: Uint8Array) => unknown]> = [
    ['trailing bytes', '820000ff', decodeKeepAlive],
    ['indefinite outer array', '9f0000ff', decodeKeepAlive],
    ['wrong arity', '83000000', decodeKeepAlive],
    ['unknown tag', '8109', decodeKeepAlive],
    ['cookie over 16 bits', '82001a00010000', decodeKeepAlive],
    ['not an array', '00', decodeChainSync],
    ['bad hash length', '8305821a05c7ad0043010203828000', decodeChainSync],
    ['truncated', '8200a20e84', decodeHandshake],
    ['unordered versions', '8200a20f8401f500f40e8401f500f4', decodeHandshake],
    ['indefinite version table', '8200bf0e8401f500f4ff', decodeHandshake],
    ['8-element IPv6 (v11/12 form)', '82019f88011ab80d012000001a010000000000190bb9ff', decodePeerSharing],
    ['amount over 255', '8200190100', decodePeerSharing],
    ['a float', '8200fa3f800000', decodeKeepAlive],
    ['deep nesting', `${'81'.repeat(200)}00`, decodeChainSync],
  ];
  for (const [what, h, dec] of bad) {
    it(`${what} -> CodecError`, () => {
      expect(() => dec(unhex(h))).toThrow(CodecError);
    });
  }

  it('version data: the node texts for each failure', () => {
    expect(() => decodeVersionData(15, decodeTerm(unhex('8401f502f4')))).toThrow('peerSharing is out of bound: 2');
    expect(() => decodeVersionData(15, decodeTerm(unhex('8501f500f4f4')))).toThrow(
      'invalid encoding for perasSupport given the version 15',
    );
    expect(() => decodeVersionData(16, decodeTerm(unhex('8401f500f4')))).toThrow('invalid encoding for perasSupport');
    expect(() => decodeVersionData(14, decodeTerm(unhex('9f01f500f4ff')))).toThrow('unexpected encoding');
    expect(() => decodeVersionData(14, decodeTerm(unhex('841b0000000100000000f500f4')))).toThrow(
      'networkMagic out of bound',
    );
    expect(() => decodeVersionData(14, decodeTerm(unhex('8401f5f5f4')))).toThrow('peerSharing is out of bound');
  });
});

describe('acceptor (wire.md §4.4)', () => {
  const own = {
    versions: [14, 15],
    data: { networkMagic: 2, initiatorOnly: false, peerSharing: 1 as const, query: false },
  };
  const propose = (versions: number[], d: VersionData) => versionTable(versions, d);
  it('picks the highest common version and combines the data', () => {
    const r = acceptProposal(
      propose([14, 15, 16], { networkMagic: 2, initiatorOnly: true, peerSharing: 1, query: false }),
      own,
    );
    expect(r).toEqual({
      kind: 'accept',
      version: 15,
      data: { networkMagic: 2, initiatorOnly: true, peerSharing: 1, query: false },
    });
  });
  it('peer sharing only if both, query if either, initiator-only if either', () => {
    expect(
      combineVersionData(own.data, { networkMagic: 2, initiatorOnly: false, peerSharing: 0, query: true }),
    ).toEqual({ networkMagic: 2, initiatorOnly: false, peerSharing: 0, query: true });
    expect(combineVersionData(own.data, { ...own.data, networkMagic: 1 })).toBeUndefined();
  });
  it('refuses: no common version lists our own; wrong magic says "version data mismatch"', () => {
    expect(acceptProposal(propose([16], { ...own.data }), own)).toEqual({
      kind: 'refuse',
      reason: { kind: 'VersionMismatch', versions: [14, 15] },
    });
    const r = acceptProposal(propose([14], { ...own.data, networkMagic: 764824073 }), own);
    expect(r.kind === 'refuse' && r.reason.kind === 'Refused' && r.reason.message).toMatch(
      /^version data mismatch: .*unNetworkMagic = 2.* \/= .*unNetworkMagic = 764824073/,
    );
  });
  it('decodes only the chosen version data: junk under a lower version is ignored', () => {
    const versions = [
      { version: 14, data: 'junk' },
      { version: 15, data: encodeVersionData(15, own.data) },
    ];
    expect(acceptProposal(versions, own).kind).toBe('accept');
    const bad = [{ version: 15, data: [2, false, 7, false] }];
    expect(acceptProposal(bad, own)).toEqual({
      kind: 'refuse',
      reason: { kind: 'HandshakeDecodeError', version: 15, message: 'peerSharing is out of bound: 7' },
    });
  });
  it('query gets the whole table', () => {
    const r = acceptProposal(propose([14, 15], { ...own.data, query: true }), own);
    expect(r.kind).toBe('query');
    expect(r.kind === 'query' && r.versions.map((v) => v.version)).toEqual([14, 15]);
  });
});

describe('header wrapping', () => {
  it('synthetic chain headers decode to their slot, block number and hash, linked by prev-hash', () => {
    const chain = new SyntheticChain(500, 20);
    for (let i = 0; i < 5; i++) chain.extend();
    let prev: string | null = null;
    for (const b of chain.blocks) {
      const h = decodeHeader(b.header);
      expect(h).toMatchObject({ era: 6, slot: b.slot, blockNo: b.blockNo });
      expect(hex(h.hash)).toBe(hex(b.hash));
      expect(h.prevHash === null ? null : hex(h.prevHash)).toBe(prev);
      prev = hex(h.hash);
    }
  });
  it('strict mode also rejects junk after the header inside the tag-24 bytes', () => {
    const bytes = Buffer.concat([makeHeaderBytes(1, 2, null), Uint8Array.of(0)]);
    expect(decodeHeader(wrapHeader(6, bytes)).blockNo).toBe(1); // the fast path reads the first fields only
    expect(() => decodeHeader(wrapHeader(6, bytes), { strict: true })).toThrow(CodecError);
  });
  it('a 15-field body under a Praos era is rejected (the pallas bug), and vice versa', () => {
    const praos = makeHeaderBytes(1, 2, null);
    expect(() => decodeHeader(wrapHeader(2, praos))).toThrow(/15 fields/);
    expect(() => decodeHeader(wrapByronHeader('main', 10, praos))).toThrow(CodecError);
  });
});
