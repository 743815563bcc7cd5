import { join } from 'node:path';
import { Flags } from '@oclif/core';
import { SpoCommand } from '../base-command.js';
import { systemClock } from '../lib/clock.js';
import { parseDuration } from '../lib/duration.js';
import { InterruptedError, UsageError } from '../lib/errors.js';
import { runTestnet, TESTNET_MAGIC, type TestnetPhase, type TestnetResult } from '../testnet/orchestrator.js';
import { LATENCY_MODELS, type LatencyModel, MAX_NODES, MIN_NODES } from '../testnet/plan.js';
import type { TestnetSummary, TestnetTracker, TrackerNotice } from '../testnet/tracker.js';
import { noticeLine, renderFrame, renderSummary, statusLine, type TestnetHeader, titleLine } from '../ui/testnet.js';
import { frame, SCREEN_ENTER, SCREEN_LEAVE } from '../ui/top.js';

/** Log lines kept under the live table. */
const LOG_LINES = 10;
/** How often the live frame is redrawn, and a `nodes` JSON line written. */
const REFRESH_MS = 1_000;
/** Off a terminal: a status line every this many refreshes. */
const PLAIN_STATUS_EVERY = 10;

export interface TestnetJsonSummary extends TestnetSummary {
  event: 'summary';
  interrupted: boolean;
  durationMs: number;
  stopMs: number;
  killed: number;
  exits: TestnetResult['exits'];
}

export default class Testnet extends SpoCommand {
  static override summary = 'Run a private testnet of spo nodes on loopback and watch the governor and churn at work.';
  static override description =
    `Starts --nodes live spo nodes (each a \`spo run\` child process on its own loopback address 127.x.y.N; real sockets, real handshakes), --producers of which mint a header every --block-interval in turn. Each node's local root is the next node on a ring, its ledger peers the rest (equal stake); targets are small (known: the local root and a few ledger peers, 4 of the 7 others with 8 nodes; established up to 5; active up to 3) so that the governor has something to choose and the ledger's random draws fill them in seconds. --duration starts once every node is at its targets (at most 150 s after the start). With --latency geo (default) each link gets a one-way delay from the geographic model of spo simulate (great-circle distance over fibre), injected in spo's own transport on the bytes each node sends: no root or kernel feature is needed.

The view shows every node's hot/warm/cold counts, churn events and, for each block, the time until every node had its header; the summary at the end gives p50/p95 of that time per churn cycle. Churn runs every --churn-interval (the node's own is about an hour; a short one makes it visible in minutes; the mechanism is the reference's). spo validates no ledger rules: the headers are synthetic.

Ctrl-C (or the end of --duration) stops every node (SIGTERM, killed after 5 s if still running) and removes the temporary folder. With --json: one JSON object per line (docs/json.md). How it works and why processes: docs/testnet.md.`;
  static override examples = [
    '<%= config.bin %> testnet',
    '<%= config.bin %> testnet --duration 1m',
    '<%= config.bin %> testnet --nodes 12 --producers 3 --latency none --seed 7',
    '<%= config.bin %> testnet --json | jq -c "select(.event == \\"block\\")"',
  ];
  static override flags = {
    nodes: Flags.integer({ description: 'number of nodes', default: 8, min: MIN_NODES, max: MAX_NODES }),
    producers: Flags.integer({ description: 'how many of them mint headers', default: 2, min: 1, max: MAX_NODES }),
    duration: Flags.string({
      description: 'how long the testnet runs once every node is at its targets (e.g. 90s, 2m)',
      default: '2m',
      helpValue: 'DURATION',
    }),
    'block-interval': Flags.string({
      description: 'time between two blocks of the testnet (the producers take turns)',
      default: '2s',
      helpValue: 'DURATION',
    }),
    'churn-interval': Flags.string({
      description: "time between a node's churn cycles (cardano-node: 55-65 min)",
      default: '20s',
      helpValue: 'DURATION',
    }),
    latency: Flags.string({
      description: 'link latency: geo (geographic model) or none (bare loopback)',
      options: [...LATENCY_MODELS],
      default: 'geo',
    }),
    seed: Flags.integer({ description: 'seed of the placement, roles and local roots', default: 1 }),
    'log-dir': Flags.string({
      description: "keep every node's JSON lines in this folder (n1.jsonl, ...)",
      helpValue: 'DIR',
    }),
  };

