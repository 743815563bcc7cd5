/**
 * The best header chain (src/node/header-chain.ts) as properties over random block trees delivered
 * by several peers in a shuffled order: best = most blocks (ties: the one held first), every
 * follower's stream of roll forwards and roll backwards replays to the best chain, forks switch with
 * the right roll back, the window bounds what is kept, and the relay credits first arrivals.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeHeaderBytes, SYNTHETIC_ERA } from '../../src/net/chain.js';
import type { Point } from '../../src/net/codec/point.js';
import { decodeHeader, type HeaderInfo, wrapHeader } from '../../src/net/header.js';
import type { ChainSyncEvent } from '../../src/net/protocols/chain-sync/client.js';
import type { ChainFollower } from '../../src/net/protocols/chain-sync/source.js';
import { type BestChainChange, HeaderChain } from '../../src/node/header-chain.js';
import { HeaderRelay } from '../../src/node/header-relay.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const GENESIS_PREV = new Uint8Array(32).fill(0xaa);

interface Block {
  info: HeaderInfo;
  hash: string;
  parent: number; // index in the universe, -1 for the root
}

function header(blockNo: number, slot: number, prev: Uint8Array | null, issuer: number): HeaderInfo {
  return decodeHeader(wrapHeader(SYNTHETIC_ERA, makeHeaderBytes(blockNo, slot, prev, issuer)));
}

function forward(info: HeaderInfo, at = 0): ChainSyncEvent {
  return { type: 'RollForward', header: info, tip: { point: null, blockNo: 0 }, at, awaited: false };
}

/** A random block tree: mostly a line, with forks off recent blocks (`spread` back at most). */
const treeArb = (maxBlocks: number, spread: number) =>
  fc
    .array(fc.record({ back: fc.nat(spread), issuer: fc.nat(3), gap: fc.integer({ min: 1, max: 3 }) }), {
      minLength: 1,
      maxLength: maxBlocks,
    })
    .map((steps) => {
      const blocks: Block[] = [];
      const seen = new Set<string>();
      for (const [i, s] of steps.entries()) {
        const parent = i === 0 ? -1 : Math.max(0, blocks.length - 1 - s.back);
        const p = blocks[parent];
        const info = p
          ? header(p.info.blockNo + 1, p.info.slot + s.gap, p.info.hash, s.issuer)
          : header(100, 5000, GENESIS_PREV, s.issuer);
        const hash = hex(info.hash);
        if (seen.has(hash)) continue; // the same header twice: one block
        seen.add(hash);
        blocks.push({ info, hash, parent });
      }
      return blocks;
    });

/** A delivery order: each block by 1-3 peers, mostly parents first, with some out of order. */
const deliveriesArb = (blocks: Block[]) =>
  fc
    .array(
      fc.record({
        noise: fc.double({ min: 0, max: 3, noNaN: true }),
        peers: fc.subarray(['a', 'b', 'c'], { minLength: 1 }),
      }),
      {
        minLength: blocks.length,
        maxLength: blocks.length,
      },
    )
    .map((rs) =>
      rs
        .flatMap((r, i) => r.peers.map((peer, j) => ({ block: i, peer, key: i + r.noise + j * 0.7 })))
        .sort((x, y) => x.key - y.key),
    );

/** Replays a follower's stream into a list of hashes, checking each step links to the last. */
class Replay {
  hashes: string[] = [];
  /** With `chain`: a follower left behind by the window may jump to the chain's anchor. */
  constructor(
    readonly f: ChainFollower,
    readonly chain?: HeaderChain,
  ) {}
  drain(): void {
    for (let n = 0; n < 100_000; n++) {
      const u = this.f.next();
      if (!u) return;
      if (u.type === 'RollBackward') {
        if (u.point === null) this.hashes = [];
        else {
          const i = this.hashes.lastIndexOf(hex(u.point.hash));
          expect(i, 'a roll back goes to a point the follower was sent').toBeGreaterThanOrEqual(0);
          this.hashes.length = i + 1;
        }
      } else {
        const info = decodeHeader(u.header);
        const last = this.hashes[this.hashes.length - 1];
        if (last !== undefined && info.prevHash && hex(info.prevHash) !== last) {
          // only a follower the window left behind, continuing at the anchor
          expect(this.chain && hex(this.chain.bestChain()[0]?.hash ?? new Uint8Array())).toBe(hex(info.hash));
        }
        this.hashes.push(hex(info.hash));
      }
    }
    throw new Error('follower never reached the tip');
  }
}

