/**
 * The publishing side: spo's counters registered in a prom-client Registry under the node's names,
 * scraped (registry.metrics(), what an HTTP endpoint would serve), parsed back with spo's parser
 * and read with spo top's reader into the same numbers, for each choice of names.
 */
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { CHURN_KEYS, flattenCounters, type P2PCounters, withDerived } from '../../src/metrics/counters.js';
import { NODE_METRICS } from '../../src/metrics/node-metric-names.js';
import { parsePrometheusText, unlabelledValue } from '../../src/metrics/prometheus-text.js';
import { NodeMetricsPublisher, type PublishedNames } from '../../src/metrics/publish.js';
import { readNodeMetrics } from '../../src/metrics/read.js';
import { fetchMetricsPage } from '../../src/metrics/scrape.js';
import { startMetricsServer } from '../../src/metrics/serve.js';

/** Every quantity spo can give, each a different number. */
function fullCounters(): P2PCounters {
  let n = 1;
  const next = () => n++;
  const group = () => ({
    known: 100 + next(),
    established: 50 + next(),
    active: 10 + next(),
    promotingCold: next(),
    promotingWarm: next(),
    demotingWarm: next(),
    demotingHot: next(),
  });
  return {
    peerSelection: {
      root: next(),
      ...group(),
      bigLedger: group(),
      localRoots: { known: 9, established: 7, active: 4, promotingWarm: next(), demotingHot: next() },
      nonRoot: group(),
      bootstrap: group(),
      churn: Object.fromEntries(CHURN_KEYS.map((k) => [k, next()])),
      churnDurationS: Object.fromEntries(CHURN_KEYS.map((k) => [k, next() / 8])),
    },
    connectionManager: { inbound: 12, outbound: 48, duplex: 10, unidirectional: 38, fullDuplex: 5, prunable: 5 },
    inboundGovernor: { idle: 2, cold: 1, warm: 6, hot: 3 },
    tip: { blockNo: 11_234_567, slot: 151_234_567, epoch: 560, slotInEpoch: 301_234, density: 0.0495 },
  };
}

async function roundTrip(names: PublishedNames, counters: P2PCounters) {
  const registry = new Registry();
  const publisher = new NodeMetricsPublisher(registry, { names });
  publisher.update(counters);
  const text = await registry.metrics();
  const page = parsePrometheusText(text); // strict: prom-client's page must be valid
  return { text, page, read: readNodeMetrics(page) };
}

describe('NodeMetricsPublisher', () => {
  it.each([
    ['new', 'new'],
    ['legacy', 'legacy'],
    ['both', 'mixed'],
  ] as const)(
    'names=%s: scraped and parsed back, every value is the one given (generation %s)',
    async (names, generation) => {
      const counters = fullCounters();
      const given = withDerived(flattenCounters(counters));
      const { read } = await roundTrip(names, counters);
      expect(read.generation).toBe(generation);
      for (const m of NODE_METRICS) {
        const published = names === 'legacy' ? m.legacy !== null : names === 'new' ? m.new !== null : true;
        if (published && given.has(m.key)) expect(read.values.get(m.key), m.key).toBe(given.get(m.key));
      }
      // the quantities that only one generation has are absent in the other
      if (names === 'legacy') expect(read.values.get('peerSelection.localRoots.warmLocalRootsMetric')).toBeNull();
    },
  );

  it('writes the node names, and derives what the node derives', async () => {
    const { page } = await roundTrip('new', {
      peerSelection: { known: 150, established: 50, active: 20, localRoots: { known: 3, established: 3, active: 2 } },
      connectionManager: { inbound: 12 },
      tip: { blockNo: 42 },
    });
    expect(unlabelledValue(page, 'cardano_node_metrics_peerSelection_KnownPeers_int')).toBe(150);
    expect(unlabelledValue(page, 'cardano_node_metrics_peerSelection_Cold_int')).toBe(100);
    expect(unlabelledValue(page, 'cardano_node_metrics_peerSelection_Warm_int')).toBe(30);
    expect(unlabelledValue(page, 'cardano_node_metrics_peerSelection_Hot_int')).toBe(20);
    // the new system's swapped pair, as the node writes it
    expect(unlabelledValue(page, 'cardano_node_metrics_peerSelection_WarmLocalRoots_int')).toBe(2);
    expect(unlabelledValue(page, 'cardano_node_metrics_peerSelection_HotLocalRoots_int')).toBe(1);
    expect(unlabelledValue(page, 'cardano_node_metrics_connectionManager_inboundConns_int')).toBe(12);
    expect(unlabelledValue(page, 'cardano_node_metrics_blockNum_int')).toBe(42);
    expect(page.types.get('cardano_node_metrics_blockNum_int')).toBe('gauge');
  });

  it('publishes nothing for a quantity it was not given (no misleading zeros)', async () => {
    const { page, read } = await roundTrip('legacy', { connectionManager: { inbound: 1 } });
    expect(page.samples.map((s) => s.name)).toEqual(['cardano_node_metrics_connectionManager_incomingConns']);
    expect(read.values.get('connectionManager.outbound')).toBeNull();
  });

  it("'both' writes the tip once (its name is the same in both generations)", async () => {
    const { page } = await roundTrip('both', { tip: { blockNo: 7 }, peerSelection: { known: 3 } });
    expect(page.samples.filter((s) => s.name === 'cardano_node_metrics_blockNum_int')).toHaveLength(1);
    expect(unlabelledValue(page, 'cardano_node_metrics_peerSelection_KnownPeers')).toBe(3);
    expect(unlabelledValue(page, 'cardano_node_metrics_peerSelection_KnownPeers_int')).toBe(3);
  });

  it('an update changes the values, keeps the others, and registers nothing twice', async () => {
    const registry = new Registry();
    const publisher = new NodeMetricsPublisher(registry);
    publisher.update({ inboundGovernor: { hot: 1, warm: 2 } });
    publisher.update({ inboundGovernor: { hot: 5 } });
    const read = readNodeMetrics(parsePrometheusText(await registry.metrics()));
    expect(read.values.get('inboundGovernor.hot')).toBe(5);
    expect(read.values.get('inboundGovernor.warm')).toBe(2);
  });

  it('refuses a counter that is not in the catalogue (a bug in the caller)', () => {
    const publisher = new NodeMetricsPublisher(new Registry());
    expect(() => publisher.update({ tip: { nonsense: 1 } } as unknown as P2PCounters)).toThrow(/not a node metric/);
  });
});

