/**
 * Issue 15, output polish: milliseconds with one decimal in ping's text, singular/plural in its
 * summary, `--mode tip` JSON without the keep-alive-only count/intervalMs, units in the probe table's
 * headers. Against src/net's server on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PingJson } from '../../src/commands/ping.js';
import { type RunningServer, startServer } from '../../src/net/serve.js';
import { parseJsonOutput, runCli } from '../lib/cli.js';

let relay: RunningServer;
beforeAll(async () => {
  relay = await startServer({ host: '127.0.0.1', port: 0, magic: 764824073 });
});
afterAll(async () => {
  await relay?.close();
});

describe('output polish', () => {
  it('ping text: every millisecond figure has one decimal; "1 of 1 address answered"', async () => {
    const r = await runCli(['ping', `127.0.0.1:${relay.port}`, '--count', '2', '--interval', '0']);
    expect(r.code, r.stderr).toBe(0);
    const figures = [...r.stdout.matchAll(/(\d+\.\d+)( ms|\s)/g)].map((m) => m[1] as string);
    expect(figures.length).toBeGreaterThan(5);
    for (const f of figures) expect(f, r.stdout).toMatch(/^\d+\.\d$/);
    expect(r.stdout).toContain('1 of 1 address answered');
  });

  it('ping --mode tip --json has no count or intervalMs; mode ping keeps them', async () => {
    const tip = parseJsonOutput<PingJson>(await runCli(['ping', `127.0.0.1:${relay.port}`, '--mode', 'tip', '--json']));
    expect(tip.mode).toBe('tip');
    expect(tip).not.toHaveProperty('count');
    expect(tip).not.toHaveProperty('intervalMs');
    const ping = parseJsonOutput<PingJson>(await runCli(['ping', `127.0.0.1:${relay.port}`, '--count', '1', '--json']));
    expect(ping).toMatchObject({ count: 1, intervalMs: 1000 });
  });

  it('probe table headers carry their units', async () => {
    const r = await runCli(['probe', `127.0.0.1:${relay.port}`, '--samples', '1', '--tip']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/CONNECT ms\s+HANDSHAKE ms\s+RTT ms\s+VER\s+SLOT\s+LAG slots/);
  });
});
