/**
 * A seeded pseudo-random number generator (sfc32 seeded through splitmix32), injected everywhere
 * the governor needs randomness so that a run is reproducible from its seed. The reference splits
 * a StdGen for every random use; we only keep that "any good PRNG" property (§14.1), and every fuzz
 * range of the reference.
 */
export interface Rng {
  /** A uniform float in [0, 1). */
  next(): number;
  /** A uniform 32-bit unsigned integer (the reference draws a Word32 per candidate). */
  nextU32(): number;
  /** A uniform float in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** A uniform integer in [0, n). */
  int(n: number): number;
  /** true with probability p. */
  chance(p: number): boolean;
  /** An independent generator derived from this one (the reference's `split`). */
  split(): Rng;
  /** The internal state, to snapshot and restore a generator. */
  state(): [number, number, number, number];
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

class Sfc32 implements Rng {
  /**
   * The four state words, unsigned. In a typed array: as object fields, the words at or above 2^31
   * were numbers boxed on the heap, and every draw allocated (megabytes per simulated day).
   */
  private readonly w = new Uint32Array(4);

  constructor(a: number, b: number, c: number, d: number) {
    const w = this.w;
    w[0] = a;
    w[1] = b;
    w[2] = c;
    w[3] = d;
  }

  nextU32(): number {
    // Stores into the Uint32Array reduce modulo 2^32, as `>>> 0` did.
    const w = this.w;
    const a = w[0] as number;
    const b = w[1] as number;
    const c = w[2] as number;
    const d = w[3] as number;
    const t = (((a + b) >>> 0) + d) >>> 0;
    w[3] = d + 1;
    w[0] = b ^ (b >>> 9);
    w[1] = c + (c << 3);
    w[2] = (((c << 21) | (c >>> 11)) >>> 0) + t;
    return t;
  }

  next(): number {
    return this.nextU32() / 4294967296;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  split(): Rng {
    return createRng(this.nextU32() ^ Math.imul(this.nextU32(), 0x27d4eb2d));
  }

  state(): [number, number, number, number] {
    const w = this.w;
    return [w[0] as number, w[1] as number, w[2] as number, w[3] as number];
  }
}

/** A generator from a numeric seed (any integer; only its low 32 bits matter). */
export function createRng(seed: number): Rng {
  const sm = splitmix32(Number.isFinite(seed) ? Math.trunc(seed) : 0);
  const rng = new Sfc32(sm(), sm(), sm(), sm());
  for (let i = 0; i < 12; i++) rng.nextU32(); // warm up
  return rng;
}

/** Restores a generator from `state()`. */
export function rngFromState(state: readonly [number, number, number, number]): Rng {
  return new Sfc32(state[0], state[1], state[2], state[3]);
}

/** Fisher-Yates shuffle of a copy, driven by the injected generator. */
export function shuffled<T>(items: readonly T[], rng: Rng): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const tmp = out[i] as T;
    out[i] = out[j] as T;
    out[j] = tmp;
  }
  return out;
}
