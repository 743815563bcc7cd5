/**
 * Bounded fuzzing (seeded): over a million random and mutated inputs, at the decoders in-process
 * and at a running server over TCP, while a well-behaved client keeps getting answers.
 * Failure means: a crash (an exception other than our typed errors), an unhandled rejection,
 * unbounded memory, or the well-behaved client not being served.
 */
import { connect, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CborError,
  CborItemScanner,
  CborMap,
  decodeFirstTerm,
  decodeTerm,
  encodeTerm,
  indefinite,
  Tagged,
  type Term,
} from '../../src/net/cbor.js';
import { connectPeer } from '../../src/net/client.js';
import { decodeChainSync, encodeChainSync } from '../../src/net/codec/chain-sync.js';
import { decodeHandshake, encodeHandshake, versionTable } from '../../src/net/codec/handshake.js';
import { decodeKeepAlive, encodeKeepAlive } from '../../src/net/codec/keep-alive.js';
import { decodePeerSharing, encodePeerSharing } from '../../src/net/codec/peer-sharing.js';
import { CodecError, NetError } from '../../src/net/errors.js';
import { decodeHeader } from '../../src/net/header.js';
import { encodeSegment, SegmentReader } from '../../src/net/mux/segment.js';
import { type RunningServer, startServer } from '../../src/net/serve.js';
import { derivedMessages, fixtureBytes, fixtureNames, unhex } from './helpers.js';

