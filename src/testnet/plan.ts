/**
 * The plan of a private testnet (`spo testnet`, docs/testnet.md), from its options and seed: each
 * node's loopback address, role (producer or relay), place and local roots, the one-way delay of
 * every link, the nodes' peer-selection targets, and the files each node is started with
 * (topology, node config, ledger peers, link delays). Pure: the shell writes the files and starts
 * the processes.
 */
import { createRng, shuffled } from '../governor/rng.js';
import type { Millis } from '../lib/clock.js';
import type { PeerTargets } from '../lib/peer-targets.js';
import { formatLinkDelays } from '../net/transport/delayed-links.js';
import { linkDelayMs, placeNodes, REGIONS } from '../simulation/geo.js';

export type LatencyModel = 'none' | 'geo';
export const LATENCY_MODELS: readonly LatencyModel[] = ['none', 'geo'];

export interface TestnetOptions {
  nodes: number;
  producers: number;
  seed: number;
  latency: LatencyModel;
  /** Time between two blocks of the testnet (the producers take turns). */
  blockIntervalMs: Millis;
}

export const MIN_NODES = 2;
/** Each node is a process of ~60-90 MB; beyond this a laptop struggles and the view stops fitting. */
export const MAX_NODES = 32;

export interface PlannedNode {
  /** 0-based. */
  index: number;
  /** `n1`, `n2`, ... as the view shows them. */
  name: string;
  /** Its own loopback address: the remote IP of any connection names the node. */
  host: string;
  producer: boolean;
  /** For `--latency geo`: the region of the continental mix it was placed in. */
  region: string | undefined;
  /** Indexes of its local roots. */
  localRoots: number[];
  /** For a producer: the earliest first header after it started (the warm-up). */
  mintOffsetMs: Millis | undefined;
  /**
   * For a producer: it mints at the wall-clock times ≡ this (mod `mintIntervalMs`), so the
   * producers take turns `blockIntervalMs` apart however far apart they started.
   */
  mintPhaseMs: Millis | undefined;
}

export interface TestnetPlan {
  options: TestnetOptions;
  nodes: PlannedNode[];
  /** One-way delay of the link i → j, ms (symmetric; 0 on the diagonal). */
  delays: number[][];
  targets: PeerTargets;
  /** Each producer mints this often (the producers alternate, `blockIntervalMs` apart). */
  mintIntervalMs: Millis;
}

/**
 * When the first header is due after a producer starts: time for every node to start and connect.
 * Two producers minting before they hear of each other would start two chains of equal length, and
 * alternating producers would keep them equal, so neither would ever win.
 */
export const MINT_WARMUP_MS: Millis = 10_000;

/**
 * How many local roots each node has: the next node on a ring, so that the local roots alone
 * connect the network. One, not more: a local root is never churned (only the rest of a node's
 * peers are), and each ledger peer a node does not need is one more chance for its random ledger
 * draws to hit a peer it already has (`ledgerPeersWanted`).
 */
export const LOCAL_ROOTS_PER_NODE = 1;

/** The ledger peers in a node's file: every node but itself and its local roots. */
const ledgerSize = (n: number): number => Math.max(0, n - 1 - Math.min(LOCAL_ROOTS_PER_NODE, n - 1));

/**
 * How many ledger peers a node of a network of `n` nodes is asked to know.
 *
 * Within a short run the governor learns peers only from its local roots and the ledger (peer
 * sharing asks a peer 300 s after connecting to it at the earliest; inbound peers count after
 * 15 minutes), and the ledger answers a request for `c` peers with `c` pools drawn at random with
 * replacement; a draw that brings nothing new is retried after 2, 4, 8, 16, 32 s ... (the
 * reference's back-off, governor.md §2.5, §6.4). Asking for `w` of `L` ledger peers, the draw for
 * the last one repeats a known peer with probability (w − 1) / L. The first plan asked for 4 of 5
 * (known N − 2 with 8 nodes: 3 wasted draws in 5), and about one node in ten was still short of
 * its known target after 30 s (test/testnet/plan-reach.test.ts).
 *
 * So: 4 (beside the local root, two hot peers for churn to choose between, a warm one for it to
 * close and a cold one for it to forget, making room for a fresh draw), else 3 (no cold one: the
 * node keeps the peers it first drew), else 2 (one hot, one warm), else 1, whichever is the most
 * that wastes at most one draw in three; on larger networks one more than a fifth of them; at most
 * all of them. 8 nodes: 3 of 6 (4 would waste one draw in two).
 */
