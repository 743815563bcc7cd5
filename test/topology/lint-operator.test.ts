/** Issue 15: `spo topology lint` as an operator meets it, through bin/run.js. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TopologyLintJson } from '../../src/commands/topology/lint.js';
import { parseJsonOutput, runCli } from '../lib/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'spo-lint-op-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, doc: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof doc === 'string' ? doc : JSON.stringify(doc, null, 2));
  return path;
}

const producerFile = {
  localRoots: [
    {
      accessPoints: [{ address: '203.0.113.10', port: 3001 }],
      advertise: false,
      trustable: true,
      hotValency: 1,
    },
  ],
  publicRoots: [],
  useLedgerAfterSlot: -1,
};

describe('the role lint assumed', () => {
  it('is shown in the text output, guessed or given', async () => {
    const guessed = await runCli(['topology', 'lint', file('bp.json', producerFile)]);
    expect(guessed.code).toBe(0);
    expect(guessed.stdout).toMatch(/role: block producer \(guessed from the file; --role to say it\)/);
    const given = await runCli(['topology', 'lint', file('bp2.json', producerFile), '--role', 'producer']);
    expect(given.stdout).toMatch(/role: block producer \(--role\)/);
  });

  // What `topology migrate` wrote for a legacy relay file before issue 15: IOG's public relays as
  // a local root, ledger peers off, nothing else. The guess says producer; it is a relay's file.
  it('a relay-shaped file with no peer source is flagged even when the guess is producer', async () => {
    const migratedRelay = {
      localRoots: [
        {
          accessPoints: [{ address: 'relays-new.cardano-mainnet.iohk.io', port: 3001 }],
          advertise: false,
          trustable: false,
          hotValency: 2,
        },
      ],
      publicRoots: [],
      useLedgerAfterSlot: -1,
    };
    const r = await runCli(['topology', 'lint', file('old-relay.json', migratedRelay), '--json']);
    const doc = parseJsonOutput<TopologyLintJson>(r);
    expect(doc.role).toBe('producer');
    const f = doc.findings.find((x) => x.code === 'TOPOLOGY_NO_PEER_SOURCE');
    expect(f?.severity).toBe('warning');
    expect(f?.message).toContain('relays-new.cardano-mainnet.iohk.io');
    // a real producer file is not flagged
    const bp = parseJsonOutput<TopologyLintJson>(
      await runCli(['topology', 'lint', file('bp3.json', producerFile), '--json']),
    );
    expect(bp.findings.map((x) => x.code)).not.toContain('TOPOLOGY_NO_PEER_SOURCE');
  });
});
