/**
 * `spo top` through the real bin/run.js against a loopback HTTP server serving a metrics page of
 * each generation (test/fixtures/metrics) and the page spo's own publisher writes (what spo run
 * will serve): JSON lines with --count, the live dashboard on a pseudo-terminal, a node that cannot
 * be reached, one that fails after the first refresh, Ctrl-C (exit 130). --control: test/e2e/peers.test.ts.
 */
import { Gauge, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeMetricsPublisher } from '../../src/metrics/publish.js';
import { startMetricsServer } from '../../src/metrics/serve.js';
import { BIN, HAS_SCRIPT, PTY_RUNNER, runCli, typeCtrlCWhen } from '../lib/cli.js';
import { closedPort } from '../lib/ports.js';
import { fixture, type PageServer, sendPage, startPageServer } from '../metrics/page-server.js';

const servers: PageServer[] = [];
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const c of closers.splice(0)) await c();
});

async function serving(text: string | (() => string | Promise<string>)): Promise<PageServer> {
  const s = await startPageServer(async (_req, res) => sendPage(res, typeof text === 'string' ? text : await text()));
  servers.push(s);
  return s;
}

interface Line {
  event: string;
  [k: string]: unknown;
}
const jsonLines = (stdout: string): Line[] =>
  stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line);

