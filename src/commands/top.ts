import { Flags } from '@oclif/core';
import { SpoCommand } from '../base-command.js';
import { type Millis, sleep, systemClock } from '../lib/clock.js';
import { parseDuration } from '../lib/duration.js';
import { isSpoError, type SpoError, UsageError } from '../lib/errors.js';
import { MetricsError } from '../metrics/errors.js';
import {
  DEFAULT_METRICS_URL,
  ENDPOINT_HINT,
  fetchMetricsPage,
  metricsAgent,
  parseMetricsUrl,
} from '../metrics/scrape.js';
import { looksLikeNoMetrics, snapshotFromPage, type TopSnapshot } from '../metrics/top-snapshot.js';
import { querySnapshot } from '../node/control.js';
import type { NodeEvent, NodeSnapshot } from '../node/snapshot.js';
import { createRunViewRefresher, eventsBetween, type RunViewRefresher } from '../ui/run-view.js';
import { type DashboardState, frame, renderDashboard, SCREEN_ENTER, SCREEN_LEAVE } from '../ui/top.js';

/** The shortest --interval: a node's page is rebuilt on every request; more often helps nobody. */
const MIN_INTERVAL_MS = 50;
/** The events `spo top --control` keeps for its log (derived from successive snapshots). */
const MAX_EVENTS = 50;

export interface TopStopped {
  event: 'stopped';
  refreshes: number;
  failed: number;
}

export default class Top extends SpoCommand {
  static override summary = "A live dashboard of a node's P2P state, read from its Prometheus endpoint.";
  static override description =
    `Reads the Prometheus page of a cardano-node (or of spo run) every --interval and shows its peer-selection counters (known / established / active and cold / warm / hot, for all peers, big ledger peers, local roots, non-root and bootstrap peers), the connection manager (inbound, outbound, duplex, unidirectional, full duplex, prunable), the inbound governor (idle / cold / warm / hot) and the tip (block, slot, epoch).

Both generations of the node's metric names are read: the legacy tracing system's (hasPrometheus; cardano_node_metrics_peerSelection_cold ...) and the new one's (trace-dispatcher's PrometheusSimple backend; cardano_node_metrics_peerSelection_Cold_int ..., with or without the _int suffixes). Which one the page uses is detected on every refresh and shown; docs/metrics.md lists every name.

On a terminal the dashboard is redrawn in place; Ctrl-C quits (exit 130). With --json, or when standard output is not a terminal, it prints one JSON object per refresh ({"event":"snapshot",...}; a failed refresh after the first is {"event":"error",...}) and, when --count ends it, {"event":"stopped",...}. If the first refresh fails, spo top exits 1 with the reason; later failures are shown and retried (the run then exits 1 if its last refresh failed).

--metrics takes a URL, HOST:PORT or a port (HOST:PORT and a port mean http://HOST:PORT/metrics; default ${DEFAULT_METRICS_URL}). The node's new tracing system serves only the path /metrics.

--control PATH reads a running spo run through its control socket instead (the socket spo peers reads: <TOPOLOGY>.spo.sock, or $XDG_RUNTIME_DIR/spo/run.sock): the node's own snapshot, shown as spo run shows it on its terminal (its counters, the peer table, and below it the promotions, demotions and new tips seen between refreshes). With --json, or off a terminal, each refresh prints the snapshot as spo run writes it ({"event":"snapshot",...}, docs/json.md "spo run"); the error and stopped lines are the same as with --metrics.`;
  static override examples = [
    '<%= config.bin %> top',
    '<%= config.bin %> top --metrics 192.168.1.10:12798 --interval 5s',
    '<%= config.bin %> top --json --count 1',
    '<%= config.bin %> top --json --interval 10s | jq -c "{t: .time, hot: .peerSelection.hot}"',
    '<%= config.bin %> top --control /opt/cardano/cnode/files/topology.json.spo.sock',
  ];
  static override flags = {
    metrics: Flags.string({
      description: `the node's Prometheus endpoint: a URL, HOST:PORT or a port (default ${DEFAULT_METRICS_URL})`,
      helpValue: 'URL',
      exclusive: ['control'],
    }),
    control: Flags.string({
      description:
        'read a running spo run through its control socket instead (its own snapshot: counters, peer table, changes)',
      helpValue: 'PATH',
    }),
    interval: Flags.string({
      description: 'time between refreshes (e.g. 500ms, 2s; a bare number is seconds)',
      default: '2s',
      helpValue: 'DURATION',
    }),
    count: Flags.integer({
      description: 'stop after this many refreshes (default: until Ctrl-C)',
      min: 1,
      helpValue: 'N',
    }),
    timeout: Flags.string({
      description: 'time limit for one refresh (connect, answer, body)',
      default: '5s',
      helpValue: 'DURATION',
    }),
    verbose: Flags.boolean({
      description: 'with --json: add readFrom, the Prometheus name each value was read from',
      default: false,
    }),
  };

