/** Issue 15: `spo topology migrate` as an operator meets it, through bin/run.js. */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { TopologyMigrateJson } from '../../src/commands/topology/migrate.js';
import { parseJsonOutput, runCli } from '../lib/cli.js';

const FIX = fileURLToPath(new URL('../fixtures/topology/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'spo-migrate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function copy(name: string, as: string): string {
  const file = join(dir, as);
  copyFileSync(join(FIX, name), file);
  return file;
}

describe('topology migrate of a file that needs no change', () => {
  // Guild's file is current; only its layout differs from spo's writer (one access point per line).
  it('says "nothing to change", exit 0, writes nothing and shows no whitespace diff', async () => {
    const file = copy('guild-preview-topology.json', 'guild.json');
    const before = readFileSync(file, 'utf8');
    const r = await runCli(['topology', 'migrate', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('nothing to change');
    expect(r.stderr).toBe('');
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(existsSync(`${file}.bak`)).toBe(false);
  });

  it('--json: written false, no changes, empty diff', async () => {
    const file = copy('guild-preview-topology.json', 'guild2.json');
    const r = await runCli(['topology', 'migrate', file, '--json']);
    expect(r.code).toBe(0);
    expect(parseJsonOutput<TopologyMigrateJson>(r)).toMatchObject({ written: false, changes: [], diff: '' });
  });
});
