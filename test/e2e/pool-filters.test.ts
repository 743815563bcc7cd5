/**
 * Issue 15: --pool, --ticker and --top are defined once (src/registry/flags.ts poolSelectionFlags)
 * and checked once (src/registry/filter.ts selectMatchingPools) for every command that reads pools
 * from the registry: relays list, probe and relays resolve. A filter that matches nothing is an
 * error in each of them (POOL_NOT_FOUND, exit 1; REGISTRY_NO_TICKERS on a source without tickers),
 * never an empty answer. Through bin/run.js; nothing here reaches the network (the errors come
 * before any query).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJsonOutput, ROOT, runCli } from '../lib/cli.js';

interface ErrorDoc {
  error: { code: string; message: string; hint?: string; details?: Record<string, unknown> };
}

const COMMANDS = [
  { name: 'relays list', command: ['relays', 'list'] },
  { name: 'probe', command: ['probe'] },
  { name: 'relays resolve', command: ['relays', 'resolve'] },
];

describe('--pool, --ticker, --top: one definition, one check', () => {
  it.each(COMMANDS)("$name: --pool '#999' is POOL_NOT_FOUND naming it (exit 1)", async ({ command }) => {
    const r = await runCli([...command, '--pool', '#999', '--json']);
    expect(r.code).toBe(1);
    const doc = parseJsonOutput<ErrorDoc>(r);
    expect(doc.error.code).toBe('POOL_NOT_FOUND');
    expect(doc.error.details).toEqual({ unmatched: ['#999'] });
  });

  it.each(COMMANDS)(
    '$name: --ticker on the embedded snapshot (no tickers) suggests --source koios',
    async ({ command }) => {
      const r = await runCli([...command, '--ticker', 'X']);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('spo: embedded:mainnet has no tickers, so --ticker X cannot match');
      expect(r.stderr).toContain('--source koios');
    },
  );

  it('the three commands show the same flags with the same text (oclif.manifest.json)', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
      commands: Record<string, { flags: Record<string, { description?: string; multiple?: boolean }> }>;
    };
    const ids = ['relays:list', 'probe', 'relays:resolve'];
    for (const flag of ['pool', 'ticker', 'top']) {
      const seen = ids.map((id) => manifest.commands[id]?.flags[flag]);
      for (const s of seen) expect(s, `${flag}`).toBeDefined();
      expect(new Set(seen.map((s) => JSON.stringify(s))).size, flag).toBe(1);
    }
  });
});