export function ledgerPeersWanted(n: number): number {
  const ledger = ledgerSize(n);
  return Math.min(ledger, Math.max(Math.min(4, 1 + Math.floor(ledger / 3)), 1 + Math.floor(ledger / 5)));
}

/**
 * Targets for a network of `n` nodes: known = the local root and `ledgerPeersWanted` ledger peers
 * (a target the ledger's random draws fill in seconds); established up to 5 and active up to 3,
 * with at least one established peer that is neither hot nor a local root, so that each churn cycle
 * has a hot peer to demote (chosen among two from 8 nodes on: the upstream metric decides) and a
 * warm one to close. The relay's defaults (150/30/20) would make every node connect to every other
 * and leave nothing to learn. 5-7 nodes: 3/3/2; 8-10 nodes: 4/4/3; 11-16 nodes: 5/4/3; 32 nodes:
 * 8/5/3. With 3 or 4 nodes (2/2/1) the one hot peer is the local root, which churn never demotes:
 * its steps wait out their timeouts. Up to 10 nodes known = established: churn swaps hot and warm
 * peers but never forgets one (see `ledgerPeersWanted`).
 */
export function testnetTargets(n: number): PeerTargets {
  const localRoots = Math.min(LOCAL_ROOTS_PER_NODE, n - 1);
  const wanted = ledgerPeersWanted(n);
  const known = localRoots + wanted;
  // a cold peer beside the established ones when there are 4 ledger peers or more: churn's step
  // that forgets peers lowers the known target to the established one (governor.md 4.3), so
  // known = established would never forget one, and the node would never meet another peer
  const established = Math.min(wanted >= 4 ? known - 1 : known, 5);
  // one established peer more than the hot ones (a warm peer the churn can close); 1 for 2 nodes
  const active = Math.max(1, Math.min(3, established - 1));
  return {
    // root peers count local roots and ledger peers: a lower root target would stop the governor
    // asking the ledger before the known target is filled
    root: known,
    known,
    established,
    active,
    knownBigLedger: 0,
    establishedBigLedger: 0,
    activeBigLedger: 0,
  };
}

/** Rounds to 0.1 ms (the table is written to files and shown). */
const tenth = (ms: number): number => Math.round(ms * 10) / 10;

/**
 * The plan. `subnet` is the second and third octet of the testnet's loopback addresses
 * (`127.a.b.1` ... `127.a.b.N`), chosen by the shell so that two testnets on one machine do not
 * meet; the rest follows from the options and the seed.
 */
