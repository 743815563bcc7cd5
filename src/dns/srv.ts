/**
 * The SRV rule of cardano-node (DNSActions.hs, restated): targets equal to "." are dropped, only the
 * lowest priority group is kept, and a target is drawn by weight. Pure; the RNG is injected.
 */
export interface SrvRecord {
  priority: number;
  weight: number;
  port: number;
  target: string;
  ttl: number;
}

/** A uniform float in [0, 1). */
export type RandomSource = () => number;

/** Drops "." targets (the service is decidedly not available there) and keeps the lowest priority group. */
export function lowestPriorityGroup(records: readonly SrvRecord[]): SrvRecord[] {
  const usable = records.filter((r) => r.target !== '.' && r.target !== '');
  if (usable.length === 0) return [];
  const lowest = Math.min(...usable.map((r) => r.priority));
  return usable.filter((r) => r.priority === lowest);
}

/** One index drawn with probability weight / total (uniform when every weight is 0). */
export function weightedPick(group: readonly SrvRecord[], rng: RandomSource): number {
  if (group.length <= 1) return 0;
  const total = group.reduce((s, r) => s + r.weight, 0);
  if (total === 0) return Math.min(group.length - 1, Math.floor(rng() * group.length));
  const point = rng() * total;
  let cumulative = 0;
  for (let i = 0; i < group.length; i++) {
    cumulative += (group[i] as SrvRecord).weight;
    if (point < cumulative) return i;
  }
  return group.length - 1;
}

/** The whole group in weighted random order (RFC 2782 selection without replacement). */
export function weightedOrder(group: readonly SrvRecord[], rng: RandomSource): SrvRecord[] {
  const left = [...group];
  const out: SrvRecord[] = [];
  while (left.length > 0) {
    const i = weightedPick(left, rng);
    out.push(left.splice(i, 1)[0] as SrvRecord);
  }
  return out;
}
