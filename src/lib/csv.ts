/**
 * One RFC 4180 CSV field. Text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first)
 * gets a leading `'`: registry data is written by strangers (pool operators name their own relays).
 * Numbers are written as they are, so a negative slot lag stays a number.
 */
export function csvField(v: unknown): string {
  if (v === undefined || v === null) return '';
  const s = String(v);
  const safe = typeof v === 'string' && /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
