/**
 * `spo governor dry-run` as a library: one simulated node (simulated-node.ts) built from a node
 * configuration's targets, a topology's roots and a registry (scenario.ts), run in slices of wall
 * time so that a caller stays responsive (Ctrl-C, progress), and its result as the documented JSON
 * document (docs/json.md). The command only parses flags, reads files and renders.
 */

import { splitPeer } from '../driver/node-inputs.js';
import type { TraceRecord } from '../driver/trace.js';
import type { CardanoStatus } from '../governor/bootstrap.js';
import type { ChurnRegime } from '../governor/churn.js';
import type {
  ConsensusMode,
  Counters,
  LedgerStateJudgement,
  LocalRootGroupConfig,
  RootPeerResult,
  Targets,
} from '../governor/types.js';
import type { Millis } from '../lib/clock.js';
import { buildScenario, type ScenarioRelay } from './scenario.js';
import { SimulatedNode, type Snapshot } from './simulated-node.js';

export interface DryRunPeerJson {
  /** The peer's IP address (names are resolved before they become peers). */
  address: string;
  port: number | null;
  /** The topology or registry name the address was resolved from (the SRV name for SRV); null: given as an address. */
  name: string | null;
  source: string;
  temperature: 'cold' | 'warm' | 'hot';
  failCount: number;
  upstreamness: number;
  /** Simulated time at which the peer entered its temperature. */
  sinceMs: number;
}

/** The JSON form of the report's `cardano` block: as `CardanoStatus`, the deadline in seconds. */
export type CardanoStatusJson = Omit<CardanoStatus, 'bootstrapPeersTimeout'> & {
  /** Simulated seconds (kept in seconds: the key has no `Ms` suffix). */
  bootstrapPeersTimeout: number | null;
};

export interface DryRunJson {
  seed: number;
  simulatedMs: number;
  counters: Counters;
  targets: Targets;
  peers: DryRunPeerJson[];
  snapshots: Array<{
    atMs: number;
    counters: Counters;
    targets: Targets;
    peers: DryRunPeerJson[];
    cardano: CardanoStatusJson;
  }>;
  /** Consensus mode, ledger-state judgement, bootstrap sensitive state, association mode at the end. */
  cardano: CardanoStatusJson;
  /** The governor's critical error (the node would restart), when one happened: the run stopped there. */
  criticalError?: { kind: string; atMs: number; deadlineMs: number };
  summary: {
    decisions: number;
    maxDecisionsAtOneInstant: number;
    churnCycles: number;
    invariantViolations: number;
    targetsFrom: string;
    /** The configured targets (churn lowers `targets` for a while every cycle). */
    configuredTargets: Targets;
    registry: { source: string; pools: number };
    localRoots: number;
    publicRoots: number;
    ledgerPeers: boolean;
    bootstrapPeers: number;
    consensusMode: ConsensusMode;
    /** The ledger-state judgement script ([] = young enough throughout). */
    judgement: Array<{ atMs: number; judgement: LedgerStateJudgement }>;
  };
  trace?: Array<{ atMs: number; source: string; type: string; peers?: string[]; count?: number; detail?: string }>;
  /** Stopped by the caller's signal (Ctrl-C) with `partialOnAbort`: everything is as of `simulatedMs`. */
  interrupted?: true;
}

export interface DryRunInput {
  seed: number;
  durationMs: Millis;
  /** Also snapshot the table at these times (ascending, within the duration). */
  atMs: Millis[];
  targets: Targets;
  targetsFrom: string;
  syncTargets?: Targets | undefined;
  peerSharing: boolean;
  consensusMode: ConsensusMode;
  churn: boolean;
  /** Fixed churn regime; undefined: it follows the judgement. */
  regime?: ChurnRegime | undefined;
  judgement: Array<{ at: Millis; judgement: LedgerStateJudgement }>;
  localRoots: LocalRootGroupConfig[];
  publicRoots: RootPeerResult[];
  bootstrapPeers: RootPeerResult[];
  useLedger: boolean;
  registry: {
    source: string;
    pools: ReadonlyArray<{ id: string; stake?: number | undefined; relays: readonly ScenarioRelay[] }>;
  };
  trace: boolean;
}

export interface DryRunResult {
  doc: DryRunJson;
  snapshots: Snapshot[];
  final: Snapshot;
  trace: TraceRecord[];
}

/** Wall time of one simulation slice before the event loop gets a turn (signals, progress). */
const SLICE_MS = 50;

export interface DryRunHooks {
  signal: AbortSignal;
  /** Called before every slice with the simulated time reached. */
  onSlice?: (nowMs: Millis) => void;
  /** The caller's clock for the slices' wall time and its way to yield (a macrotask turn). */
  wallClock: () => Millis;
  yieldToEventLoop: () => Promise<void>;
  /** On abort, return the result at the time reached (`interrupted: true`) instead of throwing. */
  partialOnAbort?: boolean;
}

