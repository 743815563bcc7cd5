import { InputError } from './errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses `250ms`, `3s`, `1.5m`, `2h`, `1d` or a bare number of seconds into milliseconds.
 * Compound forms such as `1h30m` are accepted too.
 */
export function parseDuration(text: string, what = 'duration'): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let matched = 0;
  for (let m = part.exec(trimmed); m !== null; m = part.exec(trimmed)) {
    total += Number(m[1]) * (UNITS[m[2] as string] as number);
    matched = part.lastIndex;
  }
  if (matched === 0 || matched !== trimmed.length) {
    throw new InputError('BAD_DURATION', `invalid ${what}: "${text}"`, {
      hint: 'use a number of seconds or a value such as 250ms, 3s, 5m, 2h',
    });
  }
  return Math.round(total);
}

/** Formats milliseconds for people: 850ms, 3.2s, 5m 10s, 2h 5m. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m ${Math.round((ms % 60_000) / 1000)}s`;
  return `${Math.floor(ms / 3_600_000)}h ${Math.round((ms % 3_600_000) / 60_000)}m`;
}
