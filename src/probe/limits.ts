/** Local limits the scheduler must respect: open files (each attempt holds one socket). */
import { readFileSync } from 'node:fs';

/** Sockets kept free for everything else the process has open (DNS, stdio, files). */
export const FD_RESERVE = 128;

/** Attempts in flight by default: enough that a mainnet-sized registry takes about one timeout. */
export const DEFAULT_CONCURRENCY = 2000;

/** The soft limit of open files of this process (Linux /proc), or undefined when unknown. */
export function openFileLimit(): number | undefined {
  try {
    const text = readFileSync('/proc/self/limits', 'utf8');
    const m = /^Max open files\s+(\d+|unlimited)\s+/m.exec(text);
    if (!m) return undefined;
    return m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1]);
  } catch {
    return undefined;
  }
}

/** The concurrency to use: the one asked for (or the default), capped by the open-file limit. */
export function effectiveConcurrency(
  asked: number | undefined,
  limit = openFileLimit(),
): { value: number; capped: boolean } {
  const want = asked ?? DEFAULT_CONCURRENCY;
  if (limit === undefined || !Number.isFinite(limit)) return { value: want, capped: false };
  const room = Math.max(1, limit - FD_RESERVE);
  return want > room ? { value: room, capped: true } : { value: want, capped: false };
}
