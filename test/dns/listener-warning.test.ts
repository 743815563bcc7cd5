/**
 * Issue 15: `spo resolve` with 9+ names and `spo relays resolve` printed
 * `MaxListenersExceededWarning: Possible EventTarget memory leak detected` on stderr, even under
 * --json (one abort listener per waiting query piled up on the command's signal).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJsonOutput, runCli } from '../lib/cli.js';
import { type Dnsmasq, startDnsmasq } from './dnsmasq.js';

const POINT = { blockPointHash: '00'.repeat(32), blockPointSlot: 1 };
const NAMES = Array.from({ length: 24 }, (_, i) => `n${i}.test`);

let dns: Dnsmasq;
let dir: string;
let snapshot: string;
beforeAll(async () => {
  dns = await startDnsmasq({ hostRecords: NAMES.map((n, i) => `${n},192.0.2.${i + 1},2001:db8::${i + 1}`) });
  // a peer snapshot whose 24 pools each register one of those names
  dir = mkdtempSync(join(tmpdir(), 'spo-listeners-'));
  snapshot = join(dir, 'snapshot.json');
  const pools = NAMES.map((n, i) => ({
    accumulatedStake: (i + 1) / NAMES.length,
    relativeStake: 1 / NAMES.length,
    relays: [{ address: n, port: 3001 }],
  }));
  writeFileSync(
    snapshot,
    JSON.stringify({ NetworkMagic: 764824073, NodeToClientVersion: 23, Point: POINT, bigLedgerPools: pools }),
  );
});
afterAll(async () => {
  await dns?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('no listener-leak warning on stderr', () => {
  it('spo resolve with 24 names (both families) --json: stderr is empty', async () => {
    const r = await runCli(['resolve', ...NAMES, '--dns-server', dns.server, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(parseJsonOutput<{ summary: { resolved: number } }>(r).summary.resolved).toBe(24);
  });

  it('spo resolve with 24 names, text output: no MaxListenersExceededWarning', async () => {
    const r = await runCli(['resolve', ...NAMES, '--dns-server', dns.server]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('MaxListeners');
    expect(r.stderr).not.toContain('Warning');
  });

  it('spo relays resolve --json: no warning on stderr', async () => {
    const r = await runCli(['relays', 'resolve', '--source', snapshot, '--dns-server', dns.server, '--json']);
    expect(r.code).toBe(0);
    expect(parseJsonOutput<{ summary: { resolved: number } }>(r).summary.resolved).toBe(24);
    expect(r.stderr).not.toContain('MaxListeners');
    expect(r.stderr).not.toContain('Warning');
  });
});
