/**
 * Issue 15: the first screen a newcomer sees (`npm start`: `relays list --top 5`, then
 * `governor dry-run --duration 1h`). The relay table and the dry-run table each start with one line
 * saying what they show; the dry run's columns are explained under its table and in its --help;
 * the hygiene summary on standard error says what each count means. Through bin/run.js, with the
 * very commands package.json's start script runs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../lib/cli.js';

const start = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts
  .start;

/** The arguments of each `node bin/run.js ...` step of npm start, in order. */
const steps = [...start.matchAll(/node bin\/run\.js ([^&]+)/g)].map((m) => (m[1] as string).trim().split(/\s+/));

describe("npm start's first screen", () => {
  it('npm start lists the relays, then runs the dry run (the commands tested below)', () => {
    expect(steps[0]).toEqual(['relays', 'list', '--top', '5']);
    expect(steps[1]?.slice(0, 2)).toEqual(['governor', 'dry-run']);
  });

  it('the relay table starts with a line saying what it shows; the hygiene counts say what they mean', async () => {
    const r = await runCli(steps[0] as string[]);
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout.split('\n');
    expect(out[0]).toBe(
      "Relays the pools registered, largest pools first (STAKE: the pool's share of all stake; FLAGS: hygiene findings)",
    );
    expect(out[1]).toMatch(/^POOL\s+TICKER\s+STAKE\s+KIND\s+ADDRESS\s+PORT\s+FLAGS$/);
    const err = r.stderr.split('\n');
    expect(err[0]).toBe(
      '5 of 470 pools, 9 relays (6 dns, 0 ipv4, 0 ipv6, 3 srv) from embedded:mainnet (slot 185831188)',
    );
    // what the counts cover, then one line per kind of finding with its meaning (was only
    // "findings: 33 lower-cased, 3 duplicate-relay, 121 shared-endpoint (details with --json)")
    expect(err[1]).toBe('hygiene findings over all 470 pools read (each with its pool and relay in --json):');
    expect(err).toContain(
      '  121 shared-endpoint: endpoints registered by several pools (often one operator running them); not an error',
    );
    expect(err).toContain('  33 lower-cased: names registered with capitals; DNS ignores case, so shown lower-cased');
    expect(err).toContain('  3 duplicate-relay: relays registered twice by the same pool; shown once');
  });

  it('the dry run starts with a line saying what it shows and explains its columns under the table', async () => {
    const r = await runCli(steps[1] as string[], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout.trimEnd().split('\n');
    expect(out[0]).toBe(
      'Governor dry run: which peers a node with these settings would know, connect to and use (simulated time, no traffic)',
    );
    expect(out[1]).toMatch(/^seed 1, 1h 0m simulated; /);
    const legend = out.slice(-3).join('\n');
    for (const column of ['TEMP', 'SOURCE', 'FAILS', 'UPSTREAM', 'SINCE']) expect(legend).toContain(`${column}:`);
    expect(legend).toContain('now/target');
    expect(legend).toContain('spo governor dry-run --help');
    // the caption and the legend fit a 120-column terminal
    for (const line of [out[0] as string, ...out.slice(-3)]) expect(line.length, line).toBeLessThanOrEqual(120);
  });

  it('governor dry-run --help explains every column of the table and the counts above it', async () => {
    const r = await runCli(['governor', 'dry-run', '--help']);
    expect(r.code, r.stderr).toBe(0);
    for (const column of ['PEER', 'NAME', 'SOURCE', 'TEMP', 'FAILS', 'UPSTREAM', 'SINCE'])
      expect(r.stdout).toMatch(new RegExp(`^\\s+${column}\\s{2,}\\S`, 'm'));
    expect(r.stdout).toMatch(/now\/target/);
  });
});
