/**
 * `spo testnet` as a library (docs/testnet.md): plans the network, writes each node's files in a
 * temporary folder, starts every node as a child process of `bin/run.js run --json` on its own
 * loopback address, reads their JSON lines into the tracker, and at the end (or on abort) stops
 * them all: SIGTERM, then SIGKILL for any still running after the grace time; the folder is
 * removed and no child outlives the call, whichever way it ends (a process 'exit' hook kills any
 * child left if the parent itself dies on an uncaught error).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type Clock, type Millis, sleep, systemClock } from '../lib/clock.js';
import { SpoError } from '../lib/errors.js';
import {
  ledgerPeersFile,
  linkDelaysFile,
  nodeConfigFile,
  type PlannedNode,
  planTestnet,
  type TestnetOptions,
  type TestnetPlan,
  topologyFile,
} from './plan.js';
import { type NodeLine, type TestnetSummary, TestnetTracker, type TrackerNotice } from './tracker.js';

/** How long the nodes get to stop after SIGTERM before they are killed (`spo run` promises 5 s). */
export const STOP_GRACE_MS: Millis = 5_000;
/** After the last block is due, how long the run waits for the blocks in flight to reach every node. */
export const DRAIN_LIMIT_MS: Millis = 5_000;
/** How long a node may take to say it started (a loaded machine starts node processes slowly). */
export const START_LIMIT_MS: Millis = 30_000;
/**
 * How long the run waits for every node to reach its targets before `--duration` starts anyway.
 * Usually a few seconds; the ledger's random draws back off 2, 4, 8 ... s after each draw that
 * repeats a peer (docs/testnet.md), so a node now and then needs a minute.
 */
export const FORM_LIMIT_MS: Millis = 150_000;

export interface NodeFiles {
  topology: string;
  config: string;
  ledgerPeers: string;
  linkDelays: string;
}

export interface TestnetRunOptions extends TestnetOptions {
  durationMs: Millis;
  /** Each node's churn interval (the reference's is ~1 h: a short one makes churn visible in minutes). */
  churnIntervalMs: Millis;
  /** The nodes' network magic (default TESTNET_MAGIC). */
  magic?: number;
  /** The launcher every node runs (`bin/run.js` of this installation). */
  bin: string;
  signal: AbortSignal;
  clock?: Clock;
  /** Every notice of the tracker, as it happens (the view's log). */
  onNotice?: (notice: TrackerNotice, tracker: TestnetTracker) => void;
  /** Keep each node's JSON lines in this folder (`n1.jsonl`, ...), for a closer look. */
  logDir?: string;
  /** Extra environment for the nodes. */
  env?: Record<string, string>;
  /** Grace time after SIGTERM (default STOP_GRACE_MS). */
  stopGraceMs?: Millis;
  /** How long the end waits for blocks in flight (default DRAIN_LIMIT_MS). */
  drainLimitMs?: Millis;
  /** How long the run waits for every node to reach its targets (default FORM_LIMIT_MS). */
  formLimitMs?: Millis;
  /** The plan and the ports chosen, before any node starts. */
  onPlan?: (plan: TestnetPlan, ports: readonly number[]) => void;
  /** Phase changes (the view's status line). */
  onPhase?: (phase: TestnetPhase, tracker: TestnetTracker) => void;
}

export type TestnetPhase = 'starting' | 'forming' | 'running' | 'draining' | 'stopping' | 'stopped';

export interface NodeExit {
  node: string;
  pid: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** From SIGTERM to exit. */
  stopMs: number | undefined;
  /** It had to be killed (SIGKILL) after the grace time. */
  killed: boolean;
}

export interface TestnetResult {
  plan: TestnetPlan;
  ports: number[];
  summary: TestnetSummary;
  tracker: TestnetTracker;
  exits: NodeExit[];
  /** From the first SIGTERM until the last node exited. */
  stopMs: number;
  interrupted: boolean;
  durationMs: number;
  /** The temporary folder the nodes' files were in (removed by then). */
  dir: string;
}

