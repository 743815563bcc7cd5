import { Flags } from '@oclif/core';
import { SpoCommand } from '../../base-command.js';
import { loadNodeConfig, TARGET_KEYS } from '../../config/index.js';
import { type TopologyRoots, topologyRoots } from '../../driver/node-inputs.js';
import {
  type ConsensusMode,
  type LedgerStateJudgement,
  RELAY_DEFAULT_TARGETS,
  type Targets,
} from '../../governor/types.js';
import { formatDuration, parseDuration } from '../../lib/duration.js';
import { ExitCode, UsageError } from '../../lib/errors.js';
import { parseJsonText, readInput, topologyInput } from '../../lib/read-input.js';
import { registryFlags, registryOptions } from '../../registry/flags.js';
import { loadRegistry } from '../../registry/index.js';
import { type DryRunJson, runDryRun } from '../../sim/dry-run.js';
import { guessRole } from '../../topology/lint.js';
import { parseTopology } from '../../topology/parse.js';
import { dryRunNotes, renderDryRun } from '../../ui/governor-dry-run.js';

export type { DryRunJson, DryRunPeerJson } from '../../sim/dry-run.js';

export default class GovernorDryRun extends SpoCommand {
  static override summary =
    'Run the peer-selection governor in simulated time against a simulated network, to see what a configuration will do.';
  static override description =
    `Takes the targets from a cardano-node configuration (its TargetNumberOf* keys; missing keys take the relay defaults 60/150/30/20 and 15/10/5 big ledger peers; a block producer's topology without --config gets a warning, since a producer's targets differ), the roots from a P2P topology file and the ledger peers from a registry source (the embedded snapshot by default, offline), and runs the governor port (src/governor) with churn against a simulated network built from them: relays with hygiene flags never answer, the others answer most of the time with random latencies, occasional failures and asynchronous demotions, and share peers along a random graph. Names in the topology and the registry are resolved before they become peers, as the node does (local roots to all their addresses, re-resolved after the TTL; ledger relays to one address per name; SRV names by CIP-0155), by a deterministic fake DNS that answers with addresses in 198.18.0.0/15 and sends nothing anywhere. Everything is drawn from --seed, so a run is reproducible.

Prints the peer temperature table at the end of the run and at every --at time, and with --trace the decision trace (governor decisions, churn steps, environment events). With --ledger-state too-old or --judgement (e.g. 0s=too-old,20m=young) the node starts behind: in Praos mode with the topology's bootstrapPeers it enters the bootstrap "sensitive" state (targets and local roots zeroed, every untrusted peer shed, then syncing from the bootstrap peers and trustable local roots only, with a 15-minute deadline to get there), and leaves it when the ledger state becomes young enough; in Genesis mode (--consensus-mode genesis or the config's ConsensusMode) the sync targets (SyncTargetNumberOf*) apply while the ledger state is too old.

The table, one row per known peer, hot first:
  PEER      the address (names are resolved first, by the fake DNS)
  NAME      the topology or registry name it was resolved from (- for an address given as such)
  SOURCE    how the node learnt it: local-root, public-root, bootstrap, ledger, big-ledger, peer-share
  TEMP      cold: known only; warm: connected (keep-alive); hot: fetching headers and blocks from it
  FAILS     failed connection or promotion attempts (the node backs off, then forgets the peer)
  UPSTREAM  headers it delivered first in the metrics window; churn replaces the hot peers lowest here
  SINCE     the simulated time at which it took its current temperature
Above it, "known 150/150  established 30/30  active 20/20" is now/target for each count (the node's TargetNumberOf* keys), "big ledger" the same for big ledger peers (known, established, active), "root" the root peers known now/their target.

With --json the last thing printed is one JSON object with the counters, targets and peers. Ctrl-C stops the run and prints the table reached so far (with --json the document, "interrupted": true), exit 130.`;
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
    const durationMs = parseDuration(flags.duration, '--duration');
    if (durationMs <= 0)
      throw new UsageError('BAD_DURATION', '--duration must be more than 0', { hint: 'e.g. --duration 2h' });
    if (durationMs > MAX_DURATION_MS)
      throw new UsageError(
        'BAD_DURATION',
        `--duration ${flags.duration}: at most ${MAX_DURATION_TEXT} of simulated time`,
        {
          hint: `a simulated day takes seconds to minutes of CPU; use --duration ${MAX_DURATION_TEXT} or less`,
        },
      );
    const ats = (flags.at ?? []).map((a) => parseDuration(a, '--at')).sort((a, b) => a - b);
    const late = (flags.at ?? []).find((a) => parseDuration(a, '--at') > durationMs);
    if (late !== undefined)
      throw new UsageError('BAD_AT', `--at ${late} is later than --duration ${flags.duration}`, {
        hint: `give a time within the run, or a longer --duration (e.g. --duration ${late})`,
      });
    if (!Number.isSafeInteger(flags.seed))
      throw new UsageError('BAD_SEED', `--seed ${flags.seed}: not an integer between -(2^53-1) and 2^53-1`, {
        hint: 'use a smaller whole number, e.g. --seed 7',
      });