  override logJson(json: unknown): void {
    // long-running: one JSON object per line; the lines are written as they come, nothing at the end
    if (json === undefined) return;
    process.stdout.write(`${JSON.stringify(json)}\n`);
  }

  async run(): Promise<undefined> {
    const { flags } = await this.parse(Top);
    const intervalMs = parseDuration(flags.interval, '--interval');
    if (intervalMs < MIN_INTERVAL_MS) {
      throw new UsageError('BAD_DURATION', `--interval ${flags.interval} is shorter than ${MIN_INTERVAL_MS}ms`, {
        hint: 'a node counts peers a few times a second at most; use 1s or more',
      });
    }
    const timeoutMs = parseDuration(flags.timeout, '--timeout');
    if (timeoutMs <= 0) throw new UsageError('BAD_DURATION', '--timeout must be more than 0');
    const live = process.stdout.isTTY === true && !this.jsonEnabled();
    if (flags.control !== undefined) {
      return this.runControl(flags.control, { intervalMs, timeoutMs, count: flags.count, live });
    }
    const url = parseMetricsUrl(flags.metrics ?? DEFAULT_METRICS_URL);
    const agent = metricsAgent();
    const state: DashboardState = { url: url.href, intervalMs, snapshot: undefined, values: undefined, seq: 0 };
    const draw = (): void => {
      process.stdout.write(frame(renderDashboard(state, this.c, termColumns())));
    };
    const onResize = (): void => draw();
    return this.poll({
      count: flags.count,
      intervalMs,
      setup: () => {
        if (!live) return;
        process.stdout.write(SCREEN_ENTER);
        process.stdout.on('resize', onResize);
        draw();
      },
      refresh: async (seq, time, signal) => {
        const started: Millis = systemClock.now();
        state.seq = seq;
        const fetched = await fetchMetricsPage({ url, timeoutMs, signal, dispatcher: agent });
        const parsed = snapshotFromPage({
          seq,
          time,
          url: url.href,
          text: fetched.text,
          bytes: fetched.bytes,
          scrapeMs: 0,
          withReadFrom: flags.verbose,
        });
        if (looksLikeNoMetrics(parsed.page)) {
          throw new MetricsError(
            'METRICS_NOT_PROMETHEUS',
            `${url.href}: the answer has no metrics (${parsed.page.invalidCount} lines, none in the Prometheus text format)`,
            {
              hint: `check that --metrics points at a Prometheus endpoint. ${ENDPOINT_HINT}`,
              details: { url: url.href, firstInvalid: parsed.page.invalid[0] },
            },
          );
        }
        parsed.snapshot.scrapeMs = Math.round((systemClock.now() - started) * 10) / 10;
        state.snapshot = parsed.snapshot;
        state.values = parsed.read.values;
        state.error = undefined;
        if (live) draw();
        else this.line(parsed.snapshot);
      },
      failed: (seq, time, error) => {
        state.seq = seq;
        state.error = { code: error.code, message: error.message, hint: error.hint, time };
        if (live) draw();
        else this.line({ event: 'error', seq, time, url: url.href, error: error.toJSON() });
      },
      teardown: async () => {
        await agent.close().catch(() => {});
        if (!live) return;
        process.stdout.removeListener('resize', onResize);
        process.stdout.write(SCREEN_LEAVE);
        // the last frame stays on the normal screen, so the numbers are still there after quitting
        if (state.snapshot || state.error) {
          process.stdout.write(`${renderDashboard(state, this.c, termColumns()).slice(0, -1).join('\n')}\n`);
        }
      },
      live,
    });
  }

