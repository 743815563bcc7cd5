/**
 * The catalogue of the node's metric names: the two naming rules give exactly the names read in
 * cardano-node's sources (docs/metrics.md), names are unique per spelling, the readers SPOs use
 * (gLiveView's patterns, nview's names, restated from their sources) find them, and docs/metrics.md
 * lists every one.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  legacyPrometheusName,
  NODE_METRICS,
  newPrometheusName,
  nodeMetric,
  prometheusNames,
} from '../../src/metrics/node-metric-names.js';
import { detectGeneration } from '../../src/metrics/read.js';

const names = (key: string) => prometheusNames(nodeMetric(key));

describe('node metric names', () => {
  it('the legacy exporter rule: dots and dashes become _, digits and other characters go', () => {
    expect(legacyPrometheusName('cardano.node.metrics.inbound-governor.warm')).toBe(
      'cardano_node_metrics_inbound_governor_warm',
    );
    expect(legacyPrometheusName('rts.gc.bytes2.x')).toBe('rts_gc_bytes_x');
  });

  it('the new exposition rule: prefix, suffix by kind, digits kept', () => {
    expect(newPrometheusName('peerSelection.Cold', 'int')).toBe('cardano_node_metrics_peerSelection_Cold_int');
    expect(newPrometheusName('density', 'real', false)).toBe('cardano_node_metrics_density');
    expect(newPrometheusName('a2.b', 'counter')).toBe('cardano_node_metrics_a2_b_counter');
  });

  it.each([
    ['peerSelection.cold', 'cardano_node_metrics_peerSelection_cold', 'cardano_node_metrics_peerSelection_Cold_int'],
    [
      'peerSelection.bigLedger.hot',
      'cardano_node_metrics_peerSelection_hotBigLedgerPeers',
      'cardano_node_metrics_peerSelection_HotBigLedgerPeers_int',
    ],
    [
      'peerSelection.known',
      'cardano_node_metrics_peerSelection_KnownPeers',
      'cardano_node_metrics_peerSelection_KnownPeers_int',
    ],
    [
      'peerSelection.localRoots.demotingHot',
      'cardano_node_metrics_peerSelection_ActiveLocalRootPeersDemotions',
      'cardano_node_metrics_peerSelection_ActiveLocalRootPeersDemotions_int',
    ],
    [
      'peerSelection.bootstrap.promotingCold',
      'cardano_node_metrics_peerSelection_ColdBootstrapPeersPromotions',
      'cardano_node_metrics_peerSelection_ColdBootstrapPeersPromotions_int',
    ],
    [
      'peerSelection.churn.decreasedActivePeers',
      'cardano_node_metrics_peerSelection_churn_DecreasedActivePeers',
      'cardano_node_metrics_peerSelection_churn_DecreasedActivePeers_int',
    ],
    [
      'peerSelection.churnDurationS.increasedKnownBigLedgerPeers',
      'cardano_node_metrics_peerSelection_churn_IncreasedKnownBigLedgerPeers_duration',
      'cardano_node_metrics_peerSelection_churnIncreasedKnownBigLedgerPeers_duration_real',
    ],
    [
      'connectionManager.inbound',
      'cardano_node_metrics_connectionManager_incomingConns',
      'cardano_node_metrics_connectionManager_inboundConns_int',
    ],
    [
      'connectionManager.outbound',
      'cardano_node_metrics_connectionManager_outgoingConns',
      'cardano_node_metrics_connectionManager_outboundConns_int',
    ],
    [
      'connectionManager.fullDuplex',
      'cardano_node_metrics_connectionManager_fullDuplexConns',
      'cardano_node_metrics_connectionManager_fullDuplexConns_int',
    ],
    [
      'inboundGovernor.idle',
      'cardano_node_metrics_inboundGovernor_idle',
      'cardano_node_metrics_inboundGovernor_idle_int',
    ],
    ['tip.blockNo', 'cardano_node_metrics_blockNum_int', 'cardano_node_metrics_blockNum_int'],
    ['tip.slot', 'cardano_node_metrics_slotNum_int', 'cardano_node_metrics_slotNum_int'],
    ['tip.epoch', 'cardano_node_metrics_epoch_int', 'cardano_node_metrics_epoch_int'],
    ['tip.density', 'cardano_node_metrics_density_real', 'cardano_node_metrics_density_real'],
  ])('%s is %s (legacy) and %s (new)', (key, legacy, neu) => {
    expect(names(key).legacy).toBe(legacy);
    expect(names(key).new).toBe(neu);
  });

  it('records the spellings that differ by release or by documentation', () => {
    expect(names('connectionManager.fullDuplex').legacyAliases).toEqual([
      'cardano_node_metrics_connectionManager_prunableConns',
    ]);
    expect(names('connectionManager.prunable').new).toBeNull();
    expect(names('connectionManager.prunable').newDocumented).toContain(
      'cardano_node_metrics_connectionManager_prunableConns_int',
    );
    expect(names('inboundGovernor.warm').legacyAliases).toEqual(['cardano_node_metrics_inbound_governor_warm']);
    expect(names('inboundGovernor.hot').newDocumented).toContain('cardano_node_metrics_inboundGovernor_Hot_int');
    expect(names('peerSelection.localRoots.warmLocalRootsMetric').new).toBe(
      'cardano_node_metrics_peerSelection_WarmLocalRoots_int',
    );
    expect(names('peerSelection.localRoots.warmLocalRootsMetric').legacy).toBeNull();
    expect(names('peerSelection.hot').newNoSuffix).toBe('cardano_node_metrics_peerSelection_Hot');
  });

  it('keys and names are unique within each spelling', () => {
    const keys = NODE_METRICS.map((m) => m.key);
    expect(new Set(keys).size).toBe(keys.length);
    const all = NODE_METRICS.map(prometheusNames);
    for (const spelling of ['legacy', 'new', 'newNoSuffix'] as const) {
      const list = all.map((n) => n[spelling]).filter((n): n is string => n !== null);
      expect(new Set(list).size, spelling).toBe(list.length);
    }
  });

  it("gLiveView's patterns (guild-operators scripts/cnode-helper-scripts/env) match both generations", () => {
    // the patterns of its getNodeMetrics, restated as regular expressions over one name
    const patterns: Array<[string, RegExp]> = [
      ['tip.blockNo', /^cardano_node_metrics_blockNum_int$/],
      ['tip.epoch', /^cardano_node_metrics_epoch_int$/],
      ['tip.slot', /^cardano_node_metrics_slotNum_int$/],
      ['tip.density', /^cardano_node_metrics_density_real$/],
      ['peerSelection.cold', /^cardano_node_metrics_peerSelection_[cC]old(_int|)$/],
      ['peerSelection.warm', /^cardano_node_metrics_peerSelection_[wW]arm(_int|)$/],
      ['peerSelection.hot', /^cardano_node_metrics_peerSelection_[hH]ot(_int|)$/],
      ['connectionManager.inbound', /^cardano_node_metrics_connectionManager_(incoming|inbound)Conns(_int|)$/],
      ['connectionManager.outbound', /^cardano_node_metrics_connectionManager_(outgoing|outbound)Conns(_int|)$/],
      ['connectionManager.unidirectional', /^cardano_node_metrics_connectionManager_unidirectionalConns(_int|)$/],
      ['connectionManager.duplex', /^cardano_node_metrics_connectionManager_duplexConns(_int|)$/],
      ['connectionManager.fullDuplex', /^cardano_node_metrics_connectionManager_fullDuplexConns(_int|)$/],
      ['inboundGovernor.warm', /^cardano_node_metrics_inboundGovernor_warm(_int|)$/],
      ['inboundGovernor.hot', /^cardano_node_metrics_inboundGovernor_hot(_int|)$/],
    ];
    for (const [key, re] of patterns) {
      const n = names(key);
      expect(n.legacy, key).toMatch(re);
      expect(n.new, key).toMatch(re);
      // nosuffix drops the _int/_real gLiveView needs on the tip's names: it then shows no tip
      if (key.startsWith('tip.')) expect(n.newNoSuffix, key).not.toMatch(re);
      else expect(n.newNoSuffix, key).toMatch(re);
    }
  });

  it("nview's P2P names (blinklabs-io/nview prometheus.go) are the legacy spelling", () => {
    const nview: Array<[string, string]> = [
      ['peerSelection.cold', 'cardano_node_metrics_peerSelection_cold'],
      ['peerSelection.warm', 'cardano_node_metrics_peerSelection_warm'],
      ['peerSelection.hot', 'cardano_node_metrics_peerSelection_hot'],
      ['peerSelection.known', 'cardano_node_metrics_peerSelection_KnownPeers'],
      ['peerSelection.established', 'cardano_node_metrics_peerSelection_EstablishedPeers'],
      ['peerSelection.active', 'cardano_node_metrics_peerSelection_ActivePeers'],
      ['peerSelection.promotingWarm', 'cardano_node_metrics_peerSelection_WarmPeersPromotions'],
      ['peerSelection.demotingWarm', 'cardano_node_metrics_peerSelection_WarmPeersDemotions'],
      ['peerSelection.churn.increasedKnownPeers', 'cardano_node_metrics_peerSelection_churn_IncreasedKnownPeers'],
      ['peerSelection.churn.decreasedKnownPeers', 'cardano_node_metrics_peerSelection_churn_DecreasedKnownPeers'],
      ['connectionManager.inbound', 'cardano_node_metrics_connectionManager_incomingConns'],
      ['connectionManager.outbound', 'cardano_node_metrics_connectionManager_outgoingConns'],
      ['connectionManager.unidirectional', 'cardano_node_metrics_connectionManager_unidirectionalConns'],
      ['connectionManager.duplex', 'cardano_node_metrics_connectionManager_duplexConns'],
      ['connectionManager.fullDuplex', 'cardano_node_metrics_connectionManager_fullDuplexConns'],
      ['connectionManager.prunable', 'cardano_node_metrics_connectionManager_prunableConns'],
      ['tip.blockNo', 'cardano_node_metrics_blockNum_int'],
    ];
    for (const [key, name] of nview) expect(names(key).legacy, key).toBe(name);
  });

  it('tells the generations apart by the names only one of them has', () => {
    const legacy = new Set(NODE_METRICS.map((m) => prometheusNames(m).legacy).filter((n) => n !== null));
    const neu = new Set(NODE_METRICS.map((m) => prometheusNames(m).new).filter((n) => n !== null));
    const bare = new Set(NODE_METRICS.map((m) => prometheusNames(m).newNoSuffix).filter((n) => n !== null));
    expect(detectGeneration(legacy as Set<string>)).toBe('legacy');
    expect(detectGeneration(neu as Set<string>)).toBe('new');
    expect(detectGeneration(bare as Set<string>)).toBe('new-nosuffix');
    expect(detectGeneration(new Set([...legacy, ...neu] as string[]))).toBe('mixed');
    // the tip's names are shared: a page with only them says nothing about the generation
    expect(detectGeneration(new Set(['cardano_node_metrics_blockNum_int']))).toBe('unknown');
  });

  it('docs/metrics.md lists every name', () => {
    const doc = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
    for (const m of NODE_METRICS) {
      const n = prometheusNames(m);
      for (const name of [n.legacy, n.new, ...n.legacyAliases]) {
        if (name !== null) expect(doc, `${m.key}: ${name}`).toContain(name);
      }
    }
  });
});