    const judgement = parseJudgement(flags.judgement, flags['ledger-state']);
    let targets: Targets = { ...RELAY_DEFAULT_TARGETS };
    let syncTargets: Targets | undefined;
    let targetsFrom = 'relay defaults';
    let peerSharing = true;
    let consensusMode: ConsensusMode = 'praos';
    // The topology first: its role (as lint guesses it) picks the node's defaults for the keys the
    // config leaves out.
    let role: 'relay' | 'producer' = 'relay';
    let roots: TopologyRoots = { localRoots: [], publicRoots: [], bootstrapPeers: [], useLedgerAfterSlot: 0 };
    if (flags.topology) {
      const parsed = parseTopology(
        parseJsonText(await readInput(flags.topology, topologyInput(this.signal)), flags.topology),
        flags.topology,
      );
      // The dry-run shows what the governor would do; what the node would refuse is said, not fatal.
      for (const f of parsed.findings.filter((x) => x.severity === 'error'))
        this.note(`${flags.topology}: ${f.path}: ${f.message} (${f.code})`);
      roots = topologyRoots(parsed.topology);
      role = guessRole(parsed.topology);
      // A block producer runs with far smaller targets than a relay (often only its relays): the
      // relay defaults would show a governor hunting for peers the producer must never have.
      if (!flags.config && role === 'producer')
        this.note(
          `${flags.topology} looks like a block producer's topology, but without --config the relay defaults are used (${RELAY_DEFAULT_TARGETS.active} active, ${RELAY_DEFAULT_TARGETS.known} known peers); a producer's targets differ: give --config with its TargetNumberOf* keys`,
        );
    }

    if (flags.config) {
      // One reading of the node configuration for every command (src/config): JSON or YAML, the
      // node's defaults and rules (insane targets are CONFIG_TARGETS, bad values CONFIG_VALUE).
      const cfg = await loadNodeConfig(flags.config, { role, signal: this.signal });
      // A file with none of these keys is probably not a node configuration (e.g. the topology
      // passed as --config by mistake): say so, since the run then silently uses the defaults.
      if (!Object.keys(cfg.document).some((k) => /^(Sync)?TargetNumberOf|^ConsensusMode$|^PeerSharing$/.test(k)))
        this.note(
          `no peer-selection keys found in ${flags.config}; using ${role} defaults (expected TargetNumberOf*, ConsensusMode or PeerSharing in a cardano-node configuration)`,
        );
      targets = { ...cfg.targets };
      const found = Object.values(TARGET_KEYS).some((k) => cfg.given.has(k));
      targetsFrom = found ? flags.config : `${role} defaults (no TargetNumberOf* keys in ${flags.config})`;
      peerSharing = cfg.peerSharing;
      syncTargets = { ...cfg.syncTargets };
      consensusMode = cfg.consensusMode;
    }
    if (flags['consensus-mode']) consensusMode = flags['consensus-mode'] === 'genesis' ? 'genesis' : 'praos';
    const reg = await loadRegistry(registryOptions(flags, this.network, this.signal));
    const useLedger =
      roots.useLedgerAfterSlot !== undefined &&
      (roots.useLedgerAfterSlot === 0 || (reg.slot ?? 0) >= roots.useLedgerAfterSlot);

    // A long run says how far it got (stderr, silent under --json), after 2 s of wall time.
    const progress = this.progress();
    const wallStart = performance.now();
    let shown = false;
    const onSlice = (now: number): void => {
      const text = `simulating: ${formatDuration(Math.round(now))} of ${formatDuration(durationMs)} (Ctrl-C to stop)`;
      if (shown) progress.update(text);
      else if (performance.now() - wallStart > 2000) {
        progress.start(text);
        shown = true;
      }
    };
    let result: Awaited<ReturnType<typeof runDryRun>>;
    try {
      result = await runDryRun(
        {
          seed: flags.seed,
          durationMs,
          atMs: ats,
          targets,
          targetsFrom,
          syncTargets,
          peerSharing,
          consensusMode,
          churn: flags.churn,
          // With a judgement the churn regime follows it, unless one was asked for explicitly.
          regime:
            judgement.length === 0 || explicitRegime(this.argv)
              ? flags.regime === 'praos-sync'
                ? 'praosSync'
                : flags.regime === 'bootstrap-praos-sync'
                  ? 'bootstrapPraosSync'
                  : 'default'
              : undefined,
          judgement,
          localRoots: roots.localRoots,
          publicRoots: roots.publicRoots,
          bootstrapPeers: roots.bootstrapPeers,
          useLedger,
          registry: { source: reg.source, pools: reg.pools },
          trace: flags.trace,
        },
        {
          signal: this.signal,
          onSlice,
          wallClock: () => performance.now(),
          yieldToEventLoop: () => new Promise<void>((resolve) => setImmediate(resolve)),
          // Ctrl-C shows the table reached so far (exit 130) rather than nothing.
          partialOnAbort: true,
        },
      );
    } finally {
      if (shown) progress.stop();
    }
    const { doc } = result;
    if (!this.jsonEnabled()) {
      for (const line of renderDryRun(this.c, doc, result.snapshots, result.final, result.trace, flags.trace))
        this.out(line);
      for (const n of dryRunNotes(doc)) this.note(n);
    }
    if (doc.interrupted) {
      process.exitCode = ExitCode.interrupted;
      if (!this.jsonEnabled())
        process.stderr.write(
          `${this.stderrPalette().fail('spo:')} interrupted at ${formatDuration(doc.simulatedMs)} of simulated time: the table above is as of then\n`,
        );
    }
    return doc;
  }
}

/** The longest simulated run: 30 days (a simulated day costs seconds to minutes of CPU). */
const MAX_DURATION_MS = 30 * 24 * 3_600_000;
const MAX_DURATION_TEXT = '30d';
/** `--judgement 0s=too-old,20m=young` or `--ledger-state too-old` as a script (times in ms). */
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
      at: parseDuration(m[1] as string, '--judgement'),
      judgement: value(m[2] as string, '--judgement'),
    });
  }
  return out.sort((a, b) => a.at - b.at);
}

/** Whether --regime was given on the command line (its default must not override the judgement). */
function explicitRegime(argv: readonly string[]): boolean {
  return argv.some((a) => a === '--regime' || a.startsWith('--regime='));
}
