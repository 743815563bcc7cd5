/**
 * What a chain-sync responder serves, as an input: `spo serve` plugs in its synthetic chain
 * (../../chain.ts), the coming `spo run` the headers it relays. One follower per client session
 * holds that client's read pointer (wire.md §6.5: a fresh session starts at origin).
 */
import type { Term } from '../../cbor.js';
import type { Point, Tip } from '../../codec/point.js';

/** The next instruction for a client. */
export type ChainUpdate = { type: 'RollForward'; header: Term } | { type: 'RollBackward'; point: Point };

export interface ChainFollower {
  /** Moves the read pointer to the first of `points` on the chain and returns it; undefined when none is. */
  intersect(points: readonly Point[]): { point: Point } | undefined;
  /** The next instruction after the read pointer (and moves it), or undefined at the tip. */
  next(): ChainUpdate | undefined;
  /** Calls `wake` once when `next()` may have something new; returns a canceller. */
  onChange(wake: () => void): () => void;
  /** The session ended. */
  close(): void;
}

export interface ChainProvider {
  tip(): Tip;
  follower(): ChainFollower;
}

/** A chain with nothing on it: a duplex client that serves no headers still answers chain-sync. */
export const EMPTY_CHAIN: ChainProvider = {
  tip: () => ({ point: null, blockNo: 0 }),
  follower: () => {
    let rollback = true;
    return {
      intersect: (points) => {
        if (!points.some((p) => p === null)) return undefined;
        rollback = true;
        return { point: null };
      },
      next: () => {
        if (!rollback) return undefined;
        rollback = false;
        return { type: 'RollBackward', point: null };
      },
      onChange: () => () => undefined,
      close: () => undefined,
    };
  },
};