describe('startMetricsServer', () => {
  it('serves the registry on /metrics as the node does (404 elsewhere, 405 for POST), on loopback', async () => {
    const registry = new Registry();
    new NodeMetricsPublisher(registry).update({ connectionManager: { inbound: 4 } });
    const server = await startMetricsServer({ registry, port: 0 });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const page = await fetchMetricsPage({ url: new URL(server.url), timeoutMs: 5000 });
      const read = readNodeMetrics(parsePrometheusText(page.text));
      expect(read.values.get('connectionManager.inbound')).toBe(4);
      const other = await request(server.url.replace('/metrics', '/'));
      expect(other.statusCode).toBe(404);
      await other.body.dump();
      const post = await request(server.url, { method: 'POST' });
      expect(post.statusCode).toBe(405);
      await post.body.dump();
    } finally {
      await server.close();
    }
  });

  it('a port in use: METRICS_LISTEN_FAILED with a hint', async () => {
    const first = await startMetricsServer({ registry: new Registry(), port: 0 });
    try {
      await expect(startMetricsServer({ registry: new Registry(), port: first.port })).rejects.toMatchObject({
        code: 'METRICS_LISTEN_FAILED',
        hint: expect.stringContaining('taken'),
      });
    } finally {
      await first.close();
    }
  });
});

describe('publish -> scrape -> parse -> read, property', () => {
  it('any subset of the quantities, any choice of names: every published value reads back as given', async () => {
    const keys = NODE_METRICS.map((m) => m.key);
    const arb = fc.record({
      names: fc.constantFrom<PublishedNames>('new', 'legacy', 'both'),
      picked: fc.subarray(keys, { minLength: 1 }),
      ints: fc.array(fc.integer({ min: 0, max: 2 ** 40 }), { minLength: keys.length, maxLength: keys.length }),
      reals: fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: keys.length, maxLength: keys.length }),
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ names, picked, ints, reals }) => {
        const counters: Record<string, unknown> = {};
        for (const key of picked) {
          const i = keys.indexOf(key);
          const m = NODE_METRICS[i] as (typeof NODE_METRICS)[number];
          const parts = key.split('.');
          let node = counters;
          for (const p of parts.slice(0, -1)) {
            if (node[p] === undefined) node[p] = {};
            node = node[p] as Record<string, unknown>;
          }
          node[parts.at(-1) as string] = m.kind === 'real' ? reals[i] : ints[i];
        }
        const given = withDerived(flattenCounters(counters as P2PCounters));
        const { read } = await roundTrip(names, counters as P2PCounters);
        for (const m of NODE_METRICS) {
          const published = names === 'legacy' ? m.legacy !== null : names === 'new' ? m.new !== null : true;
          if (published && given.has(m.key)) expect(read.values.get(m.key), m.key).toBe(given.get(m.key));
        }
      }),
      { seed: 15, numRuns: 200 },
    );
  });
});
