/**
 * A TTL-honouring cache with bounded memory: entries expire at their record TTL, and the least
 * recently used entry is evicted once `capacity` entries are held (a Map keeps insertion order).
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { expiresAt: number; value: V }>();

  constructor(
    readonly capacity: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The value and the seconds it has left, or undefined when absent or expired. */
  get(key: string): { value: V; remainingSec: number } | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    const left = entry.expiresAt - this.now();
    if (left <= 0) {
      this.entries.delete(key);
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
    return { value: entry.value, remainingSec: Math.ceil(left / 1000) };
  }

  set(key: string, value: V, ttlSec: number): void {
    if (this.capacity <= 0 || ttlSec <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, { expiresAt: this.now() + ttlSec * 1000, value });
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}
