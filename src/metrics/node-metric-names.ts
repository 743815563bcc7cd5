/**
 * The Prometheus names under which cardano-node publishes its P2P quantities and its chain tip, in
 * both generations of its tracing (docs/metrics.md has the table, where each name comes from and
 * at which commit it was read):
 *
 * - **legacy**: the iohk-monitoring ("old") tracing system, `hasPrometheus` in the node config.
 *   Metrics live in an EKG store under dotted names (`cardano.node.metrics.peerSelection.cold`);
 *   values traced through the logging layer get a type suffix on the EKG name (`.int` for integers,
 *   `.real` for doubles), values the node sets directly (the P2P counters) get none. The exporter
 *   writes each as `name value`, the name with `.`, `-` and ` ` made `_` and every character other
 *   than ASCII letters and `_` dropped (digits too).
 * - **new**: the trace-dispatcher ("new") tracing system, a `PrometheusSimple` backend in
 *   TraceOptions (cardano-node 10.3 and later; the default system since 10.2). A metric is the
 *   prefix `cardano.node.metrics.` + the metric's name + a suffix by kind (`_int`, `_real`,
 *   `_counter`); the exposition turns `.`, `-`, ` ` into `_` and drops every character other than
 *   ASCII letters, digits and `_`. With `PrometheusSimple nosuffix ...` (or cardano-tracer's
 *   `metricsNoSuffix`) the suffix is left out. The new system also capitalises some names the
 *   legacy one wrote in lower case (`peerSelection.Cold`) and renamed the connection manager's
 *   `incoming`/`outgoing` to `inbound`/`outbound`.
 *
 * These are facts about the node, restated; this module holds names and the two naming rules, and
 * reads or writes nothing.
 */

export type Generation = 'legacy' | 'new';

/** The kind of value, which picks the new system's suffix. */
export type MetricKind = 'int' | 'real' | 'counter';

export interface NodeMetric {
  /** spo's name for the quantity: its path in `spo top --json` snapshots, dotted. */
  readonly key: string;
  /** One line for people (Prometheus HELP text when spo publishes it). */
  readonly help: string;
  readonly kind: MetricKind;
  /** The legacy system's EKG name (before the exporter's renaming), or null when it has none. */
  readonly legacy: string | null;
  /** Earlier legacy spellings of the same quantity (older node releases), EKG names. */
  readonly legacyAliases?: readonly string[];
  /** The new system's metric name (before prefix and suffix), or null when it emits none. */
  readonly new: string | null;
  /**
   * Spellings the new system documents (its metrics documentation) but does not emit; read as a
   * fallback in case a release starts emitting them.
   */
  readonly newDocumented?: readonly string[];
  /** A fact a reader of the value must know. */
  readonly note?: string;
}

/** The prefix both systems put before the metric names (the new system's TraceOptionMetricsPrefix default). */
export const NODE_METRICS_PREFIX = 'cardano.node.metrics.';

/** The legacy exporter's renaming of an EKG name (iohk-monitoring's Prometheus backend). */
export function legacyPrometheusName(ekgName: string): string {
  return ekgName.replace(/[.\- ]/g, '_').replace(/[^A-Za-z_]/g, '');
}

/** The new system's Prometheus name of a metric (trace-dispatcher's EKG tracer and exposition). */
export function newPrometheusName(metric: string, kind: MetricKind, suffix = true): string {
  const full = `${NODE_METRICS_PREFIX}${metric}${suffix ? `_${kind}` : ''}`;
  return full.replace(/[.\- ]/g, '_').replace(/[^A-Za-z0-9_]/g, '');
}