  override logJson(json: unknown): void {
    // JSON lines: one object per line, the summary included
    if (json !== undefined) process.stdout.write(`${JSON.stringify(json)}\n`);
  }

  async run(): Promise<TestnetJsonSummary | undefined> {
    const { flags } = await this.parse(Testnet);
    const durationMs = parseDuration(flags.duration, '--duration');
    const blockIntervalMs = parseDuration(flags['block-interval'], '--block-interval');
    const churnIntervalMs = parseDuration(flags['churn-interval'], '--churn-interval');
    if (durationMs <= 0) throw new UsageError('BAD_DURATION', '--duration must be more than 0');
    if (blockIntervalMs < 100)
      throw new UsageError('BAD_DURATION', `--block-interval ${flags['block-interval']}: at least 100ms`, {
        hint: 'a block every 100 ms or more; the testnet measures how long a block takes to reach every node',
      });
    if (churnIntervalMs < 1_000)
      throw new UsageError('BAD_DURATION', `--churn-interval ${flags['churn-interval']}: at least 1s`);
    if (flags.producers > flags.nodes)
      throw new UsageError('BAD_PRODUCERS', `--producers ${flags.producers} is more than --nodes ${flags.nodes}`, {
        hint: `give at most ${flags.nodes} producers`,
      });
    // A testnet is its own network: --magic names its magic; a public network's name makes no sense.
    if (flags.network !== undefined)
      throw new UsageError('BAD_NETWORK', `--network ${flags.network}: a testnet is a network of its own`, {
        hint: `leave --network out (the nodes use magic ${TESTNET_MAGIC}) or give --magic N`,
      });
    if (!Number.isSafeInteger(flags.seed))
      throw new UsageError('BAD_SEED', `--seed ${flags.seed}: not an integer between -(2^53-1) and 2^53-1`);

    const json = this.jsonEnabled();
    const live = process.stdout.isTTY === true && !json;
    const p = this.c;
    const log: string[] = [];
    let header: TestnetHeader | undefined;
    let phase: TestnetPhase = 'starting';
    let startedAt = systemClock.now();
    const draw = (): void => {
      if (!live || header === undefined) return;
      const status =
        phase === 'running'
          ? 'Ctrl-C stops every node'
          : phase === 'forming'
            ? 'waiting for every node to reach its targets (then --duration starts) · Ctrl-C stops every node'
            : phase === 'draining'
              ? 'waiting for the last blocks to reach every node…'
              : `${phase}…`;
      process.stdout.write(
        frame(renderFrame(header, trackerRef as TestnetTracker, log, systemClock.now() - startedAt, status, p)),
      );
    };
    let trackerRef: TestnetTracker | undefined;
    const progress = this.progress();
    const onNotice = (n: TrackerNotice, tracker: TestnetTracker): void => {
      trackerRef = tracker;
      if (json) this.logJson(noticeJson(n, tracker, header));
      else {
        const line = noticeLine(n, (header as TestnetHeader).plan, p);
        if (live) {
          log.push(line);
          if (log.length > LOG_LINES) log.shift();
        } else process.stdout.write(`${line}\n`);
      }
    };
    let refresh: NodeJS.Timeout | undefined;
    const onPhase = (next: TestnetPhase, tracker: TestnetTracker): void => {
      phase = next;
      trackerRef = tracker;
      if (next === 'running') startedAt = systemClock.now();
      if ((next === 'forming' || next === 'running') && refresh === undefined) {
        startedAt = systemClock.now();
        progress.stop();
        if (live) process.stdout.write(SCREEN_ENTER);
        let ticks = 0;
        refresh = setInterval(() => {
          ticks++;
          if (live) draw();
          else if (json && header) this.logJson(nodesJson(header, tracker));
          else if (header && ticks % PLAIN_STATUS_EVERY === 0)
            process.stdout.write(`${statusLine(header, tracker, p)}\n`);
        }, REFRESH_MS);
      } else if (next === 'starting') progress.start(`starting ${flags.nodes} nodes…`);
      draw();
    };
    let result: TestnetResult;
    try {
      result = await runTestnet({
        nodes: flags.nodes,
        producers: flags.producers,
        seed: flags.seed,
        latency: flags.latency as LatencyModel,
        blockIntervalMs,
        durationMs,
        churnIntervalMs,
        ...(flags.magic === undefined ? {} : { magic: flags.magic }),
        bin: join(this.config.root, 'bin', 'run.js'),
        ...(flags['log-dir'] === undefined ? {} : { logDir: flags['log-dir'] }),
        signal: this.signal,
        onNotice,
        onPhase,
        onPlan: (plan, ports) => {
          header = { plan, ports, durationMs, churnIntervalMs };
          if (json) this.logJson({ event: 'plan', ...planJson(header) });
          else if (!live) process.stdout.write(`${titleLine(header, 0, 0, p)}\n`);
        },
      });
    } finally {
      if (refresh) clearInterval(refresh);
      progress.stop();
      if (live && phase !== 'starting') process.stdout.write(SCREEN_LEAVE);
    }
    const h = header as TestnetHeader;
    const killed = result.exits.filter((e) => e.killed).length;
    if (live && trackerRef) {
      // the last frame stays on the normal screen
      process.stdout.write(
        `${renderFrame(h, trackerRef, log, systemClock.now() - startedAt, 'stopped', p)
          .slice(0, -2)
          .join('\n')}\n\n`,
      );
    }
    const doc: TestnetJsonSummary = {
      event: 'summary',
      ...result.summary,
      interrupted: result.interrupted,
      durationMs: Math.round(result.durationMs),
      stopMs: result.stopMs,
      killed,
      exits: result.exits,
    };
    if (!json)
      this.out(renderSummary(h, result.summary, { stopMs: result.stopMs, killed, interrupted: result.interrupted }, p));
    if (result.interrupted) {
      if (json) this.logJson(doc);
      // the summary is out; the exit code still says the run was cut short
      throw new InterruptedError();
    }
    return doc;
  }
}