/** The command line of one node (after `bin/run.js`). */
export function nodeArgs(
  o: Pick<TestnetRunOptions, 'churnIntervalMs' | 'magic'>,
  plan: TestnetPlan,
  node: PlannedNode,
  port: number,
  files: NodeFiles,
): string[] {
  const args = [
    'run',
    '--json',
    '--host',
    node.host,
    '--port',
    String(port),
    '--topology',
    files.topology,
    '--config',
    files.config,
    '--source',
    files.ledgerPeers,
    '--allow-private-peers',
    '--snapshot-interval',
    '1s',
    '--link-delays',
    files.linkDelays,
    '--churn-interval',
    `${o.churnIntervalMs}ms`,
    '--magic',
    String(o.magic ?? TESTNET_MAGIC),
    // each node its own governor seed, drawn from the testnet's: the same --seed, the same choices offered
    '--seed',
    String(nodeSeed(plan.options.seed, node.index)),
  ];
  if (node.producer)
    args.push(
      '--mint-interval',
      `${plan.mintIntervalMs}ms`,
      '--mint-offset',
      `${node.mintOffsetMs}ms`,
      '--mint-phase',
      `${node.mintPhaseMs}ms`,
    );
  return args;
}

/** A node's governor seed from the testnet's (any fixed mix; only needs to differ per node). */
export function nodeSeed(seed: number, index: number): number {
  return ((seed * 1_000_003) ^ (index + 1)) >>> 0;
}

/** The testnet's network magic (any value the nodes share; not one of the public networks'). */
export const TESTNET_MAGIC = 4242;

