/**
 * A synthetic chain for `spo serve`: Conway-era (era index 6) headers with the real 10-field Praos
 * layout, linked by prev-hash, so that any decoder (ours included) reads slot, block number and hash.
 * Keys and signatures are deterministic filler bytes: nothing verifies them.
 */
import { encodeTerm, type Term } from './cbor.js';
import type { Point, Tip } from './codec/point.js';
import { blake2b256, wrapHeader } from './header.js';
import type { ChainFollower, ChainProvider, ChainUpdate } from './protocols/chain-sync/source.js';

export const SYNTHETIC_ERA = 6;

export interface ChainBlock {
  slot: number;
  blockNo: number;
  hash: Uint8Array;
  /** The wrapped header term to put in MsgRollForward. */
  header: Term;
}

function filler(seed: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * A header's bytes. `issuer` (a small number naming a synthetic pool) changes the issuer key, so
 * two producers extending the same block make different headers (a fork); without it the bytes are
 * those `spo serve` has always served (its tests and goldens depend on them).
 */
export function makeHeaderBytes(
  blockNo: number,
  slot: number,
  prevHash: Uint8Array | null,
  issuer?: number,
): Uint8Array {
  const body: Term = [
    blockNo,
    slot,
    prevHash,
    issuer === undefined ? filler(1, 32) : filler(0x1_0000 + issuer, 32), // issuer vkey
    filler(2, 32), // vrf vkey
    [filler(blockNo + 3, 64), filler(blockNo + 4, 80)], // vrf result
    0, // block body size
    filler(5, 32), // block body hash
    [filler(6, 32), 0, 0, filler(7, 64)], // operational certificate
    [10, 0], // protocol version
  ];
  return encodeTerm([body, filler(blockNo + 8, 448)]);
}

/** A chain that grows by `extend()`, served by the chain-sync responder (a `ChainProvider`). */
export class SyntheticChain implements ChainProvider {
  readonly blocks: ChainBlock[] = [];
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly startSlot = 1000,
    readonly slotsPerBlock = 20,
    /** Keep at most this many blocks (older ones are dropped; intersections before them fail). */
    readonly maxBlocks = 10_000,
  ) {}

  /** Appends the next block and wakes everybody waiting for one. */
  extend(): ChainBlock {
    const prev = this.blocks[this.blocks.length - 1];
    const blockNo = prev ? prev.blockNo + 1 : 1;
    const slot = prev ? prev.slot + this.slotsPerBlock : this.startSlot;
    const bytes = makeHeaderBytes(blockNo, slot, prev ? prev.hash : null);
    const block = { slot, blockNo, hash: blake2b256(bytes), header: wrapHeader(SYNTHETIC_ERA, bytes) };
    this.blocks.push(block);
    if (this.blocks.length > this.maxBlocks) this.blocks.shift();
    for (const l of [...this.listeners]) l();
    return block;
  }

  tip(): Tip {
    const b = this.blocks[this.blocks.length - 1];
    return b ? { point: { slot: b.slot, hash: b.hash }, blockNo: b.blockNo } : { point: null, blockNo: 0 };
  }

  /** Index of the block at a point, -1 for origin, undefined when the point is not on the chain. */
  indexOf(p: Point): number | undefined {
    if (p === null) return -1;
    for (let i = this.blocks.length - 1; i >= 0; i--) {
      const b = this.blocks[i] as ChainBlock;
      if (b.slot === p.slot && Buffer.compare(b.hash, p.hash) === 0) return i;
      if (b.slot < p.slot) break;
    }
    return undefined;
  }

  /** Called once on the next extension. */
  onExtend(f: () => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  /** A read pointer for one chain-sync session: a roll back to origin first, then the blocks in order. */
  follower(): ChainFollower {
    // block number of the last header sent (0 = origin), and a pending roll back (null = to origin)
    let pointer = 0;
    let rollback: ChainBlock | null | undefined = null;
    const offs = new Set<() => void>();
    const blockAt = (n: number): ChainBlock | undefined => {
      const first = this.blocks[0];
      return first ? this.blocks[n - first.blockNo] : undefined;
    };
    return {
      intersect: (points) => {
        for (const pt of points) {
          const i = this.indexOf(pt);
          if (i === undefined) continue;
          const found = i < 0 ? null : (this.blocks[i] as ChainBlock);
          pointer = found ? found.blockNo : 0;
          rollback = found;
          return { point: found ? { slot: found.slot, hash: found.hash } : null };
        }
        return undefined;
      },
      next: (): ChainUpdate | undefined => {
        if (rollback !== undefined) {
          const rb = rollback;
          rollback = undefined;
          return { type: 'RollBackward', point: rb ? { slot: rb.slot, hash: rb.hash } : null };
        }
        let next = blockAt(pointer + 1);
        if (!next && pointer + 1 < (this.blocks[0]?.blockNo ?? 1)) next = this.blocks[0]; // fell out of the window
        if (!next) return undefined;
        pointer = next.blockNo;
        return { type: 'RollForward', header: next.header };
      },
      onChange: (wake) => {
        const off = this.onExtend(() => {
          off();
          offs.delete(off);
          wake();
        });
        offs.add(off);
        return () => {
          off();
          offs.delete(off);
        };
      },
      close: () => {
        for (const off of offs) off();
        offs.clear();
      },
    };
  }
}
