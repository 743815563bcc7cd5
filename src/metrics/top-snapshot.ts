/**
 * One refresh of `spo top` as data: the quantities read from a node's page, nested as the JSON line
 * prints them (docs/json.md, `spo top`), with what the page was. Pure.
 */
import { nestValues } from './counters.js';
import { type MetricsPage, parsePrometheusText } from './prometheus-text.js';
import { type PageGeneration, type ReadResult, readNodeMetrics } from './read.js';

export interface TopSnapshot {
  event: 'snapshot';
  /** 1, 2, ... for every refresh, failed ones included. */
  seq: number;
  /** Wall-clock time of the scrape, ISO 8601 UTC. */
  time: string;
  url: string;
  generation: PageGeneration;
  /** Time from sending the request to having parsed the page. */
  scrapeMs: number;
  bytes: number;
  samples: number;
  /** Samples named cardano_node_metrics_*. */
  nodeSamples: number;
  /** Lines that are not valid exposition format, left out. */
  invalidLines: number;
  /** Catalogue keys read -> the Prometheus name each was read from (only with --verbose). */
  readFrom?: Record<string, string>;
  peerSelection: Record<string, unknown>;
  connectionManager: Record<string, unknown>;
  inboundGovernor: Record<string, unknown>;
  tip: Record<string, unknown>;
}

export interface SnapshotInput {
  seq: number;
  time: string;
  url: string;
  text: string;
  bytes: number;
  scrapeMs: number;
  withReadFrom?: boolean;
}

export interface ParsedSnapshot {
  snapshot: TopSnapshot;
  page: MetricsPage;
  read: ReadResult;
}

/** Parses a page (invalid lines skipped and counted) and reads the node's quantities from it. */
export function snapshotFromPage(input: SnapshotInput): ParsedSnapshot {
  const page = parsePrometheusText(input.text, { invalidLines: 'skip' });
  const read = readNodeMetrics(page);
  const nested = nestValues(read.values) as Record<string, Record<string, unknown>>;
  const snapshot: TopSnapshot = {
    event: 'snapshot',
    seq: input.seq,
    time: input.time,
    url: input.url,
    generation: read.generation,
    scrapeMs: input.scrapeMs,
    bytes: input.bytes,
    samples: page.samples.length,
    nodeSamples: read.nodeSamples,
    invalidLines: page.invalidCount,
    ...(input.withReadFrom ? { readFrom: Object.fromEntries(read.readFrom) } : {}),
    peerSelection: nested.peerSelection ?? {},
    connectionManager: nested.connectionManager ?? {},
    inboundGovernor: nested.inboundGovernor ?? {},
    tip: nested.tip ?? {},
  };
  return { snapshot, page, read };
}

/** A page that holds no sample at all but has lines: not a metrics page (an HTML page, say). */
export function looksLikeNoMetrics(page: MetricsPage): boolean {
  return page.samples.length === 0 && page.invalidCount > 0;
}