describe('spo top', () => {
  it.each([
    ['legacy-10.5.3.prom', 'legacy'],
    ['new-10.5.3.prom', 'new'],
  ])('--json --count 3 against a %s page: three snapshots, then stopped', async (file, generation) => {
    const s = await serving(fixture(file));
    const r = await runCli(['top', '--metrics', s.url, '--json', '--count', '3', '--interval', '50ms']);
    expect(r.code, r.stderr).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines.map((l) => l.event)).toEqual(['snapshot', 'snapshot', 'snapshot', 'stopped']);
    expect(lines.slice(0, 3).map((l) => l.seq)).toEqual([1, 2, 3]);
    const first = lines[0] as Line & { peerSelection: Record<string, unknown>; tip: Record<string, unknown> };
    expect(first).toMatchObject({ generation, url: s.url, invalidLines: 0 });
    expect(first.peerSelection).toMatchObject({ known: 150, established: 50, active: 20, hot: 20 });
    expect(first.tip).toMatchObject({ blockNo: 11_234_567, epoch: 560 });
    expect(first.connectionManager).toMatchObject({ inbound: 12, outbound: 48 });
    expect(typeof first.time).toBe('string');
    expect(lines[3]).toEqual({ event: 'stopped', refreshes: 3, failed: 0 });
    expect(s.requests).toHaveLength(3);
  });

  it('reads what spo run will serve (its publisher behind startMetricsServer), values changing between refreshes', async () => {
    const registry = new Registry();
    const publisher = new NodeMetricsPublisher(registry);
    let n = 0;
    // a collect hook: every scrape sees new counters, as spo run's would
    new Gauge({
      name: 'spo_test_scrapes',
      help: 'scrapes seen',
      registers: [registry],
      collect() {
        n++;
        publisher.update({
          peerSelection: { known: 100 + n, established: 40, active: 20 },
          tip: { blockNo: 1000 + n },
        });
        this.set(n);
      },
    });
    // the publisher's gauges exist before the first scrape (a gauge registered during a scrape joins the next one)
    publisher.update({ peerSelection: { known: 100, established: 40, active: 20 }, tip: { blockNo: 1000 } });
    const server = await startMetricsServer({ registry, port: 0 });
    closers.push(() => server.close());
    const r = await runCli(['top', '--metrics', String(server.port), '--count', '2', '--interval', '50ms']); // not a TTY: JSON lines
    expect(r.code, r.stderr).toBe(0);
    const [a, b] = jsonLines(r.stdout) as Array<
      Line & { peerSelection: { known: number; cold: number }; tip: { blockNo: number } }
    >;
    expect(a?.generation).toBe('new');
    expect([a?.peerSelection.known, b?.peerSelection.known]).toEqual([101, 102]);
    expect([a?.peerSelection.cold, b?.peerSelection.cold]).toEqual([61, 62]);
    expect([a?.tip.blockNo, b?.tip.blockNo]).toEqual([1001, 1002]);
  });

  it('nothing listening: exit 1, the reason and the hint about the node config', async () => {
    const port = await closedPort();
    const r = await runCli(['top', '--metrics', String(port), '--count', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`spo: cannot read http://127.0.0.1:${port}/metrics: connection refused`);
    expect(r.stderr).toMatch(/hint: .*hasPrometheus.*PrometheusSimple/);
    const j = await runCli(['top', '--metrics', String(port), '--count', '1', '--json']);
    expect(j.code).toBe(1);
    expect(jsonLines(j.stdout)).toEqual([
      {
        error: expect.objectContaining({ code: 'METRICS_UNREACHABLE', hint: expect.stringContaining('hasPrometheus') }),
      },
    ]);
  });

  it('a node that fails after the first refresh: error lines, retried, exit 1 if the last refresh failed', async () => {
    const page = fixture('new-10.5.3.prom');
    const s = await startPageServer((_req, res, n) => {
      if (n === 1 || n === 3) sendPage(res, page);
      else {
        res.writeHead(503);
        res.end();
      }
    });
    servers.push(s);
    const r = await runCli(['top', '--metrics', s.url, '--json', '--count', '4', '--interval', '50ms']);
    const lines = jsonLines(r.stdout);
    expect(lines.map((l) => l.event ?? 'final-error')).toEqual([
      'snapshot',
      'error',
      'snapshot',
      'error',
      'final-error',
    ]);
    expect(lines[1]).toMatchObject({ seq: 2, error: { code: 'METRICS_HTTP_STATUS', details: { status: 503 } } });
    expect(r.code).toBe(1);
  });

  it('Ctrl-C: exits 130 after the refreshes so far', async () => {
    const s = await serving(fixture('legacy-10.5.3.prom'));
    const r = await runCli(['top', '--metrics', s.url, '--json', '--interval', '50ms'], {
      onSpawn: (child) => {
        let seen = 0;
        let sent = false;
        child.stdout?.on('data', (d: Buffer) => {
          seen += d
            .toString()
            .split('\n')
            .filter((l) => l.includes('"snapshot"')).length;
          if (seen >= 2 && !sent) {
            sent = true; // once: a second Ctrl-C would be the "leave now" one
            child.kill('SIGINT');
          }
        });
      },
    });
    expect(r.code).toBe(130);
    const lines = jsonLines(r.stdout);
    expect(lines.filter((l) => l.event === 'snapshot').length).toBeGreaterThanOrEqual(2);
    expect(lines.at(-1)).toEqual({ error: expect.objectContaining({ code: 'INTERRUPTED' }) });
  });

  it('the reader goes away (spo top --json | head -1): exits 0 quietly, no EPIPE crash', async () => {
    const s = await serving(fixture('new-10.5.3.prom'));
    const r = await runCli(['top', '--metrics', s.url, '--json', '--interval', '50ms'], {
      onSpawn: (child) => {
        child.stdout?.once('data', () => child.stdout?.destroy()); // like head: read one chunk, close the pipe
      },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/EPIPE|Error/);
  });

  it('bad --metrics and --interval are usage errors (exit 2); --control is tested in peers.test.ts', async () => {
    const both = await runCli(['top', '--control', '/tmp/spo.sock', '--metrics', '12798']);
    expect(both.code).toBe(2);
    const bad = await runCli(['top', '--metrics', 'ftp://x', '--count', '1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not HTTP/);
    const fast = await runCli(['top', '--interval', '1ms']);
    expect(fast.code).toBe(2);
  });

  it.runIf(HAS_SCRIPT)(
    'on a terminal: the dashboard in place on the alternate screen, the last frame left behind',
    async () => {
      const s = await serving(fixture('new-10.5.3.prom'));
      // script(1) gives the command a pseudo-terminal; -e returns its exit code
      const cmd = `'${process.execPath}' '${BIN}' top --metrics ${s.url} --count 2 --interval 50ms`;
      const r = await runCli([], {
        nodeArgs: ['-e', PTY_RUNNER, cmd],
      });
      expect(r.code, r.stderr).toBe(0);
      const out = r.stdout;
      expect(out.startsWith('\x1b[?1049h\x1b[?25l')).toBe(true);
      expect(out.split('\x1b[H').length - 1).toBe(3); // the empty frame, then one per refresh
      expect(out).not.toContain('\x1b[2J');
      const after = out.slice(out.indexOf('\x1b[?25h\x1b[?1049l'));
      expect(after).toContain('new tracing names (_int)');
      expect(after).toMatch(/all\s+150\s+50\s+20\s+100\s+30\s+20/);
      expect(after).not.toContain('Ctrl-C to quit');
    },
  );

  it.runIf(HAS_SCRIPT)(
    'on a terminal, Ctrl-C (^C typed on the terminal): exit 130, the screen restored, the last frame kept',
    async () => {
      const s = await serving(fixture('legacy-10.5.3.prom'));
      const cmd = `'${process.execPath}' '${BIN}' top --metrics ${s.url} --interval 50ms`;
      const r = await runCli([], {
        openStdin: true,
        nodeArgs: ['-e', PTY_RUNNER, cmd],
        // two refreshes drawn: type Ctrl-C; the terminal turns it into SIGINT for spo
        onSpawn: typeCtrlCWhen((out) => out.split('\x1b[H').length - 1 >= 3),
      });
      expect(r.code).toBe(130);
      const out = r.stdout;
      const leave = out.indexOf('\x1b[?25h\x1b[?1049l');
      expect(leave).toBeGreaterThan(0);
      const after = out.slice(leave);
      expect(after).toMatch(/all\s+150\s+50\s+20/);
      expect(after).toContain('spo: interrupted');
    },
  );
});