function planJson(h: TestnetHeader): Record<string, unknown> {
  const o = h.plan.options;
  return {
    nodes: h.plan.nodes.map((n) => ({
      name: n.name,
      address: `${n.host}:${h.ports[n.index]}`,
      producer: n.producer,
      region: n.region ?? null,
      localRoots: n.localRoots.map((j) => h.plan.nodes[j]?.name),
      linkDelaysMs: h.plan.delays[n.index],
    })),
    producers: o.producers,
    latency: o.latency,
    seed: o.seed,
    blockIntervalMs: o.blockIntervalMs,
    churnIntervalMs: h.churnIntervalMs,
    durationMs: h.durationMs,
    targets: h.plan.targets,
  };
}

function nodesJson(h: TestnetHeader, tracker: TestnetTracker): Record<string, unknown> {
  return {
    event: 'nodes',
    time: new Date().toISOString(),
    cycle: tracker.cycle,
    nodes: tracker.nodes.map((v) => ({
      name: h.plan.nodes[v.index]?.name,
      pid: v.pid ?? null,
      hot: v.hot,
      warm: v.warm,
      cold: v.cold,
      tipBlockNo: v.tipBlockNo ?? null,
      churnCycles: v.churnCycles,
      atTargets: v.reachedTargetsAt !== undefined,
    })),
  };
}

function noticeJson(n: TrackerNotice, tracker: TestnetTracker, h: TestnetHeader | undefined): Record<string, unknown> {
  const name = (i: number | undefined): string | null => (i === undefined ? null : (h?.plan.nodes[i]?.name ?? null));
  switch (n.kind) {
    case 'block':
      return {
        event: 'block',
        blockNo: n.block.blockNo,
        slot: n.block.slot,
        hash: n.block.hash,
        producer: name(n.block.producer),
        mintedAt: new Date(n.block.mintedAt ?? 0).toISOString(),
        allReachedMs: n.block.allReachedMs,
        arrivalsMs: Object.fromEntries([...n.block.arrivals].map(([i, t]) => [name(i), t - (n.block.mintedAt ?? t)])),
        cycle: n.block.cycle,
      };
    case 'churn':
      return { event: 'churn', node: name(n.node), action: n.action, count: n.count, cycle: n.cycle };
    case 'targets':
      return { event: 'targets', node: name(n.node), cycle: tracker.cycle };
    case 'warning':
      return { event: 'warning', node: name(n.node), code: n.code, message: n.message };
  }
}
