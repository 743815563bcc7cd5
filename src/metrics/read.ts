/**
 * Reading a node's P2P quantities out of a parsed metrics page, whichever generation of names the
 * node writes (src/metrics/node-metric-names.ts). Pure: a page in, values out.
 *
 * The generation is told by the names that only one spelling has (the tip's names are the same in
 * both, the counters record's names differ only by the suffix): the spelling with the most such
 * names present wins; a page with names of two spellings (spo run publishing both) is 'mixed' and
 * read new-first. Each quantity is then read under the winner's name, falling back to the other
 * spellings, so a node that mixes them still shows every value it publishes.
 */
import { NODE_METRICS, type NodeMetric, type PrometheusNames, prometheusNames } from './node-metric-names.js';
import { type MetricsPage, unlabelledValues } from './prometheus-text.js';

/** Which names a page uses: legacy tracing, new tracing with or without suffixes, several, or none known. */
export type PageGeneration = 'legacy' | 'new' | 'new-nosuffix' | 'mixed' | 'unknown';

type Spelling = 'legacy' | 'new' | 'new-nosuffix';
const SPELLINGS: readonly Spelling[] = ['legacy', 'new', 'new-nosuffix'];

interface Candidates {
  metric: NodeMetric;
  bySpelling: Record<Spelling, string[]>;
}

const CANDIDATES: readonly Candidates[] = NODE_METRICS.map((metric) => {
  const n: PrometheusNames = prometheusNames(metric);
  const documented = n.newDocumented;
  return {
    metric,
    bySpelling: {
      legacy: [...(n.legacy ? [n.legacy] : []), ...n.legacyAliases],
      new: [...(n.new ? [n.new] : []), ...documented.filter((d) => /_(int|real|counter)$/.test(d))],
      'new-nosuffix': [
        ...(n.newNoSuffix ? [n.newNoSuffix] : []),
        ...documented.filter((d) => !/_(int|real|counter)$/.test(d)),
      ],
    },
  };
});

/** Names that identify one spelling: present in it and in no other. */
const DISTINCT: Record<Spelling, Set<string>> = (() => {
  const all: Record<Spelling, Set<string>> = { legacy: new Set(), new: new Set(), 'new-nosuffix': new Set() };
  for (const c of CANDIDATES) for (const s of SPELLINGS) for (const name of c.bySpelling[s]) all[s].add(name);
  const distinct: Record<Spelling, Set<string>> = { legacy: new Set(), new: new Set(), 'new-nosuffix': new Set() };
  for (const s of SPELLINGS) {
    for (const name of all[s]) {
      if (SPELLINGS.every((o) => o === s || !all[o].has(name))) distinct[s].add(name);
    }
  }
  return distinct;
})();

export interface ReadResult {
  generation: PageGeneration;
  /** Catalogue key -> value; null when the page has none of its names. */
  values: Map<string, number | null>;
  /** Catalogue key -> the Prometheus name the value was read from. */
  readFrom: Map<string, string>;
  /** Number of samples in the page whose names start with cardano_node_metrics_. */
  nodeSamples: number;
}

export function detectGeneration(present: ReadonlySet<string> | ReadonlyMap<string, number>): PageGeneration {
  const score: Record<Spelling, number> = { legacy: 0, new: 0, 'new-nosuffix': 0 };
  for (const s of SPELLINGS) for (const name of DISTINCT[s]) if (present.has(name)) score[s]++;
  const found = SPELLINGS.filter((s) => score[s] > 0);
  if (found.length === 0) return 'unknown';
  if (found.length > 1) return 'mixed';
  return found[0] as Spelling;
}

export function readNodeMetrics(page: MetricsPage): ReadResult {
  const present = unlabelledValues(page);
  const generation = detectGeneration(present);
  const order: readonly Spelling[] =
    generation === 'legacy'
      ? ['legacy', 'new', 'new-nosuffix']
      : generation === 'new-nosuffix'
        ? ['new-nosuffix', 'new', 'legacy']
        : ['new', 'new-nosuffix', 'legacy'];
  const values = new Map<string, number | null>();
  const readFrom = new Map<string, string>();
  for (const c of CANDIDATES) {
    let value: number | null = null;
    for (const s of order) {
      const name = c.bySpelling[s].find((n) => present.has(n));
      if (name !== undefined) {
        value = present.get(name) as number;
        readFrom.set(c.metric.key, name);
        break;
      }
    }
    values.set(c.metric.key, value);
  }
  let nodeSamples = 0;
  for (const s of page.samples) if (s.name.startsWith('cardano_node_metrics_')) nodeSamples++;
  return { generation, values, readFrom, nodeSamples };
}