/** The churn actions of ouroboros-network's governor (its `ChurnAction` constructors, shown as written). */
export const CHURN_ACTIONS = [
  'DecreasedActivePeers',
  'IncreasedActivePeers',
  'DecreasedActiveBigLedgerPeers',
  'IncreasedActiveBigLedgerPeers',
  'DecreasedEstablishedPeers',
  'IncreasedEstablishedPeers',
  'IncreasedEstablishedBigLedgerPeers',
  'DecreasedEstablishedBigLedgerPeers',
  'DecreasedKnownPeers',
  'IncreasedKnownPeers',
  'DecreasedKnownBigLedgerPeers',
  'IncreasedKnownBigLedgerPeers',
] as const;
export type ChurnAction = (typeof CHURN_ACTIONS)[number];

const ps = (name: string): string => `${NODE_METRICS_PREFIX}peerSelection.${name}`;
const cm = (name: string): string => `${NODE_METRICS_PREFIX}connectionManager.${name}`;
const ig = (name: string): string => `${NODE_METRICS_PREFIX}inboundGovernor.${name}`;

/**
 * One peer-selection counter whose name is the same in both systems (the `PeerSelectionCounters`
 * record, traced under the same names by both): legacy without suffix, new with `_int`.
 */
function counter(key: string, name: string, help: string): NodeMetric {
  return { key, help, kind: 'int', legacy: ps(name), new: `peerSelection.${name}` };
}

/** The seven counters of one peer group (all, big ledger, non-root, bootstrap): sizes, then moves in progress. */
function group(keyGroup: string, word: string, label: string, part: 'sizes' | 'moves'): NodeMetric[] {
  const k = (field: string) => (keyGroup === '' ? `peerSelection.${field}` : `peerSelection.${keyGroup}.${field}`);
  return part === 'sizes'
    ? [
        counter(k('known'), `Known${word}Peers`, `known ${label}`),
        counter(k('established'), `Established${word}Peers`, `established (warm or hot) ${label}`),
        counter(k('active'), `Active${word}Peers`, `active (hot) ${label}`),
      ]
    : [
        counter(k('promotingCold'), `Cold${word}PeersPromotions`, `cold ${label} being promoted to warm`),
        counter(k('promotingWarm'), `Warm${word}PeersPromotions`, `warm ${label} being promoted to hot`),
        counter(k('demotingWarm'), `Warm${word}PeersDemotions`, `warm ${label} being demoted to cold`),
        counter(k('demotingHot'), `Active${word}PeersDemotions`, `hot ${label} being demoted to warm`),
      ];
}

/** cold/warm/hot of all peers or of big ledger peers (both systems mark these deprecated; still emitted). */
function temperatures(keyGroup: '' | 'bigLedger'): NodeMetric[] {
  const big = keyGroup === 'bigLedger';
  return (['cold', 'warm', 'hot'] as const).map((t) => {
    const upper = t.charAt(0).toUpperCase() + t.slice(1);
    return {
      key: big ? `peerSelection.bigLedger.${t}` : `peerSelection.${t}`,
      help: `${t} ${big ? 'big ledger peers' : 'peers'} (${t === 'cold' ? 'known, not established' : t === 'warm' ? 'established, not active' : 'active'})`,
      kind: 'int',
      legacy: ps(big ? `${t}BigLedgerPeers` : t),
      new: `peerSelection.${upper}${big ? 'BigLedgerPeers' : ''}`,
    };
  });
}

/**
 * The catalogue, in the order of `spo top --json` (sizes first, then temperatures, then moves in
 * progress). The peer-selection counters record has the same names in both systems.
 */
