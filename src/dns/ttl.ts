/** cardano-node clips every DNS TTL into [60 s, 900 s] (`minTTL`, `maxTTL` in DNSActions.hs). */
export const MIN_TTL_SEC = 60;
export const MAX_TTL_SEC = 900;

export function clipTtl(rawSec: number): number {
  return Math.min(MAX_TTL_SEC, Math.max(MIN_TTL_SEC, rawSec));
}
