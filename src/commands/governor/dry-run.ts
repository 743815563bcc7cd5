import { Flags } from '@oclif/core';
import { SpoCommand } from '../../base-command.js';
import type { CardanoStatus } from '../../governor/bootstrap.js';
import { MockEnvironment, type Snapshot, type TraceRecord } from '../../governor/mock-env.js';
import { buildScenario, relayPeer, splitPeer, targetsFromNodeConfig } from '../../governor/scenario.js';
import {
  type ConsensusMode,
  type Counters,
  type LedgerStateJudgement,
  type LocalRootGroupConfig,
  RELAY_DEFAULT_TARGETS,
  type RootPeerResult,
  saneTargets,
  type Targets,
} from '../../governor/types.js';
import { formatDuration, parseDuration } from '../../lib/duration.js';
import { SpoError, UsageError } from '../../lib/errors.js';
import { parseJsonText, readInput } from '../../lib/read-input.js';
import { registryFlags, registryOptions } from '../../registry/flags.js';
import { loadRegistry } from '../../registry/index.js';
import type { AccessPoint, ParsedTopology } from '../../topology/model.js';
import { parseTopology } from '../../topology/parse.js';
import { printable } from '../../ui/sanitize.js';
import { renderTable } from '../../ui/table.js';

export interface DryRunPeerJson {
  address: string;
  port: number | null;
  source: string;
  temperature: 'cold' | 'warm' | 'hot';
  failCount: number;
  upstreamness: number;
  /** Simulated time at which the peer entered its temperature. */
  sinceMs: number;
}

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
    cardano: CardanoStatus;
  }>;
  /** Consensus mode, ledger-state judgement, bootstrap sensitive state, association mode at the end. */
  cardano: CardanoStatus;
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
}

interface TopologyRoots {
  localRoots: LocalRootGroupConfig[];
  publicRoots: RootPeerResult[];
  /** `bootstrapPeers` (empty: disabled). */
  bootstrapPeers: RootPeerResult[];
  /** undefined: do not use ledger peers; n: use them once the ledger tip slot >= n. */
  useLedgerAfterSlot: number | undefined;
}

/** A topology access point as a peer id (`host:port`, `[v6]:port`; an SRV name stays bare). */
function accessPointPeer(ap: AccessPoint): string {
  return relayPeer({ kind: ap.kind, host: ap.address, ...(ap.port === undefined ? {} : { port: ap.port }) });
}

/**
 * The roots of a topology (any format, through the topology module's parser). Bootstrap peers are
 * only used in the bootstrap "sensitive" state (Praos, ledger state too old).
 */
function topologyRoots(parsed: ParsedTopology): TopologyRoots {
  const t = parsed.topology;
  const localRoots: LocalRootGroupConfig[] = t.localRoots.map((g) => ({
    hotValency: g.hotValency,
    warmValency: g.warmValency,
    peers: g.accessPoints.map((ap) => ({
      peer: accessPointPeer(ap),
      config: {
        advertise: g.advertise,
        trustable: g.trustable,
        behindFirewall: g.behindFirewall,
        diffusionMode: g.diffusionMode,
      },
    })),
  }));
  const publicRoots: RootPeerResult[] = t.publicRoots.flatMap((g) =>
    g.accessPoints.map((ap) => ({ peer: accessPointPeer(ap), kind: 'public-root' as const, advertise: g.advertise })),
  );
  const bootstrapPeers: RootPeerResult[] = (t.bootstrapPeers ?? []).map((ap) => ({
    peer: accessPointPeer(ap),
    kind: 'bootstrap' as const,
    advertise: false,
  }));
  const lp = t.ledgerPeers;
  return {
    localRoots,
    publicRoots,
    bootstrapPeers,
    useLedgerAfterSlot: lp.mode === 'never' ? undefined : lp.mode === 'always' ? 0 : lp.slot,
  };
}

