/**
 * The node-to-client handshake codec (src/net/handshake-n2c.ts) against byte vectors written by hand
 * from handshake-node-to-client.cddl (the spec collection has no node-to-client vectors; each is
 * derived below from the CDDL's rules: versions 16..23 on the wire with bit 15 set, so 32784..32791
 * encoded as `19 80 10`..`19 80 17`; version data `[networkMagic, query]`; a definite map sorted by
 * version; mainnet's magic 764824073 is `1a 2d 96 4a 09`), round trips, and a fuzz test of the
 * decoder (it faces the node's socket: anything it is given either decodes or is a CodecError).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/net/cbor.js';
import { CodecError } from '../../src/net/errors.js';
import {
  acceptN2CProposal,
  decodeN2CHandshake,
  encodeN2CHandshake,
  N2C_VERSIONS,
  type N2CHandshakeMessage,
} from '../../src/net/handshake-n2c.js';

const MAINNET = 764824073;
const mainnetData = '821a2d964a09f4'; // [764824073, false]

const VECTORS: Array<{ name: string; hex: string; message: N2CHandshakeMessage }> = [
  {
    name: 'MsgProposeVersions mainnet 16..23, query false',
    // [0, {32784: [764824073, false], ..., 32791: [...]}]: 82 00, a8 = map of 8
    hex: `8200a8${[0, 1, 2, 3, 4, 5, 6, 7].map((i) => `19801${i}${mainnetData}`).join('')}`,
    message: {
      type: 'ProposeVersions',
      versions: N2C_VERSIONS.map((version) => ({ version, data: { networkMagic: MAINNET, query: false } })),
    },
  },
  {
    name: 'MsgProposeVersions preprod (1) 22, 23 with query',
    hex: '8200a2198016' + '8201f5' + '198017' + '8201f5',
    message: {
      type: 'ProposeVersions',
      versions: [
        { version: 22, data: { networkMagic: 1, query: true } },
        { version: 23, data: { networkMagic: 1, query: true } },
      ],
    },
  },
  {
    name: 'MsgAcceptVersion 23 mainnet',
    hex: `8301198017${mainnetData}`,
    message: { type: 'AcceptVersion', version: 23, data: { networkMagic: MAINNET, query: false } },
  },
  {
    name: 'MsgRefuse VersionMismatch [16, 17]',
    hex: '82028200821980101980' + '11',
    message: { type: 'Refuse', reason: { kind: 'VersionMismatch', versions: [16, 17] } },
  },
  {
    name: 'MsgRefuse HandshakeDecodeError 16 "bad"',
    hex: '8202830119801063626164',
    message: { type: 'Refuse', reason: { kind: 'HandshakeDecodeError', version: 16, message: 'bad' } },
  },
  {
    name: 'MsgRefuse Refused 23 "no"',
    hex: '82028302198017626e6f',
    message: { type: 'Refuse', reason: { kind: 'Refused', version: 23, message: 'no' } },
  },
  {
    name: 'MsgQueryReply preview (2) 22, 23',
    hex: '8203a2198016' + '8202f4' + '198017' + '8202f4',
    message: {
      type: 'QueryReply',
      versions: [
        { version: 22, data: { networkMagic: 2, query: false } },
        { version: 23, data: { networkMagic: 2, query: false } },
      ],
    },
  },
];

describe('node-to-client handshake codec: byte-exact vectors from the CDDL', () => {
  for (const v of VECTORS) {
    it(`${v.name}: encodes to the bytes and decodes back`, () => {
      expect(toHex(encodeN2CHandshake(v.message))).toBe(v.hex);
      expect(decodeN2CHandshake(fromHex(v.hex))).toEqual(v.message);
    });
  }

  it('the proposal table is sorted by version whatever the order given', () => {
    const shuffled: N2CHandshakeMessage = {
      type: 'ProposeVersions',
      versions: [23, 16].map((version) => ({ version, data: { networkMagic: 1, query: false } })),
    };
    expect(toHex(encodeN2CHandshake(shuffled))).toBe('8200a21980108201f41980178201f4');
  });

  it('refuses what the CDDL does not allow (CodecError, named)', () => {
    const bad: Array<[string, string, RegExp]> = [
      ['a node-to-node version number (14, bit 15 unset)', '8200a10e8201f4', /not a node-to-client version/],
      ['an indefinite map', '8200bf1980108201f4ff', /not a definite map/],
      ['node-to-node version data (4 fields)', `83011980178401f500f4`, /not \[networkMagic, query\]/],
      ['a magic above 32 bits', '8301198017821b0000000100000000f4', /networkMagic is not a 32-bit/],
      ['query that is not a boolean', '8301198017820100', /query is not a boolean/],
      ['an unknown message tag', '8209a0', /unknown message/],
      ['trailing bytes', `8301198017${mainnetData}00`, /trailing/],
      ['not CBOR at all (a truncated item)', '8301198017821a2d', /handshake:/],
    ];
    for (const [what, hex, re] of bad) {
      expect(() => decodeN2CHandshake(fromHex(hex)), what).toThrow(CodecError);
      expect(() => decodeN2CHandshake(fromHex(hex)), what).toThrow(re);
    }
  });
});

const versionArb = fc.integer({ min: 16, max: 23 });
const dataArb = fc.record({ networkMagic: fc.integer({ min: 0, max: 0xffffffff }), query: fc.boolean() });
const messageArb: fc.Arbitrary<N2CHandshakeMessage> = fc.oneof(
  fc.uniqueArray(versionArb, { minLength: 1, maxLength: 8 }).chain((vs) =>
    fc.array(dataArb, { minLength: vs.length, maxLength: vs.length }).map((ds) => ({
      type: 'ProposeVersions' as const,
      versions: vs
        .map((version, i) => ({ version, data: ds[i] as { networkMagic: number; query: boolean } }))
        .sort((a, b) => a.version - b.version),
    })),
  ),
  fc.record({ type: fc.constant('AcceptVersion' as const), version: versionArb, data: dataArb }),
  fc.record({
    type: fc.constant('Refuse' as const),
    reason: fc.oneof(
      fc.record({ kind: fc.constant('VersionMismatch' as const), versions: fc.array(versionArb, { maxLength: 8 }) }),
      fc.record({ kind: fc.constant('HandshakeDecodeError' as const), version: versionArb, message: fc.string() }),
      fc.record({ kind: fc.constant('Refused' as const), version: versionArb, message: fc.string() }),
    ),
  }),
);

describe('node-to-client handshake codec: properties', () => {
  it('every message round-trips through its bytes', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        expect(decodeN2CHandshake(encodeN2CHandshake(m))).toEqual(m);
      }),
      { numRuns: 500 },
    );
  });

  it('fuzz: random bytes and mutated messages decode or throw a CodecError, nothing else', () => {
    const mutated = fc
      .tuple(messageArb, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat({ max: 4 }))
      .map(([m, at, byte, cut]) => {
        const b = Uint8Array.from(encodeN2CHandshake(m));
        b[at % b.length] = byte;
        return b.subarray(0, Math.max(0, b.length - cut));
      });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 80 }), mutated), (bytes) => {
        try {
          decodeN2CHandshake(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(CodecError);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('the acceptor: highest common version, magic checked, query answered with its table', () => {
    const ours = { versions: [20, 21, 22], networkMagic: 2 };
    const propose = (vs: number[], magic: number, query = false) =>
      vs.map((version) => ({ version, data: { networkMagic: magic, query } }));
    expect(acceptN2CProposal(propose([16, 21, 23], 2), ours)).toEqual({
      type: 'AcceptVersion',
      version: 21,
      data: { networkMagic: 2, query: false },
    });
    expect(acceptN2CProposal(propose([16, 17], 2), ours)).toMatchObject({
      type: 'Refuse',
      reason: { kind: 'VersionMismatch', versions: [20, 21, 22] },
    });
    expect(acceptN2CProposal(propose([22], 1), ours)).toMatchObject({
      type: 'Refuse',
      reason: { kind: 'Refused', version: 22 },
    });
    expect(acceptN2CProposal(propose([22], 2, true), ours)).toMatchObject({ type: 'QueryReply' });
  });
});
