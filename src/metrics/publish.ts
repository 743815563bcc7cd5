/**
 * The publishing side for `spo run`: spo's P2P counters registered in a prom-client Registry under
 * the names cardano-node uses, so dashboards written for the node (Grafana, gLiveView, nview, and
 * `spo top`) read spo unchanged.
 *
 * Which names (docs/metrics.md, "Publishing"):
 * - 'new' (the default): the new tracing system's names with their suffixes
 *   (`cardano_node_metrics_peerSelection_Cold_int`), what a cardano-node of 10.2 or later writes
 *   with its default tracing, and the only system left on cardano-node's master branch since June 2026.
 *   gLiveView reads these.
 * - 'legacy': the old system's names (`cardano_node_metrics_peerSelection_cold`), which nview and
 *   dashboards made for nodes before 10.2 read.
 * - 'both': every name of both; the tip's names are the same in both and appear once.
 *
 * A metric is registered when it is first given a value, so a quantity spo does not have is absent,
 * as on a node whose tracer for it is off, rather than a misleading 0. (A metric first set inside a
 * prom-client `collect` hook joins the scrape after; update before serving, or on spo's own events.)
 */
import { Gauge, type Registry } from 'prom-client';
import { flattenCounters, type P2PCounters, withDerived } from './counters.js';
import { NODE_METRICS, type NodeMetric, prometheusNames } from './node-metric-names.js';

export type PublishedNames = 'new' | 'legacy' | 'both';

export const DEFAULT_PUBLISHED_NAMES: PublishedNames = 'new';

export interface NodeMetricsPublisherOptions {
  names?: PublishedNames;
}

export class NodeMetricsPublisher {
  private readonly names: PublishedNames;
  private readonly gauges = new Map<string, Gauge>();
  private readonly byKey = new Map<string, NodeMetric>(NODE_METRICS.map((m) => [m.key, m]));

  constructor(
    private readonly registry: Registry,
    options: NodeMetricsPublisherOptions = {},
  ) {
    this.names = options.names ?? DEFAULT_PUBLISHED_NAMES;
  }

  /** The Prometheus names one quantity is published under with this publisher's choice of names. */
  namesOf(key: string): string[] {
    const m = this.byKey.get(key);
    if (!m) throw new Error(`not a node metric: ${key}`);
    const n = prometheusNames(m);
    const out: string[] = [];
    if ((this.names === 'new' || this.names === 'both') && n.new) out.push(n.new);
    if ((this.names === 'legacy' || this.names === 'both') && n.legacy && !out.includes(n.legacy)) out.push(n.legacy);
    return out;
  }

  /**
   * Sets every value given (and what the node derives from them: cold/warm/hot, the new system's
   * local-root pair); quantities left out keep their last value.
   */
  update(counters: P2PCounters): void {
    for (const [key, value] of withDerived(flattenCounters(counters))) {
      const m = this.byKey.get(key) as NodeMetric;
      for (const name of this.namesOf(key)) this.gauge(name, m).set(value);
    }
  }

  private gauge(name: string, m: NodeMetric): Gauge {
    let g = this.gauges.get(name);
    if (!g) {
      g = new Gauge({ name, help: m.help, registers: [this.registry] });
      this.gauges.set(name, g);
    }
    return g;
  }
}