/** Parses a node configuration: JSON, or the top-level `Key: value` lines of a YAML file. */
function parseNodeConfig(text: string, file: string): Record<string, unknown> {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    const doc = parseJsonText(text, file);
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
      throw new SpoError('CONFIG_FORMAT', `${file}: not a node configuration (expected an object)`, {
        details: { file },
      });
    }
    return doc as Record<string, unknown>;
  }
  const out: Record<string, unknown> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^([A-Za-z][A-Za-z0-9]*):\s*(.*?)\s*(#.*)?$/.exec(line);
    if (!m) continue;
    const v = (m[2] as string).replace(/^["']|["']$/g, '');
    out[m[1] as string] = /^-?\d+$/.test(v) ? Number(v) : v === 'true' ? true : v === 'false' ? false : v;
  }
  return out;
}

const peerJson = (s: Snapshot): DryRunPeerJson[] =>
  s.peers.map((p) => {
    const { address, port } = splitPeer(p.peer);
    return {
      address,
      port,
      source: p.source,
      temperature: p.temperature,
      failCount: p.failCount,
      upstreamness: p.upstreamness,
      sinceMs: Math.round(p.since * 1000),
    };
  });

export default class GovernorDryRun extends SpoCommand {
  static override summary =
    'Run the peer-selection governor in simulated time against a simulated network, to see what a configuration will do.';
  static override description =
    `Takes the targets from a cardano-node configuration (its TargetNumberOf* keys; missing keys take the relay defaults 60/150/30/20 and 15/10/5 big ledger peers), the roots from a P2P topology file and the ledger peers from a registry source (the embedded snapshot by default, offline), and runs the governor port (src/governor) with churn against a simulated network built from them: relays with hygiene flags never answer, the others answer most of the time with random latencies, occasional failures and asynchronous demotions, and share peers along a random graph. Everything is drawn from --seed, so a run is reproducible.

Prints the peer temperature table (peer, source, temperature, fail count, upstreamness, since) at the end of the run and at every --at time, and with --trace the decision trace (governor decisions, churn steps, environment events). With --ledger-state too-old or --judgement (e.g. 0s=too-old,20m=young) the node starts behind: in Praos mode with the topology's bootstrapPeers it enters the bootstrap "sensitive" state (targets and local roots zeroed, every untrusted peer shed, then syncing from the bootstrap peers and trustable local roots only, with a 15-minute deadline to get there), and leaves it when the ledger state becomes young enough; in Genesis mode (--consensus-mode genesis or the config's ConsensusMode) the sync targets (SyncTargetNumberOf*) apply while the ledger state is too old.

With --json the last thing printed is one JSON object with the counters, targets and peers.`;
  static override examples = [
    '<%= config.bin %> governor dry-run',
    '<%= config.bin %> governor dry-run --topology topology.json --config config.json --duration 3h --at 10m --at 1h',
    '<%= config.bin %> governor dry-run --seed 7 --trace --duration 5m',
    '<%= config.bin %> governor dry-run --json | jq .counters',
    '<%= config.bin %> governor dry-run --topology topology.json --judgement 0s=too-old,20m=young --at 10m --duration 1h',
    '<%= config.bin %> governor dry-run --consensus-mode genesis --ledger-state too-old --json | jq .cardano',
  ];
  static override flags = {
    topology: Flags.string({
      description: 'topology file (any format): local roots, public roots, useLedgerAfterSlot',
    }),
    config: Flags.string({ description: 'cardano-node configuration (JSON or YAML) with the TargetNumberOf* keys' }),
    ...registryFlags,
    duration: Flags.string({
      description:
        'simulated time to run (e.g. 30m, 2h; at most 30d; a long run shows its progress on stderr and Ctrl-C stops it)',
      default: '2h',
    }),
    at: Flags.string({
      description: 'also print the table at this simulated time, within --duration (repeatable)',
      multiple: true,
    }),
    seed: Flags.integer({
      description:
        'seed of the simulation (network behaviour and governor randomness); any integer up to 2^53-1 in magnitude',
      default: 1,
    }),
    trace: Flags.boolean({ description: 'print the decision trace' }),
    churn: Flags.boolean({ description: 'run the churn governor', default: true, allowNo: true }),
    regime: Flags.string({
      description:
        'churn regime: deadline (caught up: churn every 55-65 min, hot peers by upstreamness), praos-sync or bootstrap-praos-sync (bulk sync: every 15-16 min, few hot peers, scored by fetched bytes)',
      options: ['deadline', 'praos-sync', 'bootstrap-praos-sync'],
      default: 'deadline',
    }),
    'ledger-state': Flags.string({
      description:
        "consensus's judgement of the ledger state throughout the run: young (caught up) or too-old (syncing; with bootstrapPeers in Praos mode the node first sheds every untrusted peer and syncs from the bootstrap peers)",
      options: ['young', 'too-old'],
      exclusive: ['judgement'],
    }),
    judgement: Flags.string({
      description:
        'the ledger-state judgement over time, e.g. 0s=too-old,20m=young (a node starting behind that catches up after 20 minutes); the churn regime follows it unless --regime is given',
    }),
    'consensus-mode': Flags.string({
      description: "praos or genesis (default: the node config's ConsensusMode, else praos)",
      options: ['praos', 'genesis'],
    }),
  };

  async run(): Promise<DryRunJson> {
    const { flags } = await this.parse(GovernorDryRun);
    const durationS = parseDuration(flags.duration, '--duration') / 1000;
    if (durationS <= 0)
      throw new UsageError('BAD_DURATION', '--duration must be more than 0', { hint: 'e.g. --duration 2h' });
    if (durationS > MAX_DURATION_S)
      throw new UsageError(
        'BAD_DURATION',
        `--duration ${flags.duration}: at most ${MAX_DURATION_TEXT} of simulated time`,
        {
          hint: `a simulated day takes seconds to minutes of CPU; use --duration ${MAX_DURATION_TEXT} or less`,
        },
      );
    const ats = (flags.at ?? []).map((a) => parseDuration(a, '--at') / 1000).sort((a, b) => a - b);
    const late = (flags.at ?? []).find((a) => parseDuration(a, '--at') / 1000 > durationS);
    if (late !== undefined)
      throw new UsageError('BAD_AT', `--at ${late} is later than --duration ${flags.duration}`, {
        hint: `give a time within the run, or a longer --duration (e.g. --duration ${late})`,
      });
    if (!Number.isSafeInteger(flags.seed))
      throw new UsageError('BAD_SEED', `--seed ${flags.seed}: not an integer between -(2^53-1) and 2^53-1`, {
        hint: 'use a smaller whole number, e.g. --seed 7',
      });
    const end = durationS;

    const judgement = parseJudgement(flags.judgement, flags['ledger-state']);
    let targets: Targets = { ...RELAY_DEFAULT_TARGETS };
    let syncTargets: Targets | undefined;
    let targetsFrom = 'relay defaults';
    let peerSharing = true;
    let consensusMode: ConsensusMode = 'praos';
    if (flags.config) {
      const cfgDoc = parseNodeConfig(await readInput(flags.config), flags.config);
      // A file with none of these keys is probably not a node configuration (e.g. the topology
      // passed as --config by mistake): say so, since the run then silently uses the defaults.
      if (!Object.keys(cfgDoc).some((k) => /^(Sync)?TargetNumberOf|^ConsensusMode$|^PeerSharing$/.test(k)))
        this.note(
          `no peer-selection keys found in ${flags.config}; using relay defaults (expected TargetNumberOf*, ConsensusMode or PeerSharing in a cardano-node configuration)`,
        );
      const cfg = targetsFromNodeConfig(cfgDoc);
      if (cfg.invalid.length > 0) {
        throw new SpoError('CONFIG_TARGETS', `${flags.config}: ${cfg.invalid.join(', ')}: not a non-negative integer`, {
          details: { file: flags.config, fields: cfg.invalid },
        });
      }
      targets = cfg.targets;
      targetsFrom = cfg.found.length > 0 ? flags.config : `relay defaults (no TargetNumberOf* keys in ${flags.config})`;
      if (cfg.peerSharing !== undefined) peerSharing = cfg.peerSharing;
      syncTargets = cfg.syncTargets;
      if (cfg.consensusMode) consensusMode = cfg.consensusMode;
      if (!saneTargets(cfg.syncTargets)) {
        throw new SpoError(
          'CONFIG_TARGETS',
          `${flags.config}: insane sync targets ${JSON.stringify(cfg.syncTargets)}`,
          {
            hint: 'the SyncTargetNumberOf* keys follow the same rules as TargetNumberOf*',
            details: { syncTargets: cfg.syncTargets },
          },
        );
      }
    }
    if (flags['consensus-mode']) consensusMode = flags['consensus-mode'] === 'genesis' ? 'genesis' : 'praos';
    if (!saneTargets(targets)) {
      throw new SpoError('CONFIG_TARGETS', `${flags.config ?? 'targets'}: insane targets ${JSON.stringify(targets)}`, {
        hint: 'need 0 <= active <= established <= known, root <= known (same for big ledger peers), active <= 100, established <= 1000, known <= 10000',
        details: { targets },
      });
    }

    let roots: TopologyRoots = { localRoots: [], publicRoots: [], bootstrapPeers: [], useLedgerAfterSlot: 0 };
    if (flags.topology) {
      const parsed = parseTopology(parseJsonText(await readInput(flags.topology), flags.topology), flags.topology);
      // The dry-run shows what the governor would do; what the node would refuse is said, not fatal.
      for (const f of parsed.findings.filter((x) => x.severity === 'error'))
        this.note(`${flags.topology}: ${f.path}: ${f.message} (${f.code})`);
      roots = topologyRoots(parsed);
    }

    const reg = await loadRegistry(registryOptions(flags, this.network, this.signal));
    const useLedger =
      roots.useLedgerAfterSlot !== undefined &&
      (roots.useLedgerAfterSlot === 0 || (reg.slot ?? 0) >= roots.useLedgerAfterSlot);

    const env = new MockEnvironment(
      buildScenario({
        seed: flags.seed,
        pools: reg.pools,
        localRoots: roots.localRoots,
        publicRoots: roots.publicRoots,
        useLedger,
        targets,
        peerSharing,
        churn: flags.churn,
        bootstrapPeers: roots.bootstrapPeers,
        consensusMode,
        ...(syncTargets ? { syncTargets } : {}),
        ...(judgement.length > 0 ? { judgementScript: judgement } : {}),
        // With a judgement the churn regime follows it, unless one was asked for explicitly.
        ...(judgement.length === 0 || explicitRegime(this.argv)
          ? {
              regime:
                flags.regime === 'praos-sync'
                  ? ('praosSync' as const)
                  : flags.regime === 'bootstrap-praos-sync'
                    ? ('bootstrapPraosSync' as const)
                    : ('default' as const),
            }
          : {}),
        keepTrace: flags.trace,
      }),
    );
    const snapshots: Snapshot[] = [];
    // A long run says how far it got (stderr, silent under --json), after 2 s of wall time.
    const progress = this.progress();
    const wallStart = performance.now();
    let shown = false;
    const onSlice = (now: number): void => {
      const text = `simulating: ${formatDuration(Math.round(now * 1000))} of ${formatDuration(end * 1000)} (Ctrl-C to stop)`;
      if (shown) progress.update(text);
      else if (performance.now() - wallStart > 2000) {
        progress.start(text);
        shown = true;
      }
    };
    try {
      for (const t of ats) {
        await runInSlices(env, t, this.signal, onSlice);
        snapshots.push(env.snapshot());
      }
      await runInSlices(env, end, this.signal, onSlice);
    } finally {
      if (shown) progress.stop();
    }
    const final = env.snapshot();
    const critical = env.critical;

    const doc: DryRunJson = {
      seed: flags.seed,
      simulatedMs: Math.round(end * 1000),
      counters: final.counters,
      targets: final.targets,
      peers: peerJson(final),
      snapshots: snapshots.map((s) => ({
        atMs: Math.round(s.at * 1000),
        counters: s.counters,
        targets: s.targets,
        peers: peerJson(s),
        cardano: s.cardano,
      })),
      cardano: final.cardano,
      ...(critical
        ? {
            criticalError: {
              kind: critical.kind,
              atMs: Math.round(critical.at * 1000),
              deadlineMs: Math.round(critical.deadline * 1000),
            },
          }
        : {}),
      summary: {
        decisions: env.decisionCount,
        maxDecisionsAtOneInstant: env.maxDecisionsAtOneInstant,
        churnCycles: env.churnState.cycles,
        invariantViolations: env.violations.length,
        targetsFrom,
        configuredTargets: targets,
        registry: { source: reg.source, pools: reg.pools.length },
        localRoots: roots.localRoots.reduce((n, g) => n + g.peers.length, 0),
        publicRoots: roots.publicRoots.length,
        ledgerPeers: useLedger,
        bootstrapPeers: roots.bootstrapPeers.length,
        consensusMode,
        judgement: judgement.map((j) => ({ atMs: Math.round(j.at * 1000), judgement: j.judgement })),
      },
      ...(flags.trace ? { trace: env.trace.map(traceJson) } : {}),
    };

    if (!this.jsonEnabled()) this.render(doc, snapshots, final, env.trace, flags.trace);
    return doc;
  }

  private render(doc: DryRunJson, snapshots: Snapshot[], final: Snapshot, trace: TraceRecord[], showTrace: boolean) {
    const c = this.c;
    const s = doc.summary;
    this.out(
      c.dim(
        `seed ${doc.seed}, ${formatDuration(doc.simulatedMs)} simulated; targets: ${s.targetsFrom}; ` +
          `${s.localRoots} local roots, ${s.publicRoots} public roots; ledger peers ${s.ledgerPeers ? 'on' : 'off'} ` +
          `(${s.registry.source}, ${s.registry.pools} pools)`,
      ),
    );
    if (showTrace) {
      this.out(c.bold('\ntrace'));
      for (const r of trace) {
        const peers =
          r.peers && r.peers.length > 0
            ? ` ${r.peers.slice(0, 4).join(' ')}${r.peers.length > 4 ? ` +${r.peers.length - 4}` : ''}`
            : '';
        const count = r.count === undefined ? '' : ` (${r.count})`;
        const detail = r.detail ? c.dim(` ${r.detail}`) : '';
        this.out(`${clock(r.at).padStart(9)}  ${r.source.padEnd(8)} ${r.type}${count}${peers}${detail}`);
      }
    }
    for (const snap of [...snapshots, final]) this.table(snap);
    if (doc.criticalError)
      this.note(
        `${doc.criticalError.kind} at ${clock(doc.criticalError.atMs / 1000)}: the node did not reach a state with only trusted peers within 15 minutes and would restart; the simulation stopped there`,
      );
    if (s.invariantViolations > 0)
      this.note(`${s.invariantViolations} invariant violations (a bug in the governor port)`);
  }

  private table(snap: Snapshot): void {
    const c = this.c;
    const t = snap.targets;
    const k = snap.counters;
    this.out(c.bold(`\nat ${clock(snap.at)}`));
    const b = snap.cardano;
    this.out(
      c.dim(
        `${b.consensusMode}, ledger state ${b.ledgerStateJudgement === 'tooOld' ? 'too old' : 'young enough'}` +
          (b.useBootstrapPeers
            ? `, bootstrap peers ${b.bootstrapPeers.known}/${b.bootstrapPeers.established}/${b.bootstrapPeers.active} (known/established/active)`
            : ', bootstrap peers off') +
          (b.sensitive
            ? b.hasOnlyBootstrapPeers
              ? ', sensitive: only trusted peers'
              : ', sensitive: shedding untrusted peers'
            : '') +
          `, ${b.associationMode === 'localRootsOnly' ? 'local roots only' : 'unrestricted'}, outbound ${b.outboundConnectionsState}`,
      ),
    );
    this.out(
      `known ${k.known}/${t.known}  established ${k.established}/${t.established}  active ${k.active}/${t.active}  ` +
        `big ledger ${k.knownBigLedger}/${t.knownBigLedger} ${k.establishedBigLedger}/${t.establishedBigLedger} ` +
        `${k.activeBigLedger}/${t.activeBigLedger}  root ${k.root}/${t.root}`,
    );
    const temp = (x: string) => (x === 'hot' ? c.ok(x) : x === 'warm' ? c.warn(x) : c.dim(x));
    this.out(
      renderTable(
        snap.peers,
        [
          { header: 'PEER', get: (p) => printable(p.peer) },
          { header: 'SOURCE', get: (p) => p.source },
          {
            header: 'TEMP',
            get: (p) => p.temperature,
            style: (text, p) => temp(p.temperature) + text.slice(p.temperature.length),
          },
          { header: 'FAILS', get: (p) => p.failCount, align: 'right' },
          { header: 'UPSTREAM', get: (p) => p.upstreamness, align: 'right' },
          { header: 'SINCE', get: (p) => clock(p.since), align: 'right' },
        ],
        (h) => c.bold(h),
      ),
    );
  }
}

/** The longest simulated run: 30 days (a simulated day costs seconds to minutes of CPU). */
const MAX_DURATION_S = 30 * 24 * 3600;
const MAX_DURATION_TEXT = '30d';
/** Wall time of one simulation slice before the event loop gets a turn (signals, progress). */
const SLICE_MS = 50;

/**
 * Runs the (pure, synchronous) simulation to `end` in slices of about SLICE_MS of wall time,
 * yielding to the event loop between slices so that Ctrl-C / SIGTERM (this.signal) is seen.
 */
async function runInSlices(
  env: MockEnvironment,
  end: number,
  signal: AbortSignal,
  onSlice: (now: number) => void,
): Promise<void> {
  for (;;) {
    if (signal.aborted) throw signal.reason;
    onSlice(env.now);
    const started = performance.now();
    let done = false;
    // Small batches of instants until the slice's wall time is used up.
    while (!done && performance.now() - started < SLICE_MS) done = env.runUntil(end, 200);
    if (done) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** `--judgement 0s=too-old,20m=young` or `--ledger-state too-old` as a script (times in seconds). */
function parseJudgement(
  script: string | undefined,
  constant: string | undefined,
): Array<{ at: number; judgement: LedgerStateJudgement }> {
  const value = (v: string, what: string): LedgerStateJudgement => {
    if (v === 'young' || v === 'young-enough') return 'youngEnough';
    if (v === 'too-old') return 'tooOld';
    throw new UsageError('BAD_JUDGEMENT', `${what}: ${JSON.stringify(v)} is not young or too-old`, {
      hint: 'e.g. --judgement 0s=too-old,20m=young',
    });
  };
  if (constant !== undefined) return [{ at: 0, judgement: value(constant, '--ledger-state') }];
  if (script === undefined) return [];
  const out: Array<{ at: number; judgement: LedgerStateJudgement }> = [];
  for (const part of script.split(',')) {
    const m = /^\s*([^=\s]+)\s*=\s*([a-z-]+)\s*$/.exec(part);
    if (!m)
      throw new UsageError('BAD_JUDGEMENT', `--judgement: ${JSON.stringify(part)} is not TIME=young|too-old`, {
        hint: 'e.g. --judgement 0s=too-old,20m=young',
      });
    out.push({
      at: parseDuration(m[1] as string, '--judgement') / 1000,
      judgement: value(m[2] as string, '--judgement'),
    });
  }
  return out.sort((a, b) => a.at - b.at);
}

/** Whether --regime was given on the command line (its default must not override the judgement). */
function explicitRegime(argv: readonly string[]): boolean {
  return argv.some((a) => a === '--regime' || a.startsWith('--regime='));
}

function traceJson(r: TraceRecord) {
  return {
    atMs: Math.round(r.at * 1000),
    source: r.source,
    type: r.type,
    ...(r.peers ? { peers: r.peers } : {}),
    ...(r.count === undefined ? {} : { count: r.count }),
    ...(r.detail === undefined ? {} : { detail: r.detail }),
  };
}

/** Simulated seconds as h:mm:ss.s */
function clock(t: number): string {
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const s = t % 60;
  return `${h}:${String(m).padStart(2, '0')}:${s.toFixed(1).padStart(4, '0')}`;
}