/** A free TCP port on `host` (the kernel's choice; released at once, so a short race is possible). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new SpoError('TESTNET_LOOPBACK', `cannot listen on ${host}: ${e.code ?? e.message}`, {
          hint: 'spo testnet gives each node its own loopback address (127.x.y.z); Linux routes all of 127/8 to lo, other systems need the addresses added to the loopback interface',
          details: { host, errno: e.code ?? 'unknown' },
        }),
      ),
    );
    s.listen({ host, port: 0, exclusive: true }, () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Children still running, killed if the process leaves some other way. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
}

interface Running {
  node: PlannedNode;
  child: ChildProcess;
  exited: Promise<void>;
  exit: NodeExit;
  stderrTail: string[];
  termAt: number | undefined;
}

export async function runTestnet(o: TestnetRunOptions): Promise<TestnetResult> {
  const clock = o.clock ?? systemClock;
  // The subnet is the one draw that is not from the seed: two testnets on one machine must not meet.
  const subnet: [number, number] = [randomInt(1, 255), randomInt(0, 256)];
  const plan = planTestnet(o, subnet);
  const tracker = new TestnetTracker(plan.nodes.length, plan.targets);
  const dir = mkdtempSync(join(tmpdir(), 'spo-testnet-'));
  const running: Running[] = [];
  const startedAt = clock.now();
  let interrupted = false;
  const waiters = new Set<() => void>();
  /** Re-checks every pending `until` (after each line read and each exit). */
  const poke = (): void => {
    for (const w of [...waiters]) w();
  };
  /** Resolves true once `check()` holds (re-checked on every line), false when `limitMs` passed or the signal fired. */
  const until = (check: () => boolean, limitMs: Millis): Promise<boolean> =>
    new Promise<boolean>((resolve) => {
      if (check()) {
        resolve(true);
        return;
      }
      if (o.signal.aborted) {
        resolve(false);
        return;
      }
      const done = (v: boolean): void => {
        waiters.delete(w);
        timer.cancel();
        o.signal.removeEventListener('abort', onAbort);
        resolve(v);
      };
      const w = (): void => {
        if (check()) done(true);
      };
      const onAbort = (): void => done(false);
      const timer = clock.setTimer(limitMs, () => done(check()));
      waiters.add(w);
      o.signal.addEventListener('abort', onAbort, { once: true });
    });
  let stopMs = 0;
  const ports: number[] = [];
  let mintingEnd = Number.POSITIVE_INFINITY;
  try {
    installExitHook();
    o.onPhase?.('starting', tracker);
    if (o.logDir !== undefined) mkdirSync(o.logDir, { recursive: true });
    for (const n of plan.nodes) ports.push(await freePort(n.host));
    o.onPlan?.(plan, ports);
    const config = join(dir, 'config.json');
    writeFileSync(config, nodeConfigFile(plan));
    for (const n of plan.nodes) {
      const files: NodeFiles = {
        topology: join(dir, `${n.name}-topology.json`),
        config,
        ledgerPeers: join(dir, `${n.name}-ledger-peers.json`),
        linkDelays: join(dir, `${n.name}-link-delays.json`),
      };
      writeFileSync(files.topology, topologyFile(plan, n, ports));
      writeFileSync(files.ledgerPeers, ledgerPeersFile(plan, n, ports));
      writeFileSync(files.linkDelays, linkDelaysFile(plan, n));
      running.push(start(n, nodeArgs(o, plan, n, ports[n.index] as number, files)));
    }

    const allStarted = await until(
      () =>
        tracker.nodes.every((n) => n.started) || running.some((r) => r.exit.code !== null || r.exit.signal !== null),
      START_LIMIT_MS,
    );
    const early = running.find((r) => r.exit.code !== null || r.exit.signal !== null);
    if (early) throw nodeFailed(early);
    if (!allStarted) {
      if (o.signal.aborted) throw o.signal.reason;
      const slow = running.filter((r) => !(tracker.nodes[r.node.index]?.started ?? false)).map((r) => r.node.name);
      throw new SpoError(
        'TESTNET_START_TIMEOUT',
        `${slow.join(', ')} did not start within ${START_LIMIT_MS / 1000} s`,
        {
          hint: 'the machine may be overloaded; try fewer --nodes',
          details: { nodes: slow },
        },
      );
    }
    // The network forms: every node reaches its targets (known, established, active) before the
    // measured run begins, or the limit passes and the summary says which did not.
    o.onPhase?.('forming', tracker);
    await until(
      () =>
        tracker.nodes.every((n) => n.reachedTargetsAt !== undefined) ||
        running.some((r) => r.exit.code !== null || r.exit.signal !== null),
      o.formLimitMs ?? FORM_LIMIT_MS,
    );
    const failed = running.find((r) => r.exit.code !== null || r.exit.signal !== null);
    if (failed && !o.signal.aborted) throw nodeFailed(failed);
    o.onPhase?.('running', tracker);
    try {
      // --duration counts from the moment the network formed (start-up time varies with the
      // machine's load, and a node's ledger draws with their luck)
      await sleep(clock, o.durationMs, o.signal);
    } catch (e) {
      if (!o.signal.aborted) throw e;
    }
    mintingEnd = Date.now();
    const crashed = running.find((r) => r.exit.code !== null || r.exit.signal !== null);
    if (crashed && !o.signal.aborted) throw nodeFailed(crashed);
    if (!o.signal.aborted) {
      // The blocks in flight get their chance to reach every node before the nodes stop.
      o.onPhase?.('draining', tracker);
      await until(() => tracker.allDelivered(mintingEnd), o.drainLimitMs ?? DRAIN_LIMIT_MS);
    }
    interrupted = o.signal.aborted;
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
  return finish(ports);

  function finish(ports: number[]): TestnetResult {
    return {
      plan,
      ports,
      summary: tracker.summary(mintingEnd),
      tracker,
      exits: running.map((r) => r.exit),
      stopMs,
      interrupted,
      durationMs: clock.now() - startedAt,
      dir,
    };
  }

  function start(node: PlannedNode, args: string[]): Running {
    const child = spawn(process.execPath, [o.bin, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: a Ctrl-C in the terminal reaches only spo testnet, which then stops
      // each node once with SIGTERM (a node that got SIGINT and then SIGTERM would leave at once,
      // as a second Ctrl-C does, instead of closing its connections).
      detached: true,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...o.env },
    });
    live.add(child);
    const r: Running = {
      node,
      child,
      exit: { node: node.name, pid: child.pid, code: null, signal: null, stopMs: undefined, killed: false },
      stderrTail: [],
      termAt: undefined,
      exited: new Promise<void>((resolve) => {
        child.once('close', (code, signal) => {
          live.delete(child);
          r.exit.code = code;
          r.exit.signal = signal;
          if (r.termAt !== undefined) r.exit.stopMs = Math.round(clock.now() - r.termAt);
          resolve();
          poke();
        });
        child.once('error', () => undefined);
      }),
    };
    const out = createInterface({ input: child.stdout as NodeJS.ReadableStream, crlfDelay: Number.POSITIVE_INFINITY });
    const log = o.logDir === undefined ? undefined : createWriteStream(join(o.logDir, `${node.name}.jsonl`));
    if (log) child.once('close', () => log.end());
    out.on('line', (text) => {
      log?.write(`${text}\n`);
      let line: NodeLine;
      try {
        line = JSON.parse(text) as NodeLine;
      } catch {
        return; // not a JSON line (should not happen with --json); the tail of stderr says what went wrong
      }
      if (typeof line !== 'object' || line === null) return;
      const error = (line as { error?: { code?: unknown; message?: unknown } }).error;
      if (typeof error === 'object' && error !== null) {
        // --json puts a failing node's error on standard output
        r.stderrTail.push(`${String(error.code)}: ${String(error.message)}`);
        return;
      }
      if (typeof (line as { event?: unknown }).event !== 'string') return;
      for (const n of tracker.add(node.index, line)) o.onNotice?.(n, tracker);
      poke();
    });
    const err = createInterface({ input: child.stderr as NodeJS.ReadableStream, crlfDelay: Number.POSITIVE_INFINITY });
    err.on('line', (text) => {
      r.stderrTail.push(text);
      if (r.stderrTail.length > 20) r.stderrTail.shift();
    });
    return r;
  }

  async function stopAll(): Promise<void> {
    o.onPhase?.('stopping', tracker);
    const t0 = clock.now();
    for (const r of running) {
      if (r.exit.code === null && r.exit.signal === null) {
        r.termAt = clock.now();
        r.child.kill('SIGTERM');
      }
    }
    const all = Promise.all(running.map((r) => r.exited));
    let timer: { cancel(): void } | undefined;
    const graceOver = new Promise<'late'>((resolve) => {
      timer = clock.setTimer(o.stopGraceMs ?? STOP_GRACE_MS, () => resolve('late'));
    });
    const outcome = await Promise.race([all.then(() => 'done' as const), graceOver]);
    timer?.cancel();
    if (outcome === 'late') {
      for (const r of running) {
        if (r.exit.code === null && r.exit.signal === null) {
          r.exit.killed = true;
          r.child.kill('SIGKILL');
        }
      }
      await all;
    }
    stopMs = Math.round(clock.now() - t0);
    o.onPhase?.('stopped', tracker);
  }

  function nodeFailed(r: Running): SpoError {
    const why =
      r.stderrTail
        .filter((l) => l.trim() !== '')
        .slice(-3)
        .join(' | ') || `exit ${r.exit.code ?? r.exit.signal}`;
    return new SpoError('TESTNET_NODE_FAILED', `node ${r.node.name} (${r.node.host}) stopped: ${why}`, {
      hint: 'the node printed this before it ended; run the same spo run by hand to see more',
      details: { node: r.node.name, code: r.exit.code ?? 'none', signal: r.exit.signal ?? 'none' },
    });
  }
}
