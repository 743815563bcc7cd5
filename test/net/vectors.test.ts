import { describe, expect, it } from 'vitest';
import { decodeFirstTerm, decodeTerm, encodeTerm, Tagged } from '../../src/net/cbor.js';
import { decodeChainSync, encodeChainSync } from '../../src/net/codec/chain-sync.js';
import { decodeHandshake, decodeVersionData, encodeHandshake } from '../../src/net/codec/handshake.js';
import { decodeKeepAlive, encodeKeepAlive } from '../../src/net/codec/keep-alive.js';
import { decodePeerSharing, encodePeerSharing } from '../../src/net/codec/peer-sharing.js';
import { blake2b256, decodeHeader, wrapHeader } from '../../src/net/header.js';
import { decodeSegmentHeader, encodeSegment, type Segment, SegmentReader } from '../../src/net/mux/segment.js';
import { derivedMessages, fixtureBytes, fixtureHex, fixtureNames, hex, unhex } from './helpers.js';

function roundTripByPrefix(name: string, bytes: Uint8Array): string {
  if (name.startsWith('hs_') || name.startsWith('captured_')) {
    const m = decodeHandshake(bytes);
    if (m.type === 'ProposeVersions' || m.type === 'QueryReply') {
      for (const v of m.versions) if (v.version >= 14) decodeVersionData(v.version, v.data);
    }
    if (m.type === 'AcceptVersion') decodeVersionData(m.version, m.data);
    return hex(encodeHandshake(m));
  }
  if (name.startsWith('ka_')) return hex(encodeKeepAlive(decodeKeepAlive(bytes)));
  if (name.startsWith('cs_')) return hex(encodeChainSync(decodeChainSync(bytes)));
  if (name.startsWith('ps_')) return hex(encodePeerSharing(decodePeerSharing(bytes)));
  throw new Error(`no codec for ${name}`);
}

const byProtocol: Record<number, (b: Uint8Array) => string> = {
  0: (b) => hex(encodeHandshake(decodeHandshake(b))),
  2: (b) => hex(encodeChainSync(decodeChainSync(b))),
  8: (b) => hex(encodeKeepAlive(decodeKeepAlive(b))),
  10: (b) => hex(encodePeerSharing(decodePeerSharing(b))),
};

describe('derived message vectors (messages.tsv)', () => {
  const rows = derivedMessages();
  it('has the rows', () => expect(rows.length).toBeGreaterThan(40));
  for (const row of rows) {
    it(`${row.name} decodes and re-encodes byte-exact`, () => {
      const bytes = unhex(row.hex);
      if (row.name.startsWith('sdu_')) {
        const h = decodeSegmentHeader(bytes);
        const payload = bytes.subarray(8);
        expect(h.length).toBe(payload.length);
        expect(byProtocol[h.protocol]?.(payload)).toBe(hex(payload));
        expect(hex(encodeSegment({ ...h, payload }))).toBe(row.hex);
        expect(h.fromResponder).toBe(row.name.startsWith('sdu_resp'));
      } else {
        expect(roundTripByPrefix(row.name, bytes)).toBe(row.hex);
      }
    });
  }

  it('reads the facts the vectors state', () => {
    const get = (n: string) => unhex(rows.find((r) => r.name === n)?.hex ?? '');
    const accept = decodeHandshake(get('hs_accept_v15_mainnet_initiatorOnly'));
    expect(accept).toMatchObject({ type: 'AcceptVersion', version: 15 });
    if (accept.type === 'AcceptVersion') {
      expect(decodeVersionData(15, accept.data)).toEqual({
        networkMagic: 764824073,
        initiatorOnly: true,
        peerSharing: 0,
        query: false,
      });
    }
    expect(decodeHandshake(get('hs_refuse_decodeerror'))).toEqual({
      type: 'Refuse',
      reason: { kind: 'HandshakeDecodeError', version: 15, message: 'peerSharing is out of bound: 2' },
    });
    const ps = decodePeerSharing(get('ps_sharepeers_mixed_haskell'));
    expect(ps).toMatchObject({
      type: 'SharePeers',
      peers: [
        { family: 4, address: '127.0.0.1', port: 3001 },
        { family: 6, address: '2001:db8::1', port: 3001 },
      ],
    });
    const rf = decodeChainSync(get('cs_rollforward_conway_mainnet_10882991'));
    expect(rf.type).toBe('RollForward');
    if (rf.type === 'RollForward') {
      const h = decodeHeader(rf.header);
      expect(h).toMatchObject({ era: 6, eraName: 'conway', blockNo: 10882991, slot: 135747596 });
      expect(hex(h.hash)).toBe('008f33af96a1508c031a041600317fabe5e4ad5e4bc729de1fe0a43f96240808');
      expect(rf.tip.blockNo).toBe(10882991);
    }
    const nf = decodeChainSync(get('cs_intersectnotfound_tip'));
    expect(nf).toMatchObject({ type: 'IntersectNotFound', tip: { blockNo: 3788477, point: { slot: 96972032 } } });
  });
});

