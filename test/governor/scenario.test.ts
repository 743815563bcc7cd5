import { describe, expect, it } from 'vitest';
import { nodeConfigFromDocument } from '../../src/config/index.js';
import { relayPeer, splitPeer } from '../../src/driver/node-inputs.js';
import { RELAY_DEFAULT_TARGETS } from '../../src/governor/types.js';
import { buildScenario } from '../../src/sim/scenario.js';
import { SimulatedNode } from '../../src/sim/simulated-node.js';

describe('dry-run scenario', () => {
  it('reads TargetNumberOf* keys, defaulting to the relay targets, and reports bad values', () => {
    // The dry run reads its --config through the one node-config module (src/config).
    const read = (doc: Record<string, unknown>) => nodeConfigFromDocument(doc, 'config.json');
    const r = read({
      TargetNumberOfKnownPeers: 100,
      TargetNumberOfActivePeers: 10,
      PeerSharing: false,
    });
    expect(r.targets).toEqual({ ...RELAY_DEFAULT_TARGETS, known: 100, active: 10 });
    expect([...r.given]).toEqual(['TargetNumberOfKnownPeers', 'TargetNumberOfActivePeers', 'PeerSharing']);
    expect(r.peerSharing).toBe(false);
    expect(() => read({ TargetNumberOfRootPeers: -1, TargetNumberOfActivePeers: '5' })).toThrow(
      /TargetNumberOfRootPeers, TargetNumberOfActivePeers: not a non-negative integer/,
    );
    expect(read({}).targets).toEqual(RELAY_DEFAULT_TARGETS);
  });

  it('turns relays into peer ids and back', () => {
    expect(relayPeer({ kind: 'ipv4', host: '1.2.3.4', port: 3001 })).toBe('1.2.3.4:3001');
    expect(relayPeer({ kind: 'ipv6', host: '2001:db8::1', port: 6000 })).toBe('[2001:db8::1]:6000');
    expect(relayPeer({ kind: 'dns', host: 'relay.example.com', port: 3001 })).toBe('relay.example.com:3001');
    expect(relayPeer({ kind: 'srv', host: 'example.com' })).toBe('example.com');
    expect(splitPeer('[2001:db8::1]:6000')).toEqual({ address: '2001:db8::1', port: 6000 });
    expect(splitPeer('relay.example.com:3001')).toEqual({ address: 'relay.example.com', port: 3001 });
    expect(splitPeer('example.com')).toEqual({ address: 'example.com', port: null });
  });

  it('flagged relays never answer; local roots reach their valency; runs are reproducible', () => {
    const pools = Array.from({ length: 40 }, (_, i) => ({
      id: `pool${i}`,
      stake: 1 / 40,
      relays: [
        { kind: 'ipv4' as const, host: `10.0.0.${i}`, port: 3001, flags: i < 5 ? ['private'] : [] },
        { kind: 'dns' as const, host: `r${i}.example.com`, port: 3001, flags: [] },
      ],
    }));
    const input = {
      seed: 9,
      pools,
      localRoots: [
        {
          hotValency: 1,
          warmValency: 2,
          peers: [{ peer: 'bp.example.com:6000' }, { peer: 'relay2.example.com:6000' }],
        },
      ],
      publicRoots: [],
      useLedger: true,
      targets: { ...RELAY_DEFAULT_TARGETS, root: 20, known: 60 },
      peerSharing: true,
      churn: true,
      keepTrace: false,
    };
    const run = () => {
      const env = new SimulatedNode({ ...buildScenario(input), checkInvariants: true });
      env.runUntil(1_800_000);
      return env.snapshot();
    };
    const snap = run();
    for (const p of snap.peers) if (/^10\.0\.0\.[0-4]:/.test(p.peer)) expect(p.temperature).toBe('cold');
    const local = snap.peers.filter((p) => p.source === 'local-root');
    expect(local.filter((p) => p.temperature !== 'cold').length).toBeGreaterThanOrEqual(1);
    expect(run()).toEqual(snap);
    // Run in slices (as the command does, to stay interruptible): the same simulation.
    const sliced = new SimulatedNode({ ...buildScenario(input), checkInvariants: true });
    let slices = 0;
    while (!sliced.runUntil(1_800_000, 7)) slices++;
    expect(slices).toBeGreaterThan(10);
    expect(sliced.snapshot()).toEqual(snap);
  });
});