  /**
   * `--control`: the node's own snapshot from spo run's control socket, shown as spo run shows it
   * (counters, peer table, and a log of the changes seen between refreshes), redrawn in place.
   */
  private runControl(
    path: string,
    o: { intervalMs: number; timeoutMs: number; count: number | undefined; live: boolean },
  ): Promise<undefined> {
    let view: RunViewRefresher | undefined;
    let last: NodeSnapshot | undefined;
    const events: NodeEvent[] = [];
    return this.poll({
      count: o.count,
      intervalMs: o.intervalMs,
      setup: () => {
        if (o.live) view = createRunViewRefresher(process.stdout, { color: this.chalk.level > 0 });
      },
      refresh: async (_seq, _time, signal) => {
        const snapshot = await querySnapshot(path, { timeoutMs: o.timeoutMs, signal });
        if (last && last.pid === snapshot.pid) {
          events.push(...eventsBetween(last, snapshot));
          events.splice(0, Math.max(0, events.length - MAX_EVENTS));
        }
        last = snapshot;
        if (view) view.update(snapshot, events);
        else this.line(snapshot);
      },
      failed: (seq, time, error) => {
        if (view && last) {
          const status = `refresh failed at ${time.slice(11, 19)}Z: ${error.message}; the values are from ${last.time.slice(11, 19)}Z; retrying`;
          view.update(last, events, status);
        } else this.line({ event: 'error', seq, time, control: path, error: error.toJSON() });
      },
      teardown: async () => {
        view?.done();
      },
      live: o.live,
    });
  }

  /**
   * The refresh loop of both modes: every interval until --count or Ctrl-C; the first refresh's
   * failure ends the run, later ones are shown and retried; a reader that goes away ends it quietly.
   */
  private async poll(o: {
    count: number | undefined;
    intervalMs: number;
    live: boolean;
    setup: () => void;
    refresh: (seq: number, time: string, signal: AbortSignal) => Promise<void>;
    failed: (seq: number, time: string, error: SpoError) => void;
    teardown: () => Promise<void>;
  }): Promise<undefined> {
    // systemClock's timers do not hold the process; this handle does, until the loop ends
    const hold = setInterval(() => {}, 1 << 30);
    // `spo top --json | head -3`: when the reader goes away, stop quietly (exit 0) instead of crashing on EPIPE
    const loop = new AbortController();
    const onAbort = (): void => loop.abort(this.signal.reason);
    this.signal.addEventListener('abort', onAbort, { once: true });
    let readerGone = false;
    const onStdoutError = (error: NodeJS.ErrnoException): void => {
      if (error.code !== 'EPIPE') throw error;
      readerGone = true;
      loop.abort(new Error('standard output closed'));
    };
    process.stdout.on('error', onStdoutError);
    let failed = 0;
    let refreshes = 0;
    let lastError: SpoError | undefined;
    try {
      o.setup();
      for (let seq = 1; o.count === undefined || seq <= o.count; seq++) {
        const started: Millis = systemClock.now();
        const time = new Date().toISOString();
        refreshes = seq;
        try {
          await o.refresh(seq, time, loop.signal);
          lastError = undefined;
        } catch (error) {
          if (loop.signal.aborted || !isSpoError(error) || error.code === 'INTERRUPTED') throw error;
          if (seq === 1) throw error; // nothing to show yet: say why and stop
          failed++;
          lastError = error;
          o.failed(seq, time, error);
        }
        if (o.count !== undefined && seq >= o.count) break;
        await sleep(systemClock, o.intervalMs - (systemClock.now() - started), loop.signal);
      }
    } catch (error) {
      if (!readerGone) throw error;
    } finally {
      this.signal.removeEventListener('abort', onAbort);
      process.stdout.removeListener('error', onStdoutError);
      clearInterval(hold);
      await o.teardown();
    }
    if (readerGone) return undefined;
    if (lastError) throw lastError;
    const stopped: TopStopped = { event: 'stopped', refreshes, failed };
    if (!o.live) this.line(stopped);
    return undefined;
  }

  private line(json: TopSnapshot | NodeSnapshot | TopStopped | Record<string, unknown>): void {
    process.stdout.write(`${JSON.stringify(json)}\n`);
  }
}

/** The terminal's width; 100 when it says 0 or nothing (a pseudo-terminal without a size). */
function termColumns(): number {
  const c = process.stdout.columns;
  return typeof c === 'number' && c > 0 ? c : 100;
}