describe('cardano-blueprint handshake vectors', () => {
  for (const f of fixtureNames('vectors/cardano-blueprint')) {
    it(`${f} round-trips byte-exact`, () => {
      const h = fixtureHex(`vectors/cardano-blueprint/${f}`);
      expect(hex(encodeHandshake(decodeHandshake(unhex(h))))).toBe(h);
    });
  }
  it('test-4 is an accept of version 14 with magic 1, duplex, peer sharing', () => {
    const m = decodeHandshake(fixtureBytes('vectors/cardano-blueprint/handshake-test-4.hex'));
    expect(m.type === 'AcceptVersion' && decodeVersionData(14, m.data)).toEqual({
      networkMagic: 1,
      initiatorOnly: false,
      peerSharing: 1,
      query: false,
    });
  });
});

describe('captured chain-sync roll-forwards (gouroboros)', () => {
  for (const f of fixtureNames('vectors/gouroboros').filter((n) => n.startsWith('rollforward'))) {
    it(`${f}: re-encodes byte-exact and hashes to the name`, () => {
      const bytes = fixtureBytes(`vectors/gouroboros/${f}`);
      const m = decodeChainSync(bytes);
      expect(hex(encodeChainSync(m))).toBe(hex(bytes));
      if (m.type !== 'RollForward') throw new Error('not a roll forward');
      const h = decodeHeader(m.header);
      const want = /_([0-9a-f]{64})\.hex$/.exec(f)?.[1];
      expect(hex(h.hash)).toBe(want);
      if (f.includes('shelley')) {
        expect(h).toMatchObject({ era: 1, blockNo: 1597133, slot: 1598400 });
        expect(hex(h.prevHash ?? new Uint8Array())).toMatch(/^7e16781b/);
        expect(m.tip).toMatchObject({ blockNo: 3480174, point: { slot: 55770176 } });
      } else {
        expect(h.byron).toMatchObject({ kind: 'ebb', sizeHint: 648087, epoch: 0 });
        expect(h).toMatchObject({ era: 0, slot: 0 });
        expect(m.tip).toMatchObject({ blockNo: 3479284, point: { slot: 55740899 } });
        // the plain content hashes differently: the 82 00 prefix matters
        expect(hex(blake2b256(h.headerBytes))).not.toBe(want);
      }
    });
  }
});

describe('consensus golden headers', () => {
  const golden: Record<string, [number, string, string]> = {
    Header_Shelley: [1, 'b1244923', '8c0c'],
    Header_Allegra: [2, 'f1f74317', '106c'],
    Header_Mary: [3, '22acdf65', '29d3'],
    Header_Alonzo: [4, '78a304a5', 'cdde'],
    Header_Babbage: [5, 'e03813e4', '8e79'],
    Header_Conway: [6, '460d2f36', 'a84d'],
    Header_Dijkstra: [7, '3cff878a', 'd87a'],
    Header_Byron_EBB: [0, '88900fba', 'b82c'],
    Header_Byron_regular: [0, '93e9c624', 'c26f'],
  };
  for (const [name, [era, start, end]] of Object.entries(golden)) {
    it(`${name}: era ${era}, hash ${start}...${end}, byte-exact re-encoding`, () => {
      const bytes = fixtureBytes(`vectors/ouroboros-consensus-golden/${name}.hex`);
      const term = decodeTerm(bytes);
      expect(hex(encodeTerm(term))).toBe(hex(bytes));
      const h = decodeHeader(term);
      expect(h.era).toBe(era);
      expect(hex(h.hash).startsWith(start)).toBe(true);
      expect(hex(h.hash).endsWith(end)).toBe(true);
      if (era > 0) expect(h).toMatchObject({ blockNo: 3, slot: 9 });
    });
  }
  it('the Byron main header points at the EBB', () => {
    const ebb = decodeHeader(decodeTerm(fixtureBytes('vectors/ouroboros-consensus-golden/Header_Byron_EBB.hex')));
    const main = decodeHeader(decodeTerm(fixtureBytes('vectors/ouroboros-consensus-golden/Header_Byron_regular.hex')));
    expect(hex(main.prevHash ?? new Uint8Array())).toBe(hex(ebb.hash));
    expect(main.byron).toMatchObject({ kind: 'main', sizeHint: 869 });
    expect(ebb.byron).toMatchObject({ kind: 'ebb', sizeHint: 94 });
  });
  for (const name of [
    'SerialisedHeader_Byron_EBB',
    'SerialisedHeader_Byron_regular',
    'SerialisedHeader_Shelley',
    'SerialisedHeader_Conway',
  ]) {
    it(`${name}: the wrapping round-trips and carries the placeholder`, () => {
      const bytes = fixtureBytes(`vectors/ouroboros-consensus-golden/${name}.hex`);
      const term = decodeTerm(bytes);
      expect(hex(encodeTerm(term))).toBe(hex(bytes));
      const inner = JSON.stringify(term, (_k, v) =>
        v instanceof Tagged ? Buffer.from(v.value as Uint8Array).toString() : v,
      );
      expect(inner).toMatch(/HEADER/);
      // the placeholder is not a header: decoding it is a typed error, not a crash
      expect(() => decodeHeader(term)).toThrow(/tag 24|CBOR|header/);
    });
  }
});

