/** Issue 15: `spo governor dry-run` as an operator meets it, through bin/run.js. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../lib/cli.js';

let dir: string;
let producer: string;
let relay: string;
let config: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'spo-dry-run-'));
  producer = join(dir, 'producer-topology.json');
  // a block producer's file: its relays as one trustable local root group, nothing else
  writeFileSync(
    producer,
    JSON.stringify({
      localRoots: [
        {
          accessPoints: [
            { address: '203.0.113.10', port: 3001 },
            { address: '203.0.113.11', port: 3001 },
          ],
          advertise: false,
          trustable: true,
          hotValency: 2,
        },
      ],
      publicRoots: [],
      useLedgerAfterSlot: -1,
    }),
  );
  relay = join(dir, 'relay-topology.json');
  writeFileSync(
    relay,
    JSON.stringify({
      bootstrapPeers: [{ address: 'backbone.cardano.iog.io', port: 3001 }],
      localRoots: [{ accessPoints: [{ address: '10.0.0.5', port: 6000 }], advertise: false, hotValency: 1 }],
      publicRoots: [],
      useLedgerAfterSlot: 0,
    }),
  );
  config = join(dir, 'bp-config.json');
  writeFileSync(
    config,
    JSON.stringify({
      TargetNumberOfRootPeers: 2,
      TargetNumberOfKnownPeers: 2,
      TargetNumberOfEstablishedPeers: 2,
      TargetNumberOfActivePeers: 2,
      TargetNumberOfKnownBigLedgerPeers: 0,
      TargetNumberOfEstablishedBigLedgerPeers: 0,
      TargetNumberOfActiveBigLedgerPeers: 0,
    }),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('governor dry-run of a producer topology', () => {
  it('without --config: warns that the relay defaults are used and a producer targets differ', async () => {
    const r = await runCli(['governor', 'dry-run', '--topology', producer, '--duration', '1m']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: .*block producer.*relay defaults/);
    expect(r.stderr).toMatch(/--config/);
  });

  it('with --config, or for a relay topology: no such warning', async () => {
    const withConfig = await runCli([
      'governor',
      'dry-run',
      '--topology',
      producer,
      '--config',
      config,
      '--duration',
      '1m',
    ]);
    expect(withConfig.code).toBe(0);
    expect(withConfig.stderr).not.toMatch(/relay defaults/);
    const relayRun = await runCli(['governor', 'dry-run', '--topology', relay, '--duration', '1m']);
    expect(relayRun.code).toBe(0);
    expect(relayRun.stderr).not.toMatch(/block producer/);
  });

  it('--json: stdout stays one JSON document, stderr stays clean', async () => {
    const r = await runCli(['governor', 'dry-run', '--topology', producer, '--duration', '1m', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(() => JSON.parse(r.stdout)).not.toThrow();
  });
});
