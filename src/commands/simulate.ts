import { Flags } from '@oclif/core';
import { SpoCommand } from '../base-command.js';
import { writeFileAtomic } from '../lib/atomic-write.js';
import { UsageError } from '../lib/errors.js';
import { checkOutputPath } from '../lib/output-path.js';
import {
  POLICY_NAMES,
  type PolicyName,
  type RoundFigures,
  type SimulationResult,
  simulate,
} from '../simulation/run.js';
import { renderSimulationHtml } from '../ui/simulation-html.js';
import { progressLine, renderSimulation } from '../ui/simulation-report.js';

export type { SimulationResult } from '../simulation/run.js';

/** Gives the event loop a turn (the spinner, Ctrl-C) between rounds of the synchronous core. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export default class Simulate extends SpoCommand {
  static override summary =
    'Simulate block-header diffusion over thousands of nodes running the governor, and compare churn policies.';
  static override description =
    `Places --nodes nodes by a stated continental mix (link delay = great-circle distance / (2/3 c) + a 50 ms processing delay per hop), draws stake and a block schedule (a block every 20 s on average, producer drawn by stake), and diffuses every block's header over the hot links: a node forwards a header as soon as it first has it. Policies, on the same nodes and blocks:

  node      every node runs the governor core's churn and upstream metric (src/governor): every 3300 s + U(0, 600 s) it demotes the 20 % of its hot peers that delivered fewest headers first over the last 180 slots and promotes random warm peers
  no-churn  the random overlay the governor reaches without churn
  oracle    each round, every node keeps its first 20 % random hot peers and takes the rest from its known peers by true mean arrival + true link delay

A round is one nominal churn interval (1 h). Per block the figure is the time until 95 % of nodes have its header; per round and for the steady state (the last third of the rounds) spo reports its p50/p95/p99 over blocks and the share of blocks within the design's 5 s deadline, with the direct-link floor as a bound. Everything is drawn from --seed: the same seed gives the same output. What is and is not modelled: docs/simulation.md.

With --out an HTML report (diffusion curves, per-round charts, as inline SVG) is written; with --json one JSON object with every round's figures (docs/json.md).`;
  static override examples = [
    '<%= config.bin %> simulate',
    '<%= config.bin %> simulate --nodes 1000 --rounds 10 --out report.html',
    '<%= config.bin %> simulate --policy node --hot 10 --seed 7',
    '<%= config.bin %> simulate --nodes 2000 --json | jq ".policies[] | {policy, steady}"',
  ];
  static override flags = {
    nodes: Flags.integer({ description: 'number of nodes', default: 10_000, min: 2, max: 200_000 }),
    rounds: Flags.integer({
      description: 'churn rounds (one nominal churn interval, 1 h, each)',
      default: 30,
      min: 1,
      max: 1_000,
    }),
    policy: Flags.string({
      description: 'policy to simulate, or all side by side',
      options: [...POLICY_NAMES, 'all'],
      default: 'all',
    }),
    hot: Flags.integer({ description: 'hot peers per node (the active target)', default: 20, min: 1, max: 100 }),
    seed: Flags.integer({ description: 'seed of every random draw (same seed, same output)', default: 1 }),
    out: Flags.string({ description: 'write an HTML report (charts as inline SVG) to this file' }),
  };

  async run(): Promise<SimulationResult> {
    const { flags } = await this.parse(Simulate);
    if (!Number.isSafeInteger(flags.seed))
      throw new UsageError('BAD_SEED', `--seed ${flags.seed}: not an integer between -(2^53-1) and 2^53-1`, {
        hint: 'use a smaller whole number, e.g. --seed 7',
      });
    if (flags.hot >= flags.nodes)
      throw new UsageError('BAD_HOT', `--hot ${flags.hot} needs more than ${flags.nodes} nodes`, {
        hint: `give fewer hot peers than nodes, e.g. --hot ${Math.max(1, Math.min(20, flags.nodes - 1))}`,
      });
    if (flags.out) await checkOutputPath(flags.out);
    const policies: PolicyName[] = flags.policy === 'all' ? [...POLICY_NAMES] : [flags.policy as PolicyName];

    const progress = this.progress();
    const started = performance.now();
    progress.start(`building ${flags.nodes} nodes…`);
    const byPolicy = new Map<string, RoundFigures[]>(policies.map((p) => [p, []]));
    const it = simulate({ nodes: flags.nodes, rounds: flags.rounds, policies, hot: flags.hot, seed: flags.seed });
    let result: SimulationResult | undefined;
    while (!result) {
      this.signal.throwIfAborted();
      const step = it.next();
      if (step.done) {
        result = step.value;
        break;
      }
      byPolicy.get(step.value.policy)?.push(step.value.figures);
      progress.update(progressLine(step.value.round, step.value.rounds, byPolicy));
      await turn();
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    progress.succeed(`simulated ${result.nodes} nodes × ${result.rounds} rounds in ${seconds} s`);

    if (flags.out) {
      progress.start(`writing ${flags.out}…`);
      const html = await renderSimulationHtml(result);
      await writeFileAtomic(flags.out, html);
      progress.succeed(`wrote ${flags.out}`);
    }
    this.out(renderSimulation(result, this.c));
    return result;
  }
}