describe('real mainnet headers and blocks', () => {
  it('bare Conway headers: block numbers and the 10882991 hash', () => {
    for (const [f, blockNo] of [
      ['mainnet_header_block_10882991.hex', 10882991],
      ['mainnet_header_block_10873394.hex', 10873394],
    ] as const) {
      const bytes = fixtureBytes(`vectors/gouroboros/${f}`);
      expect(hex(encodeTerm(decodeTerm(bytes)))).toBe(hex(bytes)); // byte-exact re-encoding
      const h = decodeHeader(wrapHeader(6, bytes));
      expect(h.blockNo).toBe(blockNo);
      if (blockNo === 10882991)
        expect(hex(h.hash)).toBe('008f33af96a1508c031a041600317fabe5e4ad5e4bc729de1fe0a43f96240808');
    }
  });

  it('pallas chunk: 5 Babbage blocks whose prev-hash links equal our header hashes', () => {
    const chunk = fixtureBytes('vectors/pallas/02019.chunk.hex');
    const hashes: string[] = [];
    const prevs: string[] = [];
    let off = 0;
    while (off < chunk.length) {
      const { term, length } = decodeFirstTerm(chunk, off);
      // [era, block]; block = [header, ...]: find the header's own bytes inside the block
      const block = chunk.subarray(off, off + length);
      expect(Array.isArray(term) && term[0]).toBe(6);
      expect(hex(encodeTerm(term))).toBe(hex(block)); // whole real blocks re-encode byte-exact
      let p = 2; // 82 06
      const blockHeaderLen = decodeFirstTerm(block, p).length; // the block array as a whole
      expect(blockHeaderLen).toBe(block.length - 2);
      p += 1; // block array header (85)
      const headerLen = decodeFirstTerm(block, p).length;
      const headerBytes = block.subarray(p, p + headerLen);
      const h = decodeHeader(wrapHeader(6, headerBytes));
      hashes.push(hex(h.hash));
      prevs.push(hex(h.prevHash ?? new Uint8Array()));
      off += length;
    }
    expect(hashes).toHaveLength(5);
    for (let i = 1; i < 5; i++) expect(prevs[i]).toBe(hashes[i - 1]);
  });
});

describe('real mux capture (two TCP reads, HarmonicLabs)', () => {
  const reads = fixtureHex('vectors/harmoniclabs/blockfetch_two_tcp_reads.hex')
    .split('\n')
    .map((l) => unhex(l.trim()));

  function messages(chunks: Uint8Array[]): { segments: Segment[]; count: number; lengths: number[] } {
    const r = new SegmentReader();
    const segments: Segment[] = [];
    for (const c of chunks) r.push(c, (s) => segments.push({ ...s, payload: s.payload.slice() }));
    const stream = Buffer.concat(segments.map((s) => s.payload));
    const lengths: number[] = [];
    for (let off = 0; off < stream.length; ) {
      const { length } = decodeFirstTerm(stream, off);
      lengths.push(length);
      off += length;
    }
    return { segments, count: lengths.length, lengths };
  }

  it('gives two responder block-fetch segments and exactly 12 messages', () => {
    expect(reads.map((r) => r.length)).toEqual([2880, 7260]);
    const { segments, count, lengths } = messages(reads);
    expect(segments.map((s) => [s.protocol, s.fromResponder, s.length])).toEqual([
      [3, true, 3038],
      [3, true, 7086],
    ]);
    expect((segments[1]?.timestamp ?? 0) - (segments[0]?.timestamp ?? 0)).toBe(460);
    expect(count).toBe(12);
    expect(lengths.slice(1, 11).every((l) => l === 1012)).toBe(true);
  });

  it('each of the 12 block-fetch messages re-encodes byte-exact', () => {
    const r = new SegmentReader();
    const payloads: Uint8Array[] = [];
    for (const c of reads) r.push(c, (seg) => payloads.push(seg.payload.slice()));
    const stream = Buffer.concat(payloads);
    let n = 0;
    for (let off = 0; off < stream.length; n++) {
      const { term, length } = decodeFirstTerm(stream, off);
      expect(hex(encodeTerm(term))).toBe(hex(stream.subarray(off, off + length)));
      off += length;
    }
    expect(n).toBe(12);
  });

  it('gives the same when fed byte by byte', () => {
    const all = Buffer.concat(reads);
    const bytes = Array.from(all, (b) => Uint8Array.of(b));
    expect(messages(bytes).count).toBe(12);
  });
});
