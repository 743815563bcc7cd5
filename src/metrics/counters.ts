/**
 * spo's P2P counters as a typed tree whose leaves are the catalogue's keys
 * (node-metric-names.ts): `peerSelection.bigLedger.known` is `counters.peerSelection.bigLedger.known`.
 * The same shape is what `spo top --json` prints (values or null) and what the publisher takes.
 * Pure.
 */
import { CHURN_ACTIONS, type ChurnAction, NODE_METRICS } from './node-metric-names.js';

export interface PeerGroupCounters {
  known?: number;
  established?: number;
  active?: number;
  promotingCold?: number;
  promotingWarm?: number;
  demotingWarm?: number;
  demotingHot?: number;
}

export interface TemperatureCounters {
  cold?: number;
  warm?: number;
  hot?: number;
}

type LowerFirst<S extends string> = S extends `${infer F}${infer R}` ? `${Lowercase<F>}${R}` : S;
export type ChurnKey = LowerFirst<ChurnAction>;

export interface P2PCounters {
  peerSelection?: PeerGroupCounters &
    TemperatureCounters & {
      root?: number;
      bigLedger?: PeerGroupCounters & TemperatureCounters;
      localRoots?: Pick<PeerGroupCounters, 'known' | 'established' | 'active' | 'promotingWarm' | 'demotingHot'> & {
        /** What the new system publishes as WarmLocalRoots: the ACTIVE local roots (sic). */
        warmLocalRootsMetric?: number;
        /** What the new system publishes as HotLocalRoots: established minus active local roots (sic). */
        hotLocalRootsMetric?: number;
      };
      nonRoot?: PeerGroupCounters;
      bootstrap?: PeerGroupCounters;
      churn?: Partial<Record<ChurnKey, number>>;
      churnDurationS?: Partial<Record<ChurnKey, number>>;
    };
  connectionManager?: {
    inbound?: number;
    outbound?: number;
    duplex?: number;
    unidirectional?: number;
    fullDuplex?: number;
    prunable?: number;
  };
  inboundGovernor?: { idle?: number; cold?: number; warm?: number; hot?: number };
  tip?: { blockNo?: number; slot?: number; epoch?: number; slotInEpoch?: number; density?: number };
}

const KEYS: ReadonlySet<string> = new Set(NODE_METRICS.map((m) => m.key));

/** The tree as catalogue key -> value; a leaf that is not in the catalogue is a bug and throws. */
export function flattenCounters(counters: P2PCounters): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (node: unknown, path: string): void => {
    if (node === undefined) return;
    if (typeof node === 'number') {
      if (!KEYS.has(path)) throw new Error(`not a node metric: ${path}`);
      out.set(path, node);
      return;
    }
    if (node === null || typeof node !== 'object') throw new Error(`not a counter: ${path}`);
    for (const [k, v] of Object.entries(node)) walk(v, path === '' ? k : `${path}.${k}`);
  };
  walk(counters, '');
  return out;
}

/** The tree of every catalogue key, with the value read or null: the shape of a `spo top` snapshot. */
export function nestValues(values: ReadonlyMap<string, number | null>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const m of NODE_METRICS) {
    const parts = m.key.split('.');
    let node = root;
    for (const p of parts.slice(0, -1)) {
      if (node[p] === undefined) node[p] = {};
      node = node[p] as Record<string, unknown>;
    }
    node[parts[parts.length - 1] as string] = values.get(m.key) ?? null;
  }
  return root;
}

/**
 * The values the node derives from others and publishes too, filled in where the caller gave the
 * primary ones but not these: cold/warm/hot from known/established/active (all peers and big
 * ledger peers), and the new system's WarmLocalRoots/HotLocalRoots with the node's (swapped)
 * meaning. So a publisher shows a dashboard the same numbers a node would.
 */
export function withDerived(values: ReadonlyMap<string, number>): Map<string, number> {
  const out = new Map(values);
  const fill = (key: string, f: () => number | undefined): void => {
    if (out.has(key)) return;
    const v = f();
    if (v !== undefined && Number.isFinite(v)) out.set(key, v);
  };
  const diff = (a: string, b: string) => () => {
    const x = out.get(a);
    const y = out.get(b);
    return x === undefined || y === undefined ? undefined : x - y;
  };
  for (const g of ['peerSelection', 'peerSelection.bigLedger']) {
    fill(`${g}.cold`, diff(`${g}.known`, `${g}.established`));
    fill(`${g}.warm`, diff(`${g}.established`, `${g}.active`));
    fill(`${g}.hot`, () => out.get(`${g}.active`));
  }
  fill('peerSelection.localRoots.warmLocalRootsMetric', () => out.get('peerSelection.localRoots.active'));
  fill(
    'peerSelection.localRoots.hotLocalRootsMetric',
    diff('peerSelection.localRoots.established', 'peerSelection.localRoots.active'),
  );
  return out;
}

export const CHURN_KEYS: readonly ChurnKey[] = CHURN_ACTIONS.map(
  (a) => (a.charAt(0).toLowerCase() + a.slice(1)) as ChurnKey,
);
