/**
 * Issue 15: Ctrl-C in `spo governor dry-run` prints the table reached so far (exit 130) instead
 * of nothing. End to end: a 30-day run is interrupted once its progress line shows on stderr (an
 * event, not a sleep). The library (src/sim/dry-run.ts) with `partialOnAbort` returns the document
 * as of the time reached, marked interrupted.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RELAY_DEFAULT_TARGETS } from '../../src/governor/types.js';
import { selectNetwork } from '../../src/lib/networks.js';
import { loadRegistry } from '../../src/registry/index.js';
import { runDryRun } from '../../src/sim/dry-run.js';
import { runCli } from '../lib/cli.js';

describe('governor dry-run: Ctrl-C', () => {
  it('prints the table reached so far and exits 130', async () => {
    // Large targets: 30 simulated days of them are minutes of CPU, so the run is far from its end
    // when the signal lands (the relay defaults' 30 days take ~2 s, about when progress shows).
    const config = fileURLToPath(new URL('../fixtures/governor/large-targets-config.json', import.meta.url));
    const r = await runCli(['governor', 'dry-run', '--duration', '30d', '--config', config], {
      timeoutMs: 60_000,
      onSpawn: (child) => {
        let sent = false;
        child.stderr?.on('data', (d: Buffer | string) => {
          if (!sent && /simulating: /.test(String(d))) {
            sent = true;
            child.kill('SIGINT');
          }
        });
      },
    });
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(130);
    expect(r.stdout).toMatch(/simulated \(interrupted: the table is as of then\)/);
    expect(r.stdout).toMatch(/PEER\s+(NAME\s+)?SOURCE\s+TEMP\s+FAILS\s+UPSTREAM\s+SINCE/);
    // the targets as of the interruption: churn lowers them for a while every cycle, so no fixed values
    expect(r.stdout).toMatch(/known \d+\/\d+ {2}established \d+\/\d+ {2}active \d+\/\d+/);
    expect(r.stderr).toMatch(/spo: interrupted at .* of simulated time: the table above is as of then/);
  });

  it('the library returns the document as of the time reached, "interrupted": true', async () => {
    const reg = await loadRegistry({ source: 'embedded', network: selectNetwork('mainnet', undefined) });
    const controller = new AbortController();
    const stopAt = 20 * 60_000;
    const { doc, final } = await runDryRun(
      {
        seed: 1,
        durationMs: 24 * 3_600_000,
        atMs: [5 * 60_000, 20 * 3_600_000],
        targets: { ...RELAY_DEFAULT_TARGETS },
        targetsFrom: 'relay defaults',
        peerSharing: true,
        consensusMode: 'praos',
        churn: true,
        judgement: [],
        localRoots: [],
        publicRoots: [],
        bootstrapPeers: [],
        useLedger: true,
        registry: { source: reg.source, pools: reg.pools },
        trace: false,
      },
      {
        signal: controller.signal,
        partialOnAbort: true,
        onSlice: (now) => {
          if (now >= stopAt) controller.abort(new Error('interrupted'));
        },
        wallClock: () => performance.now(),
        yieldToEventLoop: () => new Promise<void>((resolve) => setImmediate(resolve)),
      },
    );
    expect(doc.interrupted).toBe(true);
    expect(doc.simulatedMs).toBeGreaterThanOrEqual(stopAt);
    expect(doc.simulatedMs).toBeLessThan(20 * 3_600_000);
    expect(doc.simulatedMs).toBe(Math.round(final.at));
    // the 5-minute snapshot was reached, the 20-hour one was not
    expect(doc.snapshots.map((s) => s.atMs)).toEqual([5 * 60_000]);
    expect(doc.counters.established).toBeGreaterThan(0);
    expect(doc.peers.length).toBeGreaterThan(0);
  });
});
