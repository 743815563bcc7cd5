/**
 * Issue 15, output: counts read "1 relay", "1 address", "1 pool", "1 tip", "1 public root",
 * "1 error"... everywhere, not only in ping and relays resolve (src/lib/plural.ts). Through
 * bin/run.js with one-of-everything inputs: a one-pool, one-relay snapshot, a topology with one
 * local root and one public root, and src/net's server on 127.0.0.1 probed once.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/net/serve.js';
import { runCli } from '../lib/cli.js';

let dir: string;
let onePool: string;
let topology: string;
let relay: RunningServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spo-plurals-'));
  onePool = join(dir, 'one-pool.json');
  writeFileSync(
    onePool,
    JSON.stringify({
      bigLedgerPools: [
        { accumulatedStake: 1, relativeStake: 1, relays: [{ address: 'relay.one-pool.test', port: 3001 }] },
      ],
      slotNo: 5,
      version: 2,
    }),
  );
  topology = join(dir, 'topology.json');
  writeFileSync(
    topology,
    JSON.stringify({
      localRoots: [{ accessPoints: [{ address: '203.0.113.9', port: 3001 }], advertise: false, valency: 1 }],
      publicRoots: [{ accessPoints: [{ address: '198.51.100.20', port: 3001 }], advertise: false }],
      useLedgerAfterSlot: -1,
    }),
  );
  relay = await startServer({ host: '127.0.0.1', port: 0, magic: 764824073 });
});

afterAll(async () => {
  await relay?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('singular and plural', () => {
  it('probe of one address: "probing 1 relay", "probed 1 address", "from 1 tip"', async () => {
    const r = await runCli(['probe', `127.0.0.1:${relay.port}`, '--samples', '1', '--tip']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('probing 1 relay, up to 1 at a time');
    expect(r.stderr).toContain('probed 1 address: 1 ok, 0 failed');
    expect(r.stdout).toMatch(/^probed 1 address of 1 relay in /m);
    expect(r.stdout).toContain('(peers, from 1 tip)');
    expect(r.stdout + r.stderr).not.toMatch(/\b1 (relays|addresses|pools|tips)\b/);
  });

  it('relays list and relays export of a one-pool registry: "1 pool, 1 relay"', async () => {
    const list = await runCli(['relays', 'list', '--source', onePool]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stderr).toMatch(/^1 of 1 pool, 1 relay \(1 dns, 0 ipv4, 0 ipv6, 0 srv\) from /);
    const out = join(dir, 'export.json');
    const exp = await runCli(['relays', 'export', '--source', onePool, '--format', 'json', '--out', out]);
    expect(exp.code, exp.stderr).toBe(0);
    expect(exp.stderr).toContain(`wrote ${out}: 1 pool, 1 relay (json, all pools)`);
  });

  it('governor dry-run: "1 local root, 1 public root" and "(FILE, 1 pool)"', async () => {
    const ok = await runCli(['governor', 'dry-run', '--source', onePool, '--topology', topology, '--duration', '1m']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/; 1 local root, 1 public root; ledger peers off \(.*one-pool\.json, 1 pool\)/);
  });

  it('topology lint summary and findings: "1 error, 2 warnings", "1 public root"', async () => {
    const r = await runCli(['topology', 'lint', topology, '--role', 'producer']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('a block producer with 1 public root:');
    expect(r.stdout).toMatch(/topology\.json: 1 error, 2 warnings, 0 info/);
  });
});
