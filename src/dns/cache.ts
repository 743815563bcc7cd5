/**
 * The resolver's answer cache: final answers (NOERROR or NXDOMAIN) kept as the bytes received, each
 * until its TTL runs out, at most `capacity` of them.
 *
 * Two generations (as quick-lru does): answers go into the young generation; when it is full it
 * becomes the old one and the previous old one is dropped whole, so eviction is one assignment, with
 * no loop over entries; a hit in the old generation moves the answer to the young one, so what is
 * used stays. Generations start small and double up to half the capacity: the generation change
 * then already happens in the first lookups, before V8 optimizes the code around it (a branch first
 * taken in optimized code throws that code away and compiles it again, which a fresh process doing
 * bulk resolution pays for on its other core). Per question type, keyed by the name itself, so no
 * key string is made per answer.
 */

/** Size of the first generation: small, so that a generation change happens early (see above). */
const FIRST_GENERATION = 32;

export interface CachedAnswer {
  rcode: 'NOERROR' | 'NXDOMAIN';
  /** The server that gave it, as users write it. */
  server: string;
  /** The answer as received. */
  message: Buffer;
  /** Seconds it has left (rounded up). */
  remainingSec: number;
}

/** One answer (a class: one shape; fields set in the constructor, no initializer function). */
class Entry {
  declare readonly expiresAt: number;
  declare readonly rcode: 'NOERROR' | 'NXDOMAIN';
  declare readonly server: string;
  declare readonly message: Buffer;

  constructor(expiresAt: number, rcode: 'NOERROR' | 'NXDOMAIN', server: string, message: Buffer) {
    this.expiresAt = expiresAt;
    this.rcode = rcode;
    this.server = server;
    this.message = message;
  }
}

/** Type -> name -> entry. */
type Generation = Map<string, Map<string, Entry>>;

export class AnswerCache {
  private young: Generation = new Map();
  private old: Generation = new Map();
  private youngSize = 0;
  private oldSize = 0;
  private generationLimit: number;
  private readonly maxGeneration: number;

  constructor(
    readonly capacity: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.maxGeneration = Math.max(1, Math.floor(capacity / 2));
    this.generationLimit = Math.min(FIRST_GENERATION, this.maxGeneration);
  }

  /** Answers held (at most `capacity`; expired ones count until their generation is dropped). */
  get size(): number {
    return this.youngSize + this.oldSize;
  }

  /** Whether a live answer is cached (its place untouched). */
  has(type: string, name: string): boolean {
    const entry = this.young.get(type)?.get(name) ?? this.old.get(type)?.get(name);
    return entry !== undefined && entry.expiresAt > this.now();
  }

  /** The answer and the seconds it has left, or undefined when absent or expired. */
  get(type: string, name: string): CachedAnswer | undefined {
    let entry = this.young.get(type)?.get(name);
    if (entry === undefined) {
      const oldMap = this.old.get(type);
      entry = oldMap?.get(name);
      if (oldMap === undefined || entry === undefined) return undefined;
      oldMap.delete(name);
      this.oldSize--;
      if (entry.expiresAt > this.now()) this.put(type, name, entry); // used: it moves to the young generation
    }
    const left = entry.expiresAt - this.now();
    if (left <= 0) return undefined;
    return {
      rcode: entry.rcode,
      server: entry.server,
      message: entry.message,
      remainingSec: Math.ceil(left / 1000),
    };
  }

  /**
   * Keeps `message` (which must not change afterwards) for `ttlSec` seconds from `at` (default: now;
   * a caller that has just read the clock passes it). A TTL of 0 or less is not cached.
   */
  set(
    type: string,
    name: string,
    rcode: 'NOERROR' | 'NXDOMAIN',
    server: string,
    message: Buffer,
    ttlSec: number,
    at?: number,
  ): void {
    if (this.capacity <= 0 || !(ttlSec > 0)) return;
    this.put(type, name, new Entry((at ?? this.now()) + ttlSec * 1000, rcode, server, message));
  }

  clear(): void {
    this.young = new Map();
    this.old = new Map();
    this.youngSize = 0;
    this.oldSize = 0;
  }

  private put(type: string, name: string, entry: Entry): void {
    let map = this.young.get(type);
    if (map === undefined) {
      map = new Map();
      this.young.set(type, map);
    }
    const before = map.size;
    map.set(name, entry);
    if (map.size === before) return; // replaced
    // (an older answer for the name in the old generation is shadowed, and dropped with it)
    if (++this.youngSize >= this.generationLimit) {
      this.old = this.young;
      this.oldSize = this.youngSize;
      this.young = new Map();
      this.youngSize = 0;
      this.generationLimit = Math.min(this.generationLimit * 2, this.maxGeneration);
    }
  }
}
