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

describe('bootstrap peers and public roots of another network', () => {
  const preprodRelay = {
    bootstrapPeers: [{ address: 'preprod-node.play.dev.cardano.org', port: 3001 }],
    localRoots: [{ accessPoints: [{ address: '10.0.0.5', port: 6000 }], advertise: false, hotValency: 1 }],
    publicRoots: [{ accessPoints: [{ address: 'backbone.cardano.iog.io', port: 3001 }], advertise: false }],
    useLedgerAfterSlot: 0,
  };

  it('--network mainnet: a preprod bootstrap peer is a warning naming both networks', async () => {
    const r = await runCli(['topology', 'lint', file('preprod.json', preprodRelay), '--network', 'mainnet', '--json']);
    expect(r.code).toBe(0);
    const doc = parseJsonOutput<TopologyLintJson>(r);
    const other = doc.findings.filter((f) => f.code === 'TOPOLOGY_OTHER_NETWORK');
    expect(other).toHaveLength(1);
    expect(other[0]).toMatchObject({ severity: 'warning', path: '$.bootstrapPeers[0].address' });
    expect(other[0]?.message).toMatch(/preprod-node\.play\.dev\.cardano\.org .*preprod.*mainnet/);
  });

  it('--network preprod: the mainnet public root is the one flagged', async () => {
    const r = await runCli(['topology', 'lint', file('preprod2.json', preprodRelay), '--network', 'preprod', '--json']);
    const other = parseJsonOutput<TopologyLintJson>(r).findings.filter((f) => f.code === 'TOPOLOGY_OTHER_NETWORK');
    expect(other.map((f) => f.path)).toEqual(['$.publicRoots[0].accessPoints[0].address']);
  });

  it("the network of the config's genesis (magic) counts as --network", async () => {
    const genesis = file('shelley-genesis.json', { networkMagic: 764824073 });
    const config = file('config.json', { ShelleyGenesisFile: genesis });
    const r = await runCli(['topology', 'lint', file('preprod3.json', preprodRelay), '--config', config, '--json']);
    const other = parseJsonOutput<TopologyLintJson>(r).findings.filter((f) => f.code === 'TOPOLOGY_OTHER_NETWORK');
    expect(other.map((f) => f.path)).toEqual(['$.bootstrapPeers[0].address']);
  });

  it('no network given: nothing to compare with, no such warning', async () => {
    const r = await runCli(['topology', 'lint', file('preprod4.json', preprodRelay), '--json'], {
      env: { SPO_NETWORK: undefined },
    });
    const codes = parseJsonOutput<TopologyLintJson>(r).findings.map((f) => f.code);
    expect(codes).not.toContain('TOPOLOGY_OTHER_NETWORK');
  });
});