export function planTestnet(options: TestnetOptions, subnet: readonly [number, number]): TestnetPlan {
  const n = options.nodes;
  const rng = createRng(options.seed);
  const placeRng = rng.split();
  const roleRng = rng.split();
  const rootRng = rng.split();

  const delays: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  let regions: (string | undefined)[] = new Array<string | undefined>(n).fill(undefined);
  if (options.latency === 'geo') {
    // The geographic model of spo simulate, without its per-hop processing delay: here the
    // processing is the nodes' own, measured, not modelled.
    const p = placeNodes(n, placeRng);
    regions = Array.from({ length: n }, (_, i) => REGIONS[p.region[i] as number]?.name);
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const d = tenth(linkDelayMs(p, i, j, 0));
        (delays[i] as number[])[j] = d;
        (delays[j] as number[])[i] = d;
      }
    }
  }

  const producerSet = shuffled(
    Array.from({ length: n }, (_, i) => i),
    roleRng,
  ).slice(0, options.producers);
  const producerOrder = [...producerSet].sort((a, b) => a - b);
  const mintIntervalMs = options.blockIntervalMs * Math.max(1, options.producers);

  const nodes: PlannedNode[] = [];
  for (let i = 0; i < n; i++) {
    // Local roots: the next node on a ring (so the local-root graph alone is connected), and others at
    // random if LOCAL_ROOTS_PER_NODE asks for more.
    const roots = new Set<number>();
    if (n > 1) roots.add((i + 1) % n);
    const others = shuffled(
      Array.from({ length: n }, (_, j) => j).filter((j) => j !== i && !roots.has(j)),
      rootRng,
    );
    for (const j of others) {
      if (roots.size >= Math.min(LOCAL_ROOTS_PER_NODE, n - 1)) break;
      roots.add(j);
    }
    const turn = producerOrder.indexOf(i);
    nodes.push({
      index: i,
      name: `n${i + 1}`,
      host: `127.${subnet[0]}.${subnet[1]}.${i + 1}`,
      producer: turn >= 0,
      region: regions[i],
      localRoots: [...roots].sort((a, b) => a - b),
      // The first block once the nodes have found each other, then the producers in turn.
      mintOffsetMs: turn >= 0 ? MINT_WARMUP_MS : undefined,
      mintPhaseMs: turn >= 0 ? options.blockIntervalMs * turn : undefined,
    });
  }
  return { options, nodes, delays, targets: testnetTargets(n), mintIntervalMs };
}

/** The node's topology file: its local roots as one group (one hot, all warm), ledger peers from the start. */
export function topologyFile(plan: TestnetPlan, node: PlannedNode, ports: readonly number[]): string {
  const roots = node.localRoots.map((j) => ({
    address: (plan.nodes[j] as PlannedNode).host,
    port: ports[j] as number,
  }));
  const doc = {
    localRoots: [
      {
        accessPoints: roots,
        // not shared: every node knows the others from the ledger anyway
        advertise: false,
        trustable: true,
        hotValency: Math.min(1, roots.length),
        warmValency: roots.length,
      },
    ],
    publicRoots: [],
    useLedgerAfterSlot: 0,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** The node configuration (targets; peer sharing on: the nodes are relays). */
export function nodeConfigFile(plan: TestnetPlan): string {
  const t = plan.targets;
  const doc = {
    PeerSharing: true,
    TargetNumberOfRootPeers: t.root,
    TargetNumberOfKnownPeers: t.known,
    TargetNumberOfEstablishedPeers: t.established,
    TargetNumberOfActivePeers: t.active,
    TargetNumberOfKnownBigLedgerPeers: t.knownBigLedger,
    TargetNumberOfEstablishedBigLedgerPeers: t.establishedBigLedger,
    TargetNumberOfActiveBigLedgerPeers: t.activeBigLedger,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/**
 * The ledger peers a node sees: the other nodes as pools of equal stake with one relay each, as a
 * peer snapshot (version 2, all ledger pools). A node's own relay and its local roots are left out
 * of its file: it would not pick itself, and a ledger pick that is already a local root is wasted
 * (the governor draws ledger peers at random, and a small network would take many draws to fill
 * the known target).
 */
export function ledgerPeersFile(plan: TestnetPlan, node: PlannedNode, ports: readonly number[]): string {
  const others = plan.nodes.filter((m) => m.index !== node.index && !node.localRoots.includes(m.index));
  const doc = {
    version: 2,
    slotNo: 0,
    allLedgerPools: others.map((m) => ({
      relativeStake: 1 / plan.nodes.length,
      relays: [{ address: m.host, port: ports[m.index] as number }],
    })),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** The node's link-delays file: what it adds to what it sends to each other node. */
export function linkDelaysFile(plan: TestnetPlan, node: PlannedNode): string {
  const row = plan.delays[node.index] as number[];
  return formatLinkDelays(
    new Map(plan.nodes.filter((m) => m.index !== node.index).map((m) => [m.host, row[m.index] as number])),
  );
}
