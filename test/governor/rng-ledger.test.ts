import { describe, expect, it } from 'vitest';
import { bigLedgerPools, pickBigLedgerPeers, pickLedgerPeers } from '../../src/governor/ledger-peers.js';
import { createRng, rngFromState, shuffled } from '../../src/governor/rng.js';

describe('rng', () => {
  it('is reproducible from its seed and differs between seeds', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const xs = Array.from({ length: 20 }, () => a.nextU32());
    expect(Array.from({ length: 20 }, () => b.nextU32())).toEqual(xs);
    expect(Array.from({ length: 20 }, () => c.nextU32())).not.toEqual(xs);
  });

  it('draws floats in [0,1) with a plausible mean, and restores from state', () => {
    const r = createRng(7);
    let sum = 0;
    for (let i = 0; i < 10000; i++) {
      const x = r.next();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      sum += x;
    }
    expect(sum / 10000).toBeGreaterThan(0.48);
    expect(sum / 10000).toBeLessThan(0.52);
    const copy = rngFromState(r.state());
    expect(copy.nextU32()).toBe(r.nextU32());
  });

  it('is sfc32 seeded through splitmix32: the same words as the algorithm written with plain numbers', () => {
    // The generator as it was first written here (state in four number fields, `>>> 0` after each
    // step): the typed-array version must draw exactly the same words, through split and restore.
    const splitmix = (seed: number) => {
      let s = seed >>> 0;
      return () => {
        s = (s + 0x9e3779b9) >>> 0;
        let z = s;
        z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
        z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
        return (z ^ (z >>> 16)) >>> 0;
      };
    };
    const plain = (seed: number) => {
      const sm = splitmix(seed);
      let a = sm();
      let b = sm();
      let c = sm();
      let d = sm();
      const next = () => {
        const t = (((a + b) >>> 0) + d) >>> 0;
        d = (d + 1) >>> 0;
        a = b ^ (b >>> 9);
        b = (c + (c << 3)) >>> 0;
        c = ((c << 21) | (c >>> 11)) >>> 0;
        c = (c + t) >>> 0;
        return t;
      };
      for (let i = 0; i < 12; i++) next();
      return next;
    };
    for (const seed of [0, 1, 7, 42, 0x7fffffff, 0xffffffff, -5]) {
      const r = createRng(seed);
      const p = plain(seed);
      for (let i = 0; i < 5_000; i++) expect(r.nextU32()).toBe(p());
      const child = r.split();
      const q = plain(p() ^ Math.imul(p(), 0x27d4eb2d));
      for (let i = 0; i < 1_000; i++) expect(child.nextU32()).toBe(q());
      const copy = rngFromState(r.state());
      for (let i = 0; i < 1_000; i++) expect(copy.nextU32()).toBe(p());
    }
  });

  it('shuffles a permutation', () => {
    const xs = Array.from({ length: 50 }, (_, i) => i);
    const s = shuffled(xs, createRng(1));
    expect([...s].sort((x, y) => x - y)).toEqual(xs);
    expect(s).not.toEqual(xs);
  });
});

describe('ledger-peer picking', () => {
  const pools = [
    { id: 'big', stake: 0.64, relays: ['b1', 'b2'] },
    { id: 'mid', stake: 0.32, relays: ['m1'] },
    { id: 'small', stake: 0.04, relays: ['s1'] },
    { id: 'nostake', relays: ['n1'] },
    { id: 'norelay', stake: 0.1, relays: [] },
  ];

  it('weights by the square root of stake', () => {
    const rng = createRng(3);
    const counts = new Map<string, number>();
    for (let i = 0; i < 20000; i++) {
      for (const p of pickLedgerPeers(pools, 1, rng)) counts.set(p.poolId, (counts.get(p.poolId) ?? 0) + 1);
    }
    // sqrt weights 0.8 : ~0.566 : 0.2 -> shares 0.511 : 0.361 : 0.128 (linear would be 0.64 : 0.32 : 0.04)
    const share = (id: string) => (counts.get(id) ?? 0) / 20000;
    expect(share('big')).toBeGreaterThan(0.49);
    expect(share('big')).toBeLessThan(0.53);
    expect(share('small')).toBeGreaterThan(0.11);
    expect(share('small')).toBeLessThan(0.145);
    expect(counts.has('nostake')).toBe(false);
    expect(counts.has('norelay')).toBe(false);
  });

  it('collapses duplicates and picks at most one relay per pool', () => {
    const got = pickLedgerPeers(pools, 50, createRng(9));
    expect(new Set(got.map((p) => p.poolId)).size).toBe(got.length);
    expect(got.length).toBeLessThanOrEqual(3);
  });

  it('big ledger pools stop after the pool crossing 90% of stake', () => {
    // relative stakes: 0.64 < 0.9, then 0.64 + 0.32 crosses the quota and mid is kept
    expect(bigLedgerPools(pools).map((p) => p.id)).toEqual(['big', 'mid']);
    const picked = pickBigLedgerPeers(pools, 10, createRng(5)).map((p) => p.poolId);
    expect(picked.every((id) => id === 'big' || id === 'mid')).toBe(true);
  });
});
