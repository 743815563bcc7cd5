/** Issue 15: `peerSnapshotFile` that is missing or is not a peer snapshot is a lint error. */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { TopologyLintJson } from '../../src/commands/topology/lint.js';
import { parseJsonOutput, runCli } from '../lib/cli.js';

const SNAPSHOT = fileURLToPath(new URL('../fixtures/registry/mainnet-peer-snapshot.v23.json', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'spo-lint-snap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function relayWithSnapshot(name: string, snapshot: string): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    JSON.stringify({
      bootstrapPeers: [{ address: 'backbone.cardano.iog.io', port: 3001 }],
      localRoots: [{ accessPoints: [{ address: '10.0.0.5', port: 6000 }], advertise: false, hotValency: 1 }],
      publicRoots: [],
      useLedgerAfterSlot: 0,
      peerSnapshotFile: snapshot,
    }),
  );
  return path;
}

async function lint(file: string): Promise<{ code: number | null; doc: TopologyLintJson }> {
  const r = await runCli(['topology', 'lint', file, '--json']);
  return { code: r.code, doc: parseJsonOutput<TopologyLintJson>(r) };
}

describe('topology lint: peerSnapshotFile', () => {
  it('a file that does not exist (relative to the topology file) is an error, exit 1', async () => {
    const { code, doc } = await lint(relayWithSnapshot('t1.json', 'peer-snapshot.json'));
    expect(code).toBe(1);
    const f = doc.findings.find((x) => x.code === 'TOPOLOGY_SNAPSHOT_MISSING');
    expect(f).toMatchObject({ severity: 'error', path: '$.peerSnapshotFile' });
    expect(f?.message).toContain(join(dir, 'peer-snapshot.json'));
  });

  it('a file that is not a peer snapshot (here: a topology) is an error', async () => {
    const other = relayWithSnapshot('other.json', 'x.json');
    const { code, doc } = await lint(relayWithSnapshot('t2.json', other));
    expect(code).toBe(1);
    expect(doc.findings.find((x) => x.code === 'TOPOLOGY_SNAPSHOT_INVALID')).toMatchObject({
      severity: 'error',
      path: '$.peerSnapshotFile',
    });
    writeFileSync(join(dir, 'broken.json'), '{"bigLedgerPools": [');
    const broken = await lint(relayWithSnapshot('t3.json', 'broken.json'));
    expect(broken.doc.findings.map((x) => x.code)).toContain('TOPOLOGY_SNAPSHOT_INVALID');
  });

  it('a real snapshot next to the topology is fine', async () => {
    copyFileSync(SNAPSHOT, join(dir, 'mainnet-snapshot.json'));
    const { code, doc } = await lint(relayWithSnapshot('t4.json', 'mainnet-snapshot.json'));
    expect(code).toBe(0);
    expect(doc.findings.map((x) => x.code).filter((c) => c.startsWith('TOPOLOGY_SNAPSHOT'))).toEqual([]);
  });
});
