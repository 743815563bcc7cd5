/**
 * A synthetic chain for `spo serve`: Conway-era (era index 6) headers with the real 10-field Praos
 * layout, linked by prev-hash, so that any decoder (ours included) reads slot, block number and hash.
 * Keys and signatures are deterministic filler bytes: nothing verifies them.
 */
import { encodeTerm, type Term } from './cbor.js';
import type { Point, Tip } from './codec/point.js';
import { blake2b256, wrapHeader } from './header.js';

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

export function makeHeaderBytes(blockNo: number, slot: number, prevHash: Uint8Array | null): Uint8Array {
  const body: Term = [
    blockNo,
    slot,
    prevHash,
    filler(1, 32), // issuer vkey
    filler(2, 32), // vrf vkey
    [filler(blockNo + 3, 64), filler(blockNo + 4, 80)], // vrf result
    0, // block body size
    filler(5, 32), // block body hash
    [filler(6, 32), 0, 0, filler(7, 64)], // operational certificate
    [10, 0], // protocol version
  ];
  return encodeTerm([body, filler(blockNo + 8, 448)]);
}

export class SyntheticChain {
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
}