export const NODE_METRICS: readonly NodeMetric[] = [
  // --- peer selection ---
  counter('peerSelection.root', 'RootPeers', 'root peers (local and public roots)'),
  ...group('', '', 'peers', 'sizes'),
  ...temperatures(''),
  ...group('', '', 'peers', 'moves'),
  ...group('bigLedger', 'BigLedger', 'big ledger peers', 'sizes'),
  ...temperatures('bigLedger'),
  ...group('bigLedger', 'BigLedger', 'big ledger peers', 'moves'),
  counter('peerSelection.localRoots.known', 'KnownLocalRootPeers', 'known local root peers'),
  counter('peerSelection.localRoots.established', 'EstablishedLocalRootPeers', 'established local root peers'),
  counter('peerSelection.localRoots.active', 'ActiveLocalRootPeers', 'active (hot) local root peers'),
  counter(
    'peerSelection.localRoots.promotingWarm',
    'WarmLocalRootPeersPromotions',
    'warm local root peers being promoted to hot',
  ),
  counter(
    'peerSelection.localRoots.demotingHot',
    'ActiveLocalRootPeersDemotions',
    'hot local root peers being demoted to warm',
  ),
  {
    key: 'peerSelection.localRoots.warmLocalRootsMetric',
    help: 'active local root peers, published by the new system as WarmLocalRoots',
    kind: 'int',
    legacy: null,
    new: 'peerSelection.WarmLocalRoots',
    note: 'the value is the number of ACTIVE (hot) local roots despite the name; read peerSelection.localRoots.active instead',
  },
  {
    key: 'peerSelection.localRoots.hotLocalRootsMetric',
    help: 'established but not active local root peers, published by the new system as HotLocalRoots',
    kind: 'int',
    legacy: null,
    new: 'peerSelection.HotLocalRoots',
    note: 'the value is established minus active local roots (the WARM ones) despite the name',
  },
  ...group('nonRoot', 'NonRoot', 'non-root peers (neither local nor public roots)', 'sizes'),
  ...group('nonRoot', 'NonRoot', 'non-root peers (neither local nor public roots)', 'moves'),
  ...group('bootstrap', 'Bootstrap', 'bootstrap peers', 'sizes'),
  ...group('bootstrap', 'Bootstrap', 'bootstrap peers', 'moves'),
  // --- peer selection: churn (counters removed from ouroboros-network in January 2026) ---
  ...CHURN_ACTIONS.map(
    (action): NodeMetric => ({
      key: `peerSelection.churn.${lowerFirst(action)}`,
      help: `change of the counter the last ${action} churn step watched (after minus before; negative for a decrease)`,
      kind: 'int',
      legacy: ps(`churn.${action}`),
      new: `peerSelection.churn.${action}`,
      note: "not a count of steps: the last step's counter change (ChurnCounter, on success and on timeout); emitted up to cardano-node 10.6; ouroboros-network removed the churn counters on 2026-01-22",
    }),
  ),
  ...CHURN_ACTIONS.map(
    (action): NodeMetric => ({
      key: `peerSelection.churnDurationS.${lowerFirst(action)}`,
      help: `seconds the last successful ${action} churn step took (a step that timed out is not counted)`,
      kind: 'real',
      legacy: ps(`churn.${action}.duration`),
      // the new system writes no dot between "churn" and the action
      new: `peerSelection.churn${action}.duration`,
      note: 'new system: no separator between "churn" and the action (peerSelection_churnDecreasedActivePeers_duration_real)',
    }),
  ),
  // --- connection manager ---
  {
    key: 'connectionManager.inbound',
    help: 'inbound connections',
    kind: 'int',
    legacy: cm('incomingConns'),
    new: 'connectionManager.inboundConns',
  },
  {
    key: 'connectionManager.outbound',
    help: 'outbound connections',
    kind: 'int',
    legacy: cm('outgoingConns'),
    new: 'connectionManager.outboundConns',
  },
  {
    key: 'connectionManager.duplex',
    help: 'connections negotiated as duplex',
    kind: 'int',
    legacy: cm('duplexConns'),
    new: 'connectionManager.duplexConns',
  },
  {
    key: 'connectionManager.unidirectional',
    help: 'connections negotiated as unidirectional',
    kind: 'int',
    legacy: cm('unidirectionalConns'),
    new: 'connectionManager.unidirectionalConns',
  },
  {
    key: 'connectionManager.fullDuplex',
    help: 'duplex connections used in both directions',
    kind: 'int',
    legacy: cm('fullDuplexConns'),
    legacyAliases: [cm('prunableConns')],
    new: 'connectionManager.fullDuplexConns',
    note: 'legacy nodes up to 10.3 published this count as prunableConns (the counter record lost its prunable field in 2021 and the full-duplex count took its place)',
  },
  {
    key: 'connectionManager.prunable',
    help: 'connections the connection manager may prune (legacy name; the node counts no such thing since 2021)',
    kind: 'int',
    legacy: cm('prunableConns'),
    new: null,
    newDocumented: ['connectionManager.prunableConns'],
    note: 'legacy nodes up to 10.3 only, and its value is the full-duplex count; the new system documents connectionManager.prunableConns but never emits it',
  },
  // --- inbound governor ---
  ...(['idle', 'cold', 'warm', 'hot'] as const).map(
    (state): NodeMetric => ({
      key: `inboundGovernor.${state}`,
      help: `inbound peers the remote side holds ${state === 'idle' ? 'idle' : state}`,
      kind: 'int',
      legacy: ig(state),
      ...(state === 'warm' || state === 'hot'
        ? { legacyAliases: [`${NODE_METRICS_PREFIX}inbound-governor.${state}`] }
        : {}),
      new: `inboundGovernor.${state}`,
      newDocumented: [`inboundGovernor.${upperFirst(state)}`],
    }),
  ),
  // --- chain tip (same names in both systems) ---
  {
    key: 'tip.blockNo',
    help: 'block number of the tip',
    kind: 'int',
    legacy: `${NODE_METRICS_PREFIX}blockNum.int`,
    new: 'blockNum',
  },
  {
    key: 'tip.slot',
    help: 'slot of the tip',
    kind: 'int',
    legacy: `${NODE_METRICS_PREFIX}slotNum.int`,
    new: 'slotNum',
  },
  { key: 'tip.epoch', help: 'epoch of the tip', kind: 'int', legacy: `${NODE_METRICS_PREFIX}epoch.int`, new: 'epoch' },
  {
    key: 'tip.slotInEpoch',
    help: 'slot of the tip within its epoch',
    kind: 'int',
    legacy: `${NODE_METRICS_PREFIX}slotInEpoch.int`,
    new: 'slotInEpoch',
  },
  {
    key: 'tip.density',
    help: 'chain density',
    kind: 'real',
    legacy: `${NODE_METRICS_PREFIX}density.real`,
    new: 'density',
  },
];

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}
function upperFirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The Prometheus names of one quantity, by spelling. */
export interface PrometheusNames {
  legacy: string | null;
  legacyAliases: string[];
  /** New system, default exposition (with the suffix). */
  new: string | null;
  /** New system with `nosuffix`. */
  newNoSuffix: string | null;
  /** Spellings the new system documents but does not emit (with and without suffix). */
  newDocumented: string[];
}

export function prometheusNames(m: NodeMetric): PrometheusNames {
  return {
    legacy: m.legacy === null ? null : legacyPrometheusName(m.legacy),
    legacyAliases: (m.legacyAliases ?? []).map(legacyPrometheusName),
    new: m.new === null ? null : newPrometheusName(m.new, m.kind),
    newNoSuffix: m.new === null ? null : newPrometheusName(m.new, m.kind, false),
    newDocumented: (m.newDocumented ?? []).flatMap((d) => [
      newPrometheusName(d, m.kind),
      newPrometheusName(d, m.kind, false),
    ]),
  };
}

const BY_KEY = new Map(NODE_METRICS.map((m) => [m.key, m]));

/** The catalogue entry of a quantity; throws on a key that is not in the catalogue (a bug). */
export function nodeMetric(key: string): NodeMetric {
  const m = BY_KEY.get(key);
  if (!m) throw new Error(`no node metric ${key}`);
  return m;
}