/** xorshift32, seeded: the same inputs on every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

const corpus: Uint8Array[] = [];
for (const r of derivedMessages()) corpus.push(unhex(r.hex));
for (const f of fixtureNames('vectors/gouroboros')) corpus.push(fixtureBytes(`vectors/gouroboros/${f}`));
for (const f of fixtureNames('vectors/ouroboros-consensus-golden'))
  corpus.push(fixtureBytes(`vectors/ouroboros-consensus-golden/${f}`));
for (const f of fixtureNames('vectors/cardano-blueprint')) corpus.push(fixtureBytes(`vectors/cardano-blueprint/${f}`));

function mutate(r: () => number, base: Uint8Array): Uint8Array {
  const pick = Math.floor(r() * 8);
  const b = base.slice();
  const at = (n: number): number => Math.floor(r() * n);
  switch (pick) {
    case 0: // flip bits
      for (let i = 0, n = 1 + at(4); i < n && b.length; i++) {
        const j = at(b.length);
        b[j] = (b[j] as number) ^ (1 << at(8));
      }
      return b;
    case 1: // random byte values
      for (let i = 0, n = 1 + at(3); i < n && b.length; i++) b[at(b.length)] = at(256);
      return b;
    case 2: // truncate
      return b.subarray(0, at(b.length + 1));
    case 3: {
      // trailing garbage
      const extra = Uint8Array.from({ length: 1 + at(8) }, () => at(256));
      return Buffer.concat([b, extra]);
    }
    case 4: {
      // splice two corpus items
      const other = corpus[at(corpus.length)] as Uint8Array;
      return Buffer.concat([b.subarray(0, at(b.length + 1)), other.subarray(at(other.length + 1))]);
    }
    case 5: // interesting CBOR heads: indefinite, huge lengths, tags, break
      b[at(Math.max(1, b.length))] = [0x9f, 0xbf, 0x5f, 0x7f, 0xff, 0x9b, 0x5b, 0xd8, 0xf9, 0xfb, 0x1b][
        at(11)
      ] as number;
      return b;
    case 6: // pure random bytes
      return Uint8Array.from({ length: at(64) }, () => at(256));
    default: // duplicate a slice
      if (b.length < 2) return b;
      return Buffer.concat([b, b.subarray(at(b.length))]);
  }
}

const typed = (e: unknown): boolean => e instanceof CodecError || e instanceof CborError || e instanceof NetError;

describe('fuzzing', () => {
  const rejections: unknown[] = [];
  const onRejection = (e: unknown): void => {
    rejections.push(e);
  };
  let server: RunningServer;
  const disconnects = new Map<string, number>();

  beforeAll(async () => {
    process.on('unhandledRejection', onRejection);
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      magic: 2,
      blockIntervalMs: 50,
      peers: [{ family: 4, address: '10.0.0.1', port: 3001 }],
    });
    server.events.on('disconnect', (_r, e) => {
      const k = e?.code ?? 'clean';
      disconnects.set(k, (disconnects.get(k) ?? 0) + 1);
    });
  });
  afterAll(async () => {
    await server?.close();
    process.removeListener('unhandledRejection', onRejection);
  });

  it('decoders: 620,000 random and mutated messages give only typed errors', () => {
    const r = rng(0xc0ffee);
    const decoders: Array<(b: Uint8Array) => unknown> = [
      decodeHandshake,
      decodeKeepAlive,
      decodeChainSync,
      decodePeerSharing,
      (b) => decodeHeader(decodeTerm(b)),
      (b) => {
        const reader = new SegmentReader();
        reader.push(b, () => undefined);
      },
    ];
    let crashes = 0;
    let ok = 0;
    const N = 620_000;
    for (let i = 0; i < N; i++) {
      const input = mutate(r, corpus[Math.floor(r() * corpus.length)] as Uint8Array);
      try {
        (decoders[i % decoders.length] as (b: Uint8Array) => unknown)(input);
        ok++;
      } catch (e) {
        if (!typed(e)) {
          crashes++;
          if (crashes < 5) console.error('untyped error', e, Buffer.from(input).toString('hex'));
        }
      }
    }
    expect(crashes).toBe(0);
    expect(ok).toBeGreaterThan(0); // some mutations are still valid messages
  }, 60_000);

  it('the client: hostile answers to the handshake and to keep-alive give typed errors, never a crash', async () => {
    const { createServer } = await import('node:net');
    const r = rng(0x5eed);
    const at = (n: number): number => Math.floor(r() * n);
    const accept = encodeSegment({
      protocol: 0,
      fromResponder: true,
      timestamp: 0,
      payload: encodeHandshake({ type: 'AcceptVersion', version: 15, data: [2, true, 0, false] }),
    });
    const ka = encodeSegment({
      protocol: 8,
      fromResponder: true,
      timestamp: 0,
      payload: encodeKeepAlive({ type: 'KeepAliveResponse', cookie: 1 }),
    });
    const hostile = createServer((s) => {
      s.on('error', () => undefined);
      s.once('data', () => {
        // half the time a mutated handshake answer, else a good one followed by mutated keep-alive answers
        if (r() < 0.5) s.write(mutate(r, accept));
        else {
          s.write(accept);
          s.once('data', () => s.write(Buffer.concat([mutate(r, ka), mutate(r, ka)])));
        }
        setTimeout(() => s.destroy(), 30 + at(30));
      });
    });
    await new Promise<void>((res) => hostile.listen(0, '127.0.0.1', res));
    const port = (hostile.address() as { port: number }).port;
    const codes = new Map<string, number>();
    let untyped = 0;
    for (let i = 0; i < 150; i++) {
      try {
        const c = await connectPeer({
          host: '127.0.0.1',
          port,
          magic: 2,
          connectTimeoutMs: 1000,
          handshakeTimeoutMs: 250,
        });
        await c.keepAlive(1, 250);
        c.abort();
        codes.set('ok', (codes.get('ok') ?? 0) + 1);
      } catch (e) {
        if (!(e instanceof NetError)) untyped++;
        const k = (e as { code?: string }).code ?? 'untyped';
        codes.set(k, (codes.get(k) ?? 0) + 1);
      }
    }
    await new Promise<void>((res) => hostile.close(() => res()));
    console.error('client fuzz outcomes:', Object.fromEntries(codes));
    expect(untyped).toBe(0);
    expect(rejections).toEqual([]);
  }, 60_000);

  it('a running server: 400,000 random and mutated segments, while a well-behaved client keeps being answered', async () => {
    const r = rng(0xbadcafe);
    const at = (n: number): number => Math.floor(r() * n);
    const heap0 = process.memoryUsage().heapUsed;
    const validMessage = (): [number, Uint8Array] => {
      switch (at(4)) {
        case 0:
          return [8, encodeKeepAlive({ type: 'KeepAlive', cookie: at(65536) })];
        case 1:
          return [2, encodeChainSync({ type: 'RequestNext' })];
        case 2:
          return [
            2,
            encodeChainSync({
              type: 'FindIntersect',
              points: Array.from({ length: at(4) }, () => ({
                slot: at(1e6),
                hash: Uint8Array.from({ length: 32 }, () => at(256)),
              })),
            }),
          ];
        default:
          return [10, encodePeerSharing({ type: 'ShareRequest', amount: at(256) })];
      }
    };
    const segmentFor = (): Uint8Array => {
      const [protocol, msg] = validMessage();
      const roll = r();
      if (roll < 0.004)
        return mutate(r, encodeSegment({ protocol, fromResponder: false, timestamp: at(2 ** 32), payload: msg }));
      if (roll < 0.008) {
        const m = mutate(r, msg);
        return m.length === 0
          ? new Uint8Array(0)
          : encodeSegment({ protocol, fromResponder: false, timestamp: 0, payload: m });
      }
      return encodeSegment({ protocol, fromResponder: false, timestamp: at(2 ** 32), payload: msg });
    };

    // the well-behaved client, throughout
    let goodRounds = 0;
    let goodFailures = 0;
    let stop = false;
    const good = (async () => {
      while (!stop) {
        try {
          const c = await connectPeer({
            host: '127.0.0.1',
            port: server.port,
            magic: 2,
            connectTimeoutMs: 3000,
            handshakeTimeoutMs: 3000,
          });
          for (let i = 0; i < 20 && !stop; i++) {
            await c.keepAlive(i, 3000);
            await c.findTip({ timeoutMs: 3000 });
            goodRounds++;
            await new Promise((res) => setTimeout(res, 20));
          }
          await c.close();
        } catch (e) {
          goodFailures++;
          console.error('well-behaved client failed:', e);
        }
      }
    })();

    const TARGET = 400_000;
    const deadline = performance.now() + 40_000;
    let sent = 0;
    let connections = 0;
    const one = async (): Promise<void> => {
      const socket: Socket = connect(server.port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.resume(); // drain what the server says
      await new Promise<void>((res) => {
        socket.once('connect', () => res());
        socket.once('close', () => res());
      });
      if (socket.destroyed) return;
      connections++;
      const parts: Uint8Array[] = [];
      const propose = encodeHandshake({
        type: 'ProposeVersions',
        versions: versionTable([14, 15], { networkMagic: 2, initiatorOnly: true, peerSharing: 1, query: false }),
      });
      const hs = encodeSegment({ protocol: 0, fromResponder: false, timestamp: 0, payload: propose });
      // the handshake first, alone: nothing else may be sent before its answer (wire.md §1)
      socket.write(r() < 0.1 ? mutate(r, hs) : hs);
      await new Promise<void>((res) => {
        const t = setTimeout(res, 200);
        socket.once('data', () => {
          clearTimeout(t);
          res();
        });
        socket.once('close', () => res());
      });
      if (socket.destroyed) return;
      const n = 400 + at(400);
      for (let i = 0; i < n; i++) parts.push(segmentFor());
      sent += n + 1;
      // in a few writes, so segments also straddle TCP reads
      const all = Buffer.concat(parts);
      const cut = at(all.length);
      socket.write(all.subarray(0, cut));
      socket.write(all.subarray(cut));
      await new Promise((res) => setTimeout(res, 20 + at(40)));
      if (r() < 0.5) socket.resetAndDestroy();
      else socket.end();
      await new Promise<void>((res) => (socket.closed ? res() : socket.once('close', () => res())));
    };
    const workers = Array.from({ length: 12 }, async () => {
      while (sent < TARGET && performance.now() < deadline) await one();
    });
    await Promise.all(workers);
    stop = true;
    await good;

    const heap1 = process.memoryUsage().heapUsed;
    console.error(
      `fuzz: ${sent} segments on ${connections} connections; well-behaved rounds ${goodRounds}; server ends:`,
      Object.fromEntries(disconnects),
      `heap +${((heap1 - heap0) / 1e6).toFixed(1)} MB`,
    );
    expect(sent).toBeGreaterThanOrEqual(TARGET);
    expect(goodFailures).toBe(0);
    expect(goodRounds).toBeGreaterThan(50);
    expect(rejections).toEqual([]);
    expect(heap1 - heap0).toBeLessThan(300e6);
    // every fuzz connection is gone: nothing leaks
    const end = performance.now() + 5000;
    while (server.connections() > 0 && performance.now() < end) await new Promise((res) => setTimeout(res, 20));
    expect(server.connections()).toBe(0);
    expect(server.stats().accepted).toBeGreaterThan(connections);
  }, 60_000);
});

describe('fuzzing the stream framing (issue 16)', () => {
  /** Feeds `input` to a fresh scanner in the given pieces: where the first item ends, -1, or 'threw'. */
  function scan(input: Uint8Array, cuts: number[]): number | 'threw' {
    const s = new CborItemScanner();
    let from = 0;
    for (const to of [...cuts, input.length]) {
      if (to < from) continue;
      let end: number;
      try {
        end = s.feed(input.subarray(from, to));
      } catch (e) {
        expect(e).toBeInstanceOf(CborError);
        return 'threw';
      }
      if (end >= 0) return from + end;
      from = to;
    }
    return -1;
  }

  it('the item scanner agrees with the decoder on 200,000 mutated inputs fed in random pieces', () => {
    const r = rng(0x5ca11e);
    const at = (n: number): number => Math.floor(r() * n);
    let complete = 0;
    let incomplete = 0;
    for (let i = 0; i < 200_000; i++) {
      const input = mutate(r, corpus[at(corpus.length)] as Uint8Array);
      const cuts = Array.from({ length: at(4) }, () => at(input.length + 1)).sort((a, b) => a - b);
      const found = scan(input, cuts);
      let decoded: number | 'incomplete' | 'malformed';
      try {
        decoded = decodeFirstTerm(input).length;
      } catch (e) {
        if (!(e instanceof CborError)) throw e;
        decoded = e.incomplete ? 'incomplete' : 'malformed';
      }
      // Where the decoder reads an item, the scanner ends it at the same byte; where the decoder
      // wants more bytes, so does the scanner. (Malformed content the scanner does not judge is
      // refused by the decoder once the item is framed.)
      if (typeof decoded === 'number') {
        expect(found).toBe(decoded);
        complete++;
      } else if (decoded === 'incomplete') {
        expect(found).toBe(-1);
        incomplete++;
      }
    }
    expect(complete).toBeGreaterThan(10_000);
    expect(incomplete).toBeGreaterThan(1_000);
  }, 60_000);

  it('any stream of encoded terms (indefinite arrays and maps, tags, strings), cut anywhere, is framed into exactly those terms (property)', () => {
    const { term } = fc.letrec<{ term: Term }>((tie) => ({
      term: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
        fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n }),
        fc.string({ maxLength: 40 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.boolean(),
        fc.constant(null),
        fc
          .tuple(fc.array(tie('term'), { maxLength: 5 }), fc.boolean())
          .map(([a, indef]) => (indef ? indefinite(a) : a)),
        fc
          .tuple(fc.array(fc.tuple(tie('term'), tie('term')), { maxLength: 4 }), fc.boolean())
          .map(([e, indef]) => new CborMap(e, indef)),
        fc.tuple(fc.integer({ min: 0, max: 2 ** 32 }), tie('term')).map(([t, v]) => new Tagged(t, v)),
      ),
    }));
    fc.assert(
      fc.property(
        fc.array(term, { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (terms, rawCuts) => {
          const parts = terms.map((t) => encodeTerm(t));
          const stream = Buffer.concat(parts);
          const cuts = [...new Set(rawCuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
          const s = new CborItemScanner();
          const ends: number[] = [];
          let from = 0;
          for (const to of [...cuts, stream.length]) {
            let at = from;
            while (at < to) {
              const e = s.feed(stream.subarray(0, to), at);
              if (e < 0) break;
              ends.push(e);
              at = e;
            }
            from = to;
          }
          let sum = 0;
          expect(ends).toEqual(parts.map((p) => (sum += p.length)));
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('fuzzing the version table decoder (issue 16)', () => {
  it("any table of mixed keys: unknown keys are skipped, known ones must ascend, as the node's decodeVersions (property)", () => {
    const key = fc.oneof(
      fc.constantFrom(14, 15, 16),
      fc.integer({ min: 0, max: 100_000 }),
      fc.integer({ min: -5, max: -1 }),
      fc.string({ maxLength: 4 }),
      fc.constant(null),
      fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n }),
    );
    fc.assert(
      fc.property(fc.array(key, { maxLength: 8 }), (keys) => {
        const bytes = encodeTerm([0, new CborMap(keys.map((k) => [k, [2, true, 0, false]] as [Term, Term]))]);
        const known = keys.filter((k): k is number => k === 14 || k === 15 || k === 16);
        const ascending = known.every((k, i) => i === 0 || k > (known[i - 1] as number));
        let msg: ReturnType<typeof decodeHandshake>;
        try {
          msg = decodeHandshake(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(CodecError);
          expect(ascending).toBe(false);
          expect((e as Error).message).toMatch(/unordered version/);
          return;
        }
        expect(ascending).toBe(true);
        if (msg.type !== 'ProposeVersions') throw new Error(msg.type);
        // every known key is there, in order; nothing that is not a non-negative integer is
        expect(msg.versions.map((v) => v.version).filter((v) => v >= 14 && v <= 16)).toEqual(known);
        for (const v of msg.versions) expect(Number.isInteger(v.version) && v.version >= 0).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