const bestHashes = (c: HeaderChain): string[] => c.bestChain().map((b) => hex(b.hash));

describe('HeaderChain', () => {
  it('best = most blocks, ties kept; statuses, joins and followers replay the best chain', () => {
    fc.assert(
      fc.property(
        treeArb(40, 4).chain((blocks) => fc.tuple(fc.constant(blocks), deliveriesArb(blocks), fc.nat(40))),
        ([blocks, deliveries, midway]) => {
          const chain = new HeaderChain({ window: 10_000, maxOrphans: 10_000 });
          const byHash = new Map(blocks.map((b, i) => [b.hash, i]));
          const held = new Set<number>();
          const pending = new Set<number>();
          const delivered = new Set<number>();
          let anchor = -1;
          const eager = new Replay(chain.follower());
          const lazy = new Replay(chain.follower());
          let late: Replay | undefined;
          let intersecting: Replay | undefined;
          const changes: BestChainChange[] = [];
          chain.onChange((c) => changes.push(c));
          for (const [step, d] of deliveries.entries()) {
            const b = blocks[d.block] as Block;
            const tipBefore = chain.tip();
            const r = chain.receive(d.peer, forward(b.info, step), step);
            // the model: what joins is every pending block whose parent is held, transitively
            const before = new Set(held);
            const anchorNo = anchor < 0 ? -1 : (blocks[anchor] as Block).info.blockNo;
            if (delivered.has(d.block)) expect(r.status).toBe('known');
            else if (anchor >= 0 && b.info.blockNo <= anchorNo && !held.has(b.parent)) {
              // older than the anchor and not linked to it: it can never join
              expect(r.status).toBe('stale');
            } else {
              delivered.add(d.block);
              if (anchor < 0) {
                anchor = d.block;
                held.add(d.block);
              } else pending.add(d.block);
              for (let grew = true; grew; ) {
                grew = false;
                for (const i of pending) {
                  const parent = (blocks[i] as Block).parent;
                  if (parent >= 0 && held.has(parent)) {
                    pending.delete(i);
                    held.add(i);
                    grew = true;
                  }
                }
              }
              expect(r.status).toBe(held.has(d.block) ? 'new' : 'orphan');
            }
            const joined = [...held].filter((i) => !before.has(i));
            expect(new Set(r.joined.map((x) => byHash.get(hex(x.hash))))).toEqual(new Set(joined));
            for (const x of r.joined) expect(x.at).toBeLessThanOrEqual(step);
            // best = most blocks; a tie keeps the tip
            const most = Math.max(...[...held].map((i) => (blocks[i] as Block).info.blockNo));
            const tip = chain.tip();
            expect(tip.blockNo).toBe(most);
            if (tip.blockNo === tipBefore.blockNo && tipBefore.point) {
              expect(hex(tip.point?.hash ?? new Uint8Array())).toBe(hex(tipBefore.point.hash));
              expect(r.change).toBeUndefined();
            }
            // the best chain is the path from the anchor to the tip
            const path: string[] = [];
            for (let i = byHash.get(hex(tip.point?.hash ?? new Uint8Array())) ?? -1; i >= 0; ) {
              path.unshift((blocks[i] as Block).hash);
              if (i === anchor) break;
              i = (blocks[i] as Block).parent;
            }
            expect(bestHashes(chain)).toEqual(path);
            expect(chain.size).toBe(held.size);
            expect(chain.invariantErrors()).toEqual([]);
            expect(chain.orphanCount).toBe(pending.size);
            eager.drain();
            if (step % 5 === 0) lazy.drain();
            if (step === midway) late = new Replay(chain.follower());
            if (step === midway && chain.bestChain().length > 0) {
              const f = chain.follower();
              const at = f.intersect([{ slot: 1, hash: new Uint8Array(32) }, ...chain.points()]);
              expect(at?.point?.slot).toBe(chain.tip().point?.slot);
              intersecting = new Replay(f);
              intersecting.hashes = bestHashes(chain);
            }
          }
          for (const f of [eager, lazy, late, intersecting]) {
            if (!f) continue;
            f.drain();
            expect(f.hashes).toEqual(bestHashes(chain));
          }
          // each change: the old chain up to the fork point, then what was added
          for (const c of changes) {
            expect(c.added[c.added.length - 1]).toBe(c.tip);
            if (c.rolledBack > 0) expect(c.forkPoint).not.toBeNull();
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('the window: at most `window` blocks on the best chain, forks shallower than it followed as without one', () => {
    fc.assert(
      fc.property(
        treeArb(80, 6).chain((blocks) => fc.tuple(fc.constant(blocks), deliveriesArb(blocks))),
        fc.integer({ min: 1, max: 8 }),
        fc.nat(20),
        ([blocks, deliveries], window, midway) => {
          const windowed = new HeaderChain({ window });
          const whole = new HeaderChain({ window: 100_000 });
          const f = new Replay(windowed.follower(), windowed);
          let late: Replay | undefined;
          let deepest = 0;
          whole.onChange((c) => {
            deepest = Math.max(deepest, c.rolledBack);
          });
          windowed.onChange((c) => {
            expect(c.rolledBack).toBeLessThan(window);
          });
          for (const [step, d] of deliveries.entries()) {
            const b = blocks[d.block] as Block;
            whole.receive(d.peer, forward(b.info), step);
            const r = windowed.receive(d.peer, forward(b.info), step);
            expect(['new', 'known', 'orphan', 'stale']).toContain(r.status);
            expect(windowed.invariantErrors()).toEqual([]);
            expect(windowed.bestChain().length).toBeLessThanOrEqual(window);
            expect(windowed.tip().blockNo).toBeLessThanOrEqual(whole.tip().blockNo);
            if (deepest < window) {
              expect(bestHashes(windowed)).toEqual(bestHashes(whole).slice(-window));
              // what is held: the forks off the window's blocks only
              const anchorNo = windowed.bestChain()[0]?.blockNo ?? 0;
              expect(windowed.size).toBeLessThanOrEqual(blocks.filter((x) => x.info.blockNo >= anchorNo).length);
            }
            f.drain();
            if (step === midway) late = new Replay(windowed.follower(), windowed);
          }
          late?.drain();
          for (const x of [f, late]) {
            if (!x) continue;
            // a follower that kept up holds the best chain as its suffix (it may hold older blocks)
            expect(x.hashes.slice(-windowed.bestChain().length)).toEqual(bestHashes(windowed));
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a long run stays bounded: 5,000 blocks with slot battles and late deliveries, window 50', () => {
    const window = 50;
    const chain = new HeaderChain({ window, maxOrphans: 16 });
    let x = 12345;
    const rand = (n: number): number => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return (x >>> 8) % n;
    };
    const followers = [new Replay(chain.follower(), chain), new Replay(chain.follower(), chain)];
    let tip = header(1, 1, GENESIS_PREV, 0);
    const late: HeaderInfo[] = [];
    let maxSize = 0;
    for (let i = 2; i <= 5000; i++) {
      const next = header(tip.blockNo + 1, tip.slot + 1, tip.hash, 0);
      // now and then a slot battle: a second header on the same parent, delivered late
      if (rand(10) === 0) late.push(header(tip.blockNo + 1, tip.slot + 1, tip.hash, 1 + rand(3)));
      for (const peer of ['a', 'b', 'c']) chain.receive(peer, forward(next), i);
      if (late.length > 0 && rand(3) === 0) chain.receive('d', forward(late.shift() as HeaderInfo), i);
      tip = next;
      // a downstream session that comes and goes
      const f = chain.follower();
      f.intersect(chain.points());
      f.next();
      f.close();
      if (i % 7 === 0) for (const r of followers) r.drain();
      maxSize = Math.max(maxSize, chain.size);
      expect(chain.orphanCount).toBeLessThanOrEqual(16);
    }
    expect(chain.tip().blockNo).toBe(5000);
    expect(chain.bestChain()).toHaveLength(window);
    // what is held: the window and the few losing battles inside it
    expect(maxSize).toBeLessThan(window * 1.5);
    expect(chain.followerCount).toBe(2);
    expect(chain.invariantErrors()).toEqual([]);
    for (const r of followers) {
      r.drain();
      expect(r.hashes.slice(-window)).toEqual(bestHashes(chain));
    }
  });

  it('a fork switch rolls followers back to the fork point and forward along the new branch', () => {
    const chain = new HeaderChain();
    const a1 = header(10, 100, GENESIS_PREV, 0);
    const a2 = header(11, 101, a1.hash, 0);
    const a3 = header(12, 102, a2.hash, 0);
    const b3 = header(12, 103, a2.hash, 1);
    const b4 = header(13, 104, b3.hash, 1);
    const f = chain.follower();
    const seen: string[] = [];
    const drain = (): void => {
      for (let u = f.next(); u; u = f.next()) {
        if (u.type === 'RollBackward') seen.push(`back ${u.point ? u.point.slot : 'origin'}`);
        else seen.push(`fwd ${decodeHeader(u.header).slot}`);
      }
    };
    for (const h of [a1, a2, a3]) chain.receive('p', forward(h), 0);
    drain();
    expect(chain.receive('q', forward(b3), 1).change).toBeUndefined(); // a tie: the first stays
    expect(hex(chain.tip().point?.hash ?? new Uint8Array())).toBe(hex(a3.hash));
    drain();
    const r = chain.receive('q', forward(b4), 2);
    expect(r.change?.rolledBack).toBe(1);
    expect(r.change?.forkPoint?.slot).toBe(101);
    expect(r.change?.added.map((b) => b.slot)).toEqual([103, 104]);
    drain();
    expect(seen).toEqual(['back origin', 'fwd 100', 'fwd 101', 'fwd 102', 'back 101', 'fwd 103', 'fwd 104']);
    // points: newest first, exponentially spaced, ending at the anchor
    expect(chain.points().map((p: Point) => p?.slot)).toEqual([104, 103, 101, 100]);
  });

  it('mint: producers with different issuers fork on the same tip; the same issuer repeats the header', () => {
    const x = new HeaderChain();
    const y = new HeaderChain();
    const z = new HeaderChain();
    const base = x.mint(10, 1);
    for (const c of [y, z]) c.receive('x', forward(decodeHeader(base.header)), 0);
    const bx = x.mint(11, 1);
    const by = y.mint(11, 2);
    const bz = z.mint(11, 1);
    expect(hex(bx.hash)).not.toBe(hex(by.hash));
    expect(hex(bx.hash)).toBe(hex(bz.hash));
    expect(bx.blockNo).toBe(base.blockNo + 1);
    expect(bx.from).toBeUndefined();
    expect(() => x.mint(11, 1)).toThrow(RangeError);
    // a relay hearing both keeps the first, then follows whichever grows
    const relay = new HeaderChain();
    for (const b of [base, bx, by]) relay.receive('x', forward(decodeHeader(b.header)), 0);
    expect(relay.tip().point?.slot).toBe(11);
    expect(hex(relay.tip().point?.hash ?? new Uint8Array())).toBe(hex(bx.hash));
    const by2 = y.mint(12, 2);
    expect(relay.receive('y', forward(decodeHeader(by2.header)), 1).change?.rolledBack).toBe(1);
    expect(bestHashes(relay)).toEqual(bestHashes(y));
  });

  it("spo serve's header bytes are unchanged when no issuer is given", () => {
    // golden: blake2b-256 of makeHeaderBytes(1, 1000, null) as SyntheticChain has always made it
    const a = makeHeaderBytes(1, 1000, null);
    expect(Buffer.from(a).equals(Buffer.from(makeHeaderBytes(1, 1000, null, undefined)))).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(makeHeaderBytes(1, 1000, null, 0)))).toBe(false);
  });
});

describe('HeaderRelay', () => {
  it('credits the first deliverer (an orphan: when it joins, with its own arrival time), notes the later ones, counts', () => {
    const recorded: Array<[number, string, number]> = [];
    const noted: Array<[number, string]> = [];
    const relay = new HeaderRelay({
      recordHeader: (slot, peer, at) => recorded.push([slot, peer, at]),
      notePeer: (slot, peer) => noted.push([slot, peer]),
    });
    const h1 = header(1, 10, GENESIS_PREV, 0);
    const h2 = header(2, 11, h1.hash, 0);
    const h3 = header(3, 12, h2.hash, 0);
    relay.onChainSync('a', forward(h1, 100));
    relay.onChainSync('b', forward(h3, 101)); // b is ahead: h3 waits for h2
    relay.onChainSync('b', forward(h1, 102));
    relay.onChainSync('a', forward(h2, 103)); // h2 joins, and h3 with it (b's, at 101)
    relay.onChainSync('a', forward(h3, 104));
    expect(recorded).toEqual([
      [10, 'a', 100],
      [11, 'a', 103],
      [12, 'b', 101],
    ]);
    expect(noted).toEqual([
      [10, 'b'],
      [12, 'a'],
    ]);
    expect(relay.countsFor('a')).toEqual({ headers: 3, headersFirst: 2 });
    expect(relay.countsFor('b')).toEqual({ headers: 2, headersFirst: 1 });
    expect(relay.chain.tip().blockNo).toBe(3);
    relay.forget('a');
    expect(relay.countsFor('a')).toEqual({ headers: 0, headersFirst: 0 });
    expect(relay.intersectPoints().map((p) => p?.slot)).toEqual([12, 11, 10]);
  });
});