/**
 * Runs the (pure, synchronous) simulation to `end` in slices of about SLICE_MS of wall time,
 * yielding to the event loop between slices so that an abort is seen.
 */
async function runInSlices(node: SimulatedNode, end: Millis, hooks: DryRunHooks): Promise<'done' | 'aborted'> {
  for (;;) {
    if (hooks.signal.aborted) {
      if (hooks.partialOnAbort) return 'aborted';
      throw hooks.signal.reason;
    }
    hooks.onSlice?.(node.now);
    const started = hooks.wallClock();
    let done = false;
    // Small batches of instants until the slice's wall time is used up.
    while (!done && hooks.wallClock() - started < SLICE_MS) done = node.runUntil(end, 200);
    if (done) return 'done';
    await hooks.yieldToEventLoop();
  }
}

const cardanoJson = (c: CardanoStatus): CardanoStatusJson => ({
  ...c,
  bootstrapPeersTimeout: c.bootstrapPeersTimeout === null ? null : c.bootstrapPeersTimeout / 1000,
});

const peerJson = (s: Snapshot): DryRunPeerJson[] =>
  s.peers.map((p) => {
    const { address, port } = splitPeer(p.peer);
    return {
      address,
      port,
      name: p.name ?? null,
      source: p.source,
      temperature: p.temperature,
      failCount: p.failCount,
      upstreamness: p.upstreamness,
      sinceMs: Math.round(p.since),
    };
  });

function traceJson(r: TraceRecord) {
  const peers = 'peers' in r ? r.peers : undefined;
  const count = 'count' in r ? r.count : undefined;
  return {
    atMs: Math.round(r.at),
    source: r.source,
    type: r.type,
    ...(peers ? { peers } : {}),
    ...(count === undefined ? {} : { count }),
    ...(r.detail === undefined ? {} : { detail: r.detail }),
  };
}

export async function runDryRun(input: DryRunInput, hooks: DryRunHooks): Promise<DryRunResult> {
  const node = new SimulatedNode(
    buildScenario({
      seed: input.seed,
      pools: input.registry.pools,
      localRoots: input.localRoots,
      publicRoots: input.publicRoots,
      useLedger: input.useLedger,
      targets: input.targets,
      peerSharing: input.peerSharing,
      churn: input.churn,
      bootstrapPeers: input.bootstrapPeers,
      consensusMode: input.consensusMode,
      ...(input.syncTargets ? { syncTargets: input.syncTargets } : {}),
      ...(input.judgement.length > 0 ? { judgementScript: input.judgement } : {}),
      ...(input.regime ? { regime: input.regime } : {}),
      keepTrace: input.trace,
    }),
  );
  const snapshots: Snapshot[] = [];
  let interrupted = false;
  for (const t of input.atMs) {
    interrupted = (await runInSlices(node, t, hooks)) === 'aborted';
    if (interrupted) break;
    snapshots.push(node.snapshot());
  }
  if (!interrupted) interrupted = (await runInSlices(node, input.durationMs, hooks)) === 'aborted';
  const final = node.snapshot();
  const critical = node.critical;
  const doc: DryRunJson = {
    seed: input.seed,
    simulatedMs: Math.round(interrupted ? node.now : input.durationMs),
    counters: final.counters,
    targets: final.targets,
    peers: peerJson(final),
    snapshots: snapshots.map((s) => ({
      atMs: Math.round(s.at),
      counters: s.counters,
      targets: s.targets,
      peers: peerJson(s),
      cardano: cardanoJson(s.cardano),
    })),
    cardano: cardanoJson(final.cardano),
    ...(critical
      ? {
          criticalError: {
            kind: critical.kind,
            atMs: Math.round(critical.at),
            deadlineMs: Math.round(critical.deadline),
          },
        }
      : {}),
    summary: {
      decisions: node.decisionCount,
      maxDecisionsAtOneInstant: node.maxDecisionsAtOneInstant,
      churnCycles: node.churnState.cycles,
      invariantViolations: node.violations.length,
      targetsFrom: input.targetsFrom,
      configuredTargets: input.targets,
      registry: { source: input.registry.source, pools: input.registry.pools.length },
      localRoots: input.localRoots.reduce((n, g) => n + g.peers.length, 0),
      publicRoots: input.publicRoots.length,
      ledgerPeers: input.useLedger,
      bootstrapPeers: input.bootstrapPeers.length,
      consensusMode: input.consensusMode,
      judgement: input.judgement.map((j) => ({ atMs: Math.round(j.at), judgement: j.judgement })),
    },
    ...(input.trace ? { trace: node.trace.map(traceJson) } : {}),
    ...(interrupted ? { interrupted: true as const } : {}),
  };
  return { doc, snapshots, final, trace: node.trace };
}
