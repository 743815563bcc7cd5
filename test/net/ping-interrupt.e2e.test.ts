/**
 * Issue 15: `spo ping --count 0` runs until interrupted, one timestamped line per round trip (as
 * `cardano-cli ping` does by default), and Ctrl-C prints the statistics gathered so far and exits
 * 130 (text and --json, where every sample is one JSON object per line and the last line is the
 * document). A ping with a count, interrupted half-way, keeps its samples too. Against src/net's
 * server on 127.0.0.1; the signal is sent once the samples were seen, never after a sleep.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PingJson, PingSampleJson } from '../../src/commands/ping.js';
import { pingTargets } from '../../src/net/ping.js';
import { type RunningServer, startServer } from '../../src/net/serve.js';
import { runCli } from '../lib/cli.js';

const PREVIEW = 2;
let server: RunningServer;
let target: string;

beforeAll(async () => {
  server = await startServer({ host: '127.0.0.1', port: 0, magic: PREVIEW });
  target = `127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server?.close();
});

/** Sends SIGINT once `lines` lines matching `re` were printed on stdout. */
function interruptAfter(re: RegExp, lines: number): (child: ChildProcess) => void {
  return (child) => {
    let out = '';
    let sent = false;
    child.stdout?.on('data', (d: Buffer | string) => {
      out += String(d);
      const seen = out.split('\n').filter((l) => re.test(l)).length;
      if (!sent && seen >= lines) {
        sent = true;
        child.kill('SIGINT');
      }
    });
  };
}

const SAMPLE_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z {2}127\.0\.0\.1:\d+ {2}cookie +\d+ {2}rtt \d+\.\d ms$/;

describe('spo ping --count 0', () => {
  it('prints a timestamped line per round trip until Ctrl-C, then the statistics so far (exit 130)', async () => {
    const r = await runCli(['ping', target, '--network', 'preview', '--count', '0', '--interval', '50ms'], {
      onSpawn: interruptAfter(SAMPLE_LINE, 4),
      timeoutMs: 20_000,
    });
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(130);
    const samples = r.stdout.split('\n').filter((l) => SAMPLE_LINE.test(l));
    expect(samples.length).toBeGreaterThanOrEqual(4);
    // cookies count up from 0
    expect(samples.slice(0, 4).map((l) => Number(/cookie +(\d+)/.exec(l)?.[1]))).toEqual([0, 1, 2, 3]);
    expect(r.stdout).toContain('--- interrupted: the statistics so far ---');
    const stats = /keep-alive rtt \((\d+)\): min/.exec(r.stdout);
    expect(Number(stats?.[1])).toBe(samples.length);
    expect(r.stdout).toMatch(new RegExp(`${target.replace(/\./g, '\\.')} {2}ok `));
    expect(r.stderr).toMatch(/spo: interrupted/);
  });

  it('--json: one object per sample per line, then the document on one line, "interrupted": true', async () => {
    const r = await runCli(['ping', target, '--network', 'preview', '--count', '0', '--interval', '50ms', '--json'], {
      onSpawn: interruptAfter(/"cookie"/, 3),
      timeoutMs: 20_000,
    });
    expect(r.code, r.stderr).toBe(130);
    const lines = r.stdout.trim().split('\n');
    const docs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const samples = docs.filter((d) => 'cookie' in d) as unknown as PingSampleJson[];
    expect(samples.length).toBeGreaterThanOrEqual(3);
    for (const s of samples) {
      expect(Number.isNaN(Date.parse(s.timestamp))).toBe(false);
      expect(s.endpoint).toBe(target);
      expect(s.rttMs).toBeGreaterThan(0);
    }
    const doc = docs.at(-1) as unknown as PingJson;
    expect(doc.interrupted).toBe(true);
    expect(doc.count).toBe(0);
    const a = doc.targets[0]?.addresses[0];
    expect(a?.ok).toBe(true);
    expect(a?.interrupted).toBe(true);
    expect(a?.rtt?.count).toBe(samples.length);
  });
});

describe('an interrupted ping keeps what it gathered', () => {
  it('pingTargets returns the samples so far, marked interrupted, instead of throwing', async () => {
    const controller = new AbortController();
    let seen = 0;
    const results = await pingTargets([target], {
      mode: 'ping',
      magic: PREVIEW,
      count: 5,
      intervalMs: 60_000, // the second sample would come a minute later: the abort ends the wait
      timeoutMs: 5000,
      defaultPort: 3001,
      signal: controller.signal,
      onSample: () => {
        seen++;
        if (seen === 1) controller.abort(new Error('interrupted'));
      },
    });
    const a = results[0]?.addresses[0];
    expect(results[0]?.interrupted).toBe(true);
    expect(a).toMatchObject({ ok: true, interrupted: true });
    expect(a?.rtt?.count).toBe(1);
  });

  it('interrupted before the handshake: not ok, no error code, marked interrupted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('interrupted'));
    const results = await pingTargets([target], {
      mode: 'ping',
      magic: PREVIEW,
      count: 1,
      intervalMs: 0,
      timeoutMs: 5000,
      defaultPort: 3001,
      signal: controller.signal,
    });
    expect(results[0]?.addresses[0]).toMatchObject({ ok: false, interrupted: true });
    expect(results[0]?.addresses[0]?.error).toBeUndefined();
  });
});
