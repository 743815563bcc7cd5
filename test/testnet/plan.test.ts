import { describe, expect, it } from 'vitest';
import { parseLinkDelays } from '../../src/net/transport/delayed-links.js';
import { parseRegistryDocument } from '../../src/registry/index.js';
import { nodeArgs, TESTNET_MAGIC } from '../../src/testnet/orchestrator.js';
import {
  ledgerPeersFile,
  ledgerPeersWanted,
  linkDelaysFile,
  MAX_NODES,
  MIN_NODES,
  planTestnet,
  type TestnetOptions,
  testnetTargets,
  topologyFile,
} from '../../src/testnet/plan.js';
import { parseTopology } from '../../src/topology/parse.js';

const base: TestnetOptions = { nodes: 8, producers: 2, seed: 1, latency: 'geo', blockIntervalMs: 2_000 };

describe('planTestnet', () => {
  it('is the same for the same seed and differs for another', () => {
    expect(planTestnet(base, [9, 9])).toEqual(planTestnet(base, [9, 9]));
    expect(planTestnet({ ...base, seed: 2 }, [9, 9]).delays).not.toEqual(planTestnet(base, [9, 9]).delays);
  });

  it('gives every node its own loopback address, K producers taking turns, and symmetric geographic delays', () => {
    const plan = planTestnet(base, [20, 30]);
    expect(new Set(plan.nodes.map((n) => n.host)).size).toBe(8);
    expect(plan.nodes.every((n) => /^127\.20\.30\.\d+$/.test(n.host))).toBe(true);
    const producers = plan.nodes.filter((n) => n.producer);
    expect(producers).toHaveLength(2);
    expect(plan.mintIntervalMs).toBe(4_000);
    expect(producers.map((n) => n.mintOffsetMs)).toEqual([10_000, 10_000]);
    expect(producers.map((n) => n.mintPhaseMs).sort()).toEqual([0, 2_000]);
    for (let i = 0; i < 8; i++) {
      expect(plan.delays[i]?.[i]).toBe(0);
      for (let j = 0; j < 8; j++) {
        expect(plan.delays[i]?.[j]).toBe(plan.delays[j]?.[i]);
        // on Earth: at most half the circumference over fibre, about 100 ms one way
        expect(plan.delays[i]?.[j]).toBeLessThan(101);
      }
    }
    expect(plan.delays.flat().some((d) => d > 1)).toBe(true);
    expect(
      planTestnet({ ...base, latency: 'none' }, [20, 30])
        .delays.flat()
        .every((d) => d === 0),
    ).toBe(true);
  });

  it('local root: the next node on the ring; targets below the network', () => {
    const plan = planTestnet(base, [1, 1]);
    for (const n of plan.nodes) expect(n.localRoots).toEqual([(n.index + 1) % 8]);
    // its local root and 3 of the 6 ledger peers in its file (see plan-reach.test.ts)
    expect(plan.targets).toMatchObject({ root: 4, known: 4, established: 4, active: 3 });
    expect(planTestnet({ ...base, nodes: 5 }, [1, 1]).targets).toMatchObject({ known: 3, established: 3, active: 2 });
    expect(planTestnet({ ...base, nodes: 4 }, [1, 1]).targets).toMatchObject({ known: 2, established: 2, active: 1 });
    expect(planTestnet({ ...base, nodes: 2, producers: 1 }, [1, 1]).targets).toMatchObject({
      known: 1,
      established: 1,
      active: 1,
    });
  });

  it('targets are sane for every size, and ask for few enough ledger peers that a random draw rarely repeats one', () => {
    for (let n = MIN_NODES; n <= MAX_NODES; n++) {
      const t = testnetTargets(n);
      expect(t.active).toBeGreaterThanOrEqual(1);
      expect(t.active).toBeLessThanOrEqual(t.established);
      expect(t.established).toBeLessThanOrEqual(t.known);
      expect(t.root).toBe(t.known);
      expect(t.known).toBeLessThanOrEqual(n - 1);
      const ledger = Math.max(0, n - 2);
      const wanted = ledgerPeersWanted(n);
      expect(t.known).toBe(1 + wanted);
      // when one is missing, at most one draw in three repeats a ledger peer already known
      if (ledger > 0) expect((wanted - 1) / ledger).toBeLessThanOrEqual(1 / 3);
      // from 5 nodes on, churn has a non-local-root hot peer to demote and a warm one to close
      if (n >= 5) expect(t.established).toBeGreaterThan(t.active);
      if (n >= 5) expect(t.active).toBeGreaterThanOrEqual(2);
    }
    expect(testnetTargets(16)).toMatchObject({ known: 5, established: 4, active: 3 });
    expect(testnetTargets(32)).toMatchObject({ known: 8, established: 5, active: 3 });
  });

  it("writes files the node's own readers accept", () => {
    const plan = planTestnet(base, [5, 6]);
    const ports = plan.nodes.map((_, i) => 40_000 + i);
    const n = plan.nodes[3] as (typeof plan.nodes)[0];
    const topo = parseTopology(JSON.parse(topologyFile(plan, n, ports)), 'topology.json');
    expect(topo.topology.localRoots[0]?.accessPoints.map((a) => `${a.address}:${a.port}`)).toEqual(
      n.localRoots.map((j) => `127.5.6.${j + 1}:${40_000 + j}`),
    );
    const ledger = parseRegistryDocument(JSON.parse(ledgerPeersFile(plan, n, ports)), 'ledger.json');
    expect(ledger.pools).toHaveLength(6);
    const relays = ledger.pools.flatMap((p) => p.relays.map((r) => `${r.host}:${r.port}`));
    expect(relays).not.toContain(`${n.host}:${ports[3]}`);
    for (const m of plan.nodes)
      if (m.index !== 3 && !n.localRoots.includes(m.index)) expect(relays).toContain(`${m.host}:${ports[m.index]}`);
    for (const j of n.localRoots) expect(relays).not.toContain(`127.5.6.${j + 1}:${40_000 + j}`);
    const delays = parseLinkDelays(linkDelaysFile(plan, n), 'delays.json');
    expect(delays.size).toBe(7);
    expect(delays.get('127.5.6.1')).toBe(plan.delays[3]?.[0]);
  });
});

describe('nodeArgs', () => {
  const plan = planTestnet(base, [9, 9]);
  const node = plan.nodes[0] as (typeof plan.nodes)[number];
  const files = { topology: 't.json', config: 'c.json', ledgerPeers: 'l.json', linkDelays: 'd.json' };
  const magicOf = (args: string[]): string | undefined => args[args.indexOf('--magic') + 1];

  it('runs every node on the testnet magic, or on the one --magic gave', () => {
    expect(magicOf(nodeArgs({ churnIntervalMs: 20_000 }, plan, node, 3001, files))).toBe(String(TESTNET_MAGIC));
    expect(magicOf(nodeArgs({ churnIntervalMs: 20_000, magic: 77 }, plan, node, 3001, files))).toBe('77');
  });
});
