/** Issue 15: `spo topology migrate` as an operator meets it, through bin/run.js. */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

interface MigratedTopology {
  localRoots: Array<{ accessPoints: Array<{ address: string; port: number }>; trustable?: boolean }>;
  publicRoots: unknown[];
  bootstrapPeers?: Array<{ address: string; port: number }> | null;
  useLedgerAfterSlot: number;
}

function writeLegacy(name: string, producers: Array<{ addr: string; port: number; valency: number }>): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify({ Producers: producers }, null, 2));
  return file;
}

describe('topology migrate of a legacy relay file', () => {
  // The 2020 mainnet relay file: its only producer is IOG's public relays.
  it('gives a working relay: ledger peers on, the network bootstrap peers, the change explained', async () => {
    const file = copy('cardano-node-mainnet-topology.legacy-producers.2020-08.json', 'legacy-relay.json');
    const r = await runCli(['topology', 'migrate', file, '--yes', '--json']);
    expect(r.code).toBe(0);
    const doc = parseJsonOutput<TopologyMigrateJson & { role: string }>(r);
    expect(doc.role).toBe('relay');
    const t = JSON.parse(readFileSync(file, 'utf8')) as MigratedTopology;
    expect(t.useLedgerAfterSlot).toBeGreaterThanOrEqual(0);
    expect(t.bootstrapPeers?.map((b) => b.address)).toEqual([
      'backbone.cardano.iog.io',
      'backbone.mainnet.cardanofoundation.org',
      'backbone.mainnet.emurgornd.com',
    ]);
    // IOG's retired public relay name is replaced by the bootstrap peers, not kept as a local root
    expect(JSON.stringify(t.localRoots)).not.toContain('relays-new.cardano-mainnet.iohk.io');
    expect(doc.changes.join('\n')).toMatch(/relay.*relays-new\.cardano-mainnet\.iohk\.io/);
    expect(doc.changes.join('\n')).toMatch(/ledger peers on/);
    expect(doc.changes.join('\n')).toMatch(/bootstrap peers/);
    // and lint agrees it is a relay with a peer source
    const lint = await runCli(['topology', 'lint', file, '--json']);
    const findings = parseJsonOutput<{ findings: Array<{ code: string }> }>(lint).findings.map((f) => f.code);
    expect(findings).not.toContain('TOPOLOGY_NO_PEER_SOURCE');
    expect(lint.code).toBe(0);
  });

  it('keeps the operator own block producer as a local root; text output explains the role', async () => {
    const file = writeLegacy('legacy-relay-bp.json', [
      { addr: '10.0.0.5', port: 6000, valency: 1 },
      { addr: 'relays-new.cardano-mainnet.iohk.io', port: 3001, valency: 2 },
    ]);
    const r = await runCli(['topology', 'migrate', file, '--yes']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/change: .*a relay/);
    const t = JSON.parse(readFileSync(file, 'utf8')) as MigratedTopology;
    expect(t.localRoots.flatMap((g) => g.accessPoints.map((a) => a.address))).toEqual(['10.0.0.5']);
    expect(t.bootstrapPeers?.length).toBe(3);
    expect(t.useLedgerAfterSlot).toBeGreaterThanOrEqual(0);
  });

  it('a legacy block producer file (only its own relays) stays a producer: ledger peers off, no bootstrap peers', async () => {
    const file = writeLegacy('legacy-bp.json', [
      { addr: '203.0.113.10', port: 3001, valency: 1 },
      { addr: 'relay2.example.com', port: 3001, valency: 1 },
    ]);
    const r = await runCli(['topology', 'migrate', file, '--yes', '--json']);
    expect(r.code).toBe(0);
    expect(parseJsonOutput<{ role: string }>(r).role).toBe('producer');
    const t = JSON.parse(readFileSync(file, 'utf8')) as MigratedTopology;
    expect(t.useLedgerAfterSlot).toBe(-1);
    expect(t.bootstrapPeers ?? null).toBeNull();
  });

  it('--role relay makes a relay of a file spo cannot tell (preprod preset with --network preprod)', async () => {
    const file = writeLegacy('legacy-unknown.json', [{ addr: '203.0.113.10', port: 3001, valency: 1 }]);
    const r = await runCli(['topology', 'migrate', file, '--role', 'relay', '--network', 'preprod', '--yes']);
    expect(r.code).toBe(0);
    const t = JSON.parse(readFileSync(file, 'utf8')) as MigratedTopology;
    expect(t.bootstrapPeers?.map((b) => b.address)).toEqual(['preprod-node.play.dev.cardano.org']);
    expect(t.useLedgerAfterSlot).toBeGreaterThanOrEqual(0);
    expect(t.localRoots.flatMap((g) => g.accessPoints.map((a) => a.address))).toEqual(['203.0.113.10']);
  });
});
