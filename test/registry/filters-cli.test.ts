/**
 * Issue 15: pool filters that match nothing are not silent. An unknown pool id (bech32 or `#N`)
 * is exit 1 with the id named; `--ticker` on a source without any ticker (the embedded snapshot, a
 * peer snapshot) says so and suggests `--source koios`. The same in every command with these
 * filters (relays list, probe).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJsonOutput, runCli } from '../lib/cli.js';

interface ErrorDoc {
  error: { code: string; message: string; hint?: string; details?: Record<string, unknown> };
}

// a well-formed bech32 pool id that is not in the embedded snapshot
const UNKNOWN_POOL = 'pool1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq7gs3wz';

let dir: string;
let spoJson: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spo-filters-'));
  // a source with tickers: spo's own JSON export of a registry with one ticker
  const exported = await runCli(['relays', 'export', '--format', 'json']);
  spoJson = join(dir, 'with-tickers.json');
  const doc = JSON.parse(exported.stdout) as { pools: Array<{ ticker?: string }> };
  if (doc.pools[0]) doc.pools[0].ticker = 'MINE';
  writeFileSync(spoJson, JSON.stringify(doc));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('relays list filters that match nothing', () => {
  it('--pool with an id not in the registry: exit 1, the id named', async () => {
    const r = await runCli(['relays', 'list', '--pool', UNKNOWN_POOL]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`spo: no pool of embedded:mainnet matches ${UNKNOWN_POOL}`);
  });

  it("--pool '#999' beyond the snapshot: exit 1, --json names it in details", async () => {
    const r = await runCli(['relays', 'list', '--pool', '#999', '--json']);
    expect(r.code).toBe(1);
    const doc = parseJsonOutput<ErrorDoc>(r);
    expect(doc.error.code).toBe('POOL_NOT_FOUND');
    expect(doc.error.message).toContain('#999');
    expect(doc.error.details).toEqual({ unmatched: ['#999'] });
  });

  it('one unknown among known ones is still an error naming only the unknown one', async () => {
    const r = await runCli(['relays', 'list', '--pool', '#1', '--pool', '#999']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/matches #999\n/);
  });

  it('--ticker on a source without tickers says so and suggests --source koios', async () => {
    const r = await runCli(['relays', 'list', '--ticker', 'X']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('spo: embedded:mainnet has no tickers, so --ticker X cannot match');
    expect(r.stderr).toMatch(/hint: .*--source koios/);
    const json = await runCli(['relays', 'list', '--ticker', 'X', '--json']);
    expect(parseJsonOutput<ErrorDoc>(json).error.code).toBe('REGISTRY_NO_TICKERS');
  });

  it('--ticker on a source with tickers: a known one lists, an unknown one is named', async () => {
    const ok = await runCli(['relays', 'list', '--source', spoJson, '--ticker', 'mine']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/MINE/);
    const bad = await runCli(['relays', 'list', '--source', spoJson, '--ticker', 'NOPE']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/no pool of .* matches NOPE/);
  });

  it('a known pool still lists (exit 0)', async () => {
    const r = await runCli(['relays', 'list', '--pool', '#1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^#1\s/m);
  });
});

describe('probe filters that match nothing', () => {
  it('--pool #999: exit 1, POOL_NOT_FOUND naming it, nothing probed', async () => {
    const r = await runCli(['probe', '--pool', '#999', '--json']);
    expect(r.code).toBe(1);
    const doc = parseJsonOutput<ErrorDoc>(r);
    expect(doc.error.code).toBe('POOL_NOT_FOUND');
    expect(doc.error.message).toContain('#999');
  });

  it('--ticker on the embedded snapshot says it has no tickers', async () => {
    const r = await runCli(['probe', '--ticker', 'X']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('has no tickers, so --ticker X cannot match');
    expect(r.stderr).toMatch(/--source koios/);
  });
});
