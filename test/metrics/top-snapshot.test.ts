/**
 * Reading the synthetic pages of each generation (test/fixtures/metrics, built from the names
 * found in cardano-node's sources) into spo top's snapshot: the generation is told right and every
 * value comes out as the node would mean it, whichever spelling the page uses.
 */
import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../../src/metrics/prometheus-text.js';
import { readNodeMetrics } from '../../src/metrics/read.js';
import { looksLikeNoMetrics, snapshotFromPage } from '../../src/metrics/top-snapshot.js';
import { legacyPage, newPage } from '../fixtures/metrics/make-fixtures.js';
import { fixture } from './page-server.js';

const snap = (text: string) =>
  snapshotFromPage({
    seq: 1,
    time: '2026-12-05T10:00:00.000Z',
    url: 'http://x/metrics',
    text,
    bytes: text.length,
    scrapeMs: 1,
  });

describe('spo top snapshot from a page', () => {
  it('the fixtures are what make-fixtures.ts writes (regenerate them if this fails)', () => {
    expect(fixture('legacy-10.5.3.prom')).toBe(legacyPage());
    expect(fixture('new-10.5.3.prom')).toBe(newPage());
  });

  it.each([
    ['legacy-10.5.3.prom', 'legacy'],
    ['new-10.5.3.prom', 'new'],
    ['new-10.5.3-nosuffix.prom', 'new-nosuffix'],
  ] as const)('%s: generation %s, the same numbers', (file, generation) => {
    const { snapshot } = snap(fixture(file));
    expect(snapshot.generation).toBe(generation);
    expect(snapshot.invalidLines).toBe(0);
    expect(snapshot.peerSelection).toMatchObject({
      known: 150,
      established: 50,
      active: 20,
      cold: 100,
      warm: 30,
      hot: 20,
      root: 7,
      bigLedger: { known: 40, established: 15, active: 5, cold: 25, warm: 10, hot: 5 },
      localRoots: { known: 3, established: 3, active: 2 },
      nonRoot: { known: 143, established: 47, active: 18 },
      bootstrap: { known: 0, established: 0, active: 0 },
      churn: { decreasedActivePeers: 12, increasedKnownPeers: 11 },
      churnDurationS: { decreasedActivePeers: 0.125, increasedKnownPeers: 2.5 },
    });
    expect(snapshot.connectionManager).toEqual({
      inbound: 12,
      outbound: 48,
      duplex: 10,
      unidirectional: 50,
      fullDuplex: 5,
      prunable: null,
    });
    expect(snapshot.inboundGovernor).toEqual({ idle: 2, cold: 1, warm: 6, hot: 3 });
    expect(snapshot.tip).toEqual({
      blockNo: 11_234_567,
      slot: 151_234_567,
      epoch: 560,
      slotInEpoch: 301_234,
      density: 0.0495,
    });
    // the new system's swapped pair: present only there, with the node's meaning
    const lr = snapshot.peerSelection.localRoots as Record<string, unknown>;
    if (generation === 'legacy') expect(lr.warmLocalRootsMetric).toBeNull();
    else expect([lr.warmLocalRootsMetric, lr.hotLocalRootsMetric]).toEqual([2, 1]);
  });

  it('an older legacy node: prunableConns (the full-duplex count before 10.4), inbound-governor before 1.33', () => {
    const read = readNodeMetrics(
      parsePrometheusText(
        [
          'cardano_node_metrics_peerSelection_cold 10',
          'cardano_node_metrics_connectionManager_prunableConns 4',
          'cardano_node_metrics_connectionManager_incomingConns 3',
          'cardano_node_metrics_inbound_governor_warm 2',
          'cardano_node_metrics_inbound_governor_hot 1',
        ].join('\n'),
      ),
    );
    expect(read.generation).toBe('legacy');
    expect(read.values.get('connectionManager.fullDuplex')).toBe(4);
    expect(read.values.get('connectionManager.prunable')).toBe(4);
    expect(read.values.get('inboundGovernor.warm')).toBe(2);
    expect(read.readFrom.get('inboundGovernor.hot')).toBe('cardano_node_metrics_inbound_governor_hot');
  });

  it('the new system documents inboundGovernor.Idle; read if a release writes it', () => {
    const read = readNodeMetrics(parsePrometheusText('cardano_node_metrics_inboundGovernor_Idle_int 5\n'));
    expect(read.values.get('inboundGovernor.idle')).toBe(5);
  });

  it('a page with the tip only (P2P tracers off) is "unknown" but shows the tip', () => {
    const { snapshot } = snap('cardano_node_metrics_blockNum_int 5\ncardano_node_metrics_slotNum_int 9\n');
    expect(snapshot.generation).toBe('unknown');
    expect(snapshot.tip).toMatchObject({ blockNo: 5, slot: 9, epoch: null });
    expect(snapshot.peerSelection.known).toBeNull();
  });

  it('one invalid line is skipped and counted; an HTML page has no metrics', () => {
    const { snapshot } = snap('cardano_node_metrics_peerSelection_Cold_int 4\nbroken line here\n');
    expect(snapshot.invalidLines).toBe(1);
    expect(snapshot.peerSelection.cold).toBe(4);
    const html = snap('<html>\n<body>nodes</body>\n</html>\n');
    expect(looksLikeNoMetrics(html.page)).toBe(true);
    expect(looksLikeNoMetrics(snap('').page)).toBe(false);
  });
});
