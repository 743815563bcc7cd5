/**
 * Figures in `--json` (docs/json.md): three decimals. A measured duration's binary tail
 * (4.046294999999986) is noise below a microsecond that only makes jq output and diffs unreadable.
 * Integers pass through unchanged; a non-finite value stays as it is (JSON writes it as null).
 */
export function round3(x: number): number {
  if (!Number.isFinite(x) || Number.isInteger(x)) return x;
  const r = Math.round(x * 1000) / 1000;
  return r === 0 ? 0 : r; // no -0
}
