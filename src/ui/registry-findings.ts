/**
 * The hygiene summary `spo relays list` prints on standard error: each finding code with its count
 * and what that count means, since "121 shared-endpoint" alone does not tell a newcomer whether
 * anything is wrong. Counted over the whole registry read, not only the rows shown.
 */
import { counted } from '../lib/plural.js';

/** What one finding of each code is (the count's noun) and, briefly, what it means. */
const MEANING: Record<string, { one: string; many: string; means: string }> = {
  'lower-cased': {
    one: 'name',
    many: 'names',
    means: 'registered with capitals; DNS ignores case, so shown lower-cased',
  },
  'trailing-dot': { one: 'name', many: 'names', means: 'registered with a trailing dot; shown without it' },
  'srv-prefixed': {
    one: 'SRV name',
    many: 'SRV names',
    means: 'already carrying a service prefix; looked up under _cardano._tcp. as the node does',
  },
  'duplicate-relay': { one: 'relay', many: 'relays', means: 'registered twice by the same pool; shown once' },
  'shared-endpoint': {
    one: 'endpoint',
    many: 'endpoints',
    means: 'registered by several pools (often one operator running them); not an error',
  },
  'no-relays': { one: 'pool', many: 'pools', means: 'registering no relay at all' },
  'network-mismatch': { one: 'source', many: 'sources', means: 'of another network than --network' },
};

/** Relay flags that make a relay unreachable for other nodes (registry/hygiene.ts FLAG_TEXT). */
const UNUSABLE =
  /^(unspecified|loopback|private|unique-local|link-local|shared-address-space|documentation|multicast|reserved|invalid-port|malformed-name|malformed-address)$/;

/** One line per finding code, most frequent first; empty when there are none. */
export function findingsSummary(byCode: Readonly<Record<string, number>>, totalPools: number): string[] {
  const codes = Object.entries(byCode).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  if (codes.length === 0) return [];
  const lines = [
    `hygiene findings over all ${counted(totalPools, 'pool')} read (each with its pool and relay in --json):`,
  ];
  for (const [code, n] of codes) {
    const m = MEANING[code];
    const text = m
      ? `${n === 1 ? m.one : m.many} ${m.means}`
      : UNUSABLE.test(code)
        ? `${n === 1 ? 'relay' : 'relays'} other nodes cannot reach (${code}); FLAGS marks them`
        : `${n === 1 ? 'finding' : 'findings'} of this kind`;
    lines.push(`  ${n} ${code}: ${text}`);
  }
  return lines;
}
