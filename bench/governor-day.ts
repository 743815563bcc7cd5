/**
 * One version of the governor on the benchmark's one-day scenario, alone in its own process (started
 * by governor.bench.ts): `node --import tsx bench/governor-day.ts <current|baseline DIR|previous DIR> <warm-up>
 * <rounds>` (baseline: the commit before issue 11's work, its mock-env API; previous: a later commit
 * of today's code, e.g. main before a change being measured).
 *
 * Each version runs in a fresh process so that neither pays for the other: with both in one process
 * the one measured second ran about twice as slow as alone (the baseline leaves a large heap and
 * its own compiled code behind), which measured the neighbour, not the governor. Both versions get
 * the same warm-up (the JIT's tiers) and the same number of measured days. Prints one JSON line.
 */
import { pathToFileURL } from 'node:url';
import { randomEnvironment } from '../src/sim/random-world.js';
import { SimulatedNode } from '../src/sim/simulated-node.js';

/** The scenario: 300 simulated peers, targets known 100 / established 30 / active 20 (+ BLP 15/10/5). */
export const DAY_TARGETS = {
  root: 20,
  known: 100,
  established: 30,
  active: 20,
  knownBigLedger: 15,
  establishedBigLedger: 10,
  activeBigLedger: 5,
};
export const DAY_OPTIONS = {
  peers: 300,
  pools: 100,
  publicRoots: 10,
  localRootGroups: 2,
  churn: true,
  targets: DAY_TARGETS,
};
const DAY_S = 86_400;
const HOUR_S = 3_600;

export interface DayRun {
  hourMs: number;
  dayMs: number;
  /** CPU time of the process over the day (user + system): less sensitive to a loaded machine. */
  dayCpuMs: number;
  decisionsHour: number;
  decisionsDay: number;
  known: number;
}

/** What both versions are driven through (the baseline's API; the new one is adapted to it). */
interface MockModule {
  MockEnvironment: new (
    cfg: Record<string, unknown>,
  ) => {
    runUntil(t: number): boolean;
    decisionCount: number;
    state: { known: Map<string, unknown> };
  };
  randomEnvironment(seed: number, o: typeof DAY_OPTIONS): Record<string, unknown>;
}

function runDay(mod: MockModule, scale: number, seed: number): DayRun {
  const env = new mod.MockEnvironment({ ...mod.randomEnvironment(seed, DAY_OPTIONS), keepTrace: false });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  env.runUntil(HOUR_S * scale);
  const t1 = performance.now();
  const decisionsHour = env.decisionCount;
  env.runUntil(DAY_S * scale);
  const t2 = performance.now();
  const cpu = process.cpuUsage(c0);
  return {
    hourMs: t1 - t0,
    dayMs: t2 - t0,
    dayCpuMs: (cpu.user + cpu.system) / 1000,
    decisionsHour,
    decisionsDay: env.decisionCount,
    known: env.state.known.size,
  };
}

async function main(): Promise<void> {
  const [which, a, b, c] = process.argv.slice(2);
  let mod: MockModule;
  let scale: number;
  let rest: Array<string | undefined>;
  if (which === 'previous') {
    // An earlier commit of today's code (milliseconds), its src/ extracted by the parent into a folder.
    const node = (await import(pathToFileURL(`${a}/src/sim/simulated-node.ts`).href)) as { SimulatedNode: unknown };
    const world = (await import(pathToFileURL(`${a}/src/sim/random-world.ts`).href)) as { randomEnvironment: unknown };
    mod = { MockEnvironment: node.SimulatedNode, randomEnvironment: world.randomEnvironment } as unknown as MockModule;
    scale = 1000;
    rest = [b, c];
  } else if (which === 'baseline') {
    // The baseline commit's governor (seconds), extracted by the parent into a folder.
    mod = (await import(pathToFileURL(`${a}/src/governor/mock-env.ts`).href)) as MockModule;
    scale = 1;
    rest = [b, c];
  } else {
    // Today's simulated node (milliseconds): the same seed draws the same network.
    mod = { MockEnvironment: SimulatedNode, randomEnvironment } as unknown as MockModule;
    scale = 1000;
    rest = [a, b];
  }
  const warmUp = Number(rest[0] ?? 3);
  const rounds = Number(rest[1] ?? 5);
  for (let i = 0; i < warmUp; i++) runDay(mod, scale, 99);
  // No forced GC between days: a full collection shrinks the young generation, and the next day
  // then paid twice its usual cost in scavenges (measured: 140-240 ms of CPU instead of 55-135).
  const runs: DayRun[] = [];
  for (let i = 0; i < rounds; i++) runs.push(runDay(mod, scale, 1));
  process.stdout.write(`${JSON.stringify(runs)}\n`);
}

await main();
