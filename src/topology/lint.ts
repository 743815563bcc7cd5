/**
 * Topology lint: every problem the node would refuse to start with (found by the parser), and the
 * mistakes it accepts but that hurt silently (found here), each with a severity, the JSON path,
 * a one-line explanation and the fix. The rules and their severities are listed in LINT_RULES
 * (and docs/topology-lint.md). Pure: the DNS and probe checks live in ./checks.ts.
 */
import {
  DEFAULT_DEADLINE_TARGETS,
  type NodeConfig,
  type NodeConfigKey,
  P2P_KEYS,
  TARGET_KEYS,
} from '../config/index.js';
import { classifyAddress } from '../lib/address.js';
import {
  type AccessPoint,
  accessPointText,
  endpointKey,
  type ParsedTopology,
  SEVERITY_ORDER,
  type Severity,
  type Topology,
  type TopologyFinding,
} from './model.js';
import { jsonPath } from './parse.js';

export type Role = 'relay' | 'producer';

export interface LintRule {
  code: string;
  severity: Severity;
  /** What the rule finds. */
  title: string;
  fix: string;
}

/**
 * Every rule, with its usual severity. A few rules change severity with context (documented in
 * `title`): producer rules are warnings when the role was guessed, not given.
 */
export const LINT_RULES: readonly LintRule[] = [
  // What the parser finds (the node's decoding rules).
  {
    code: 'TOPOLOGY_LEGACY_FORMAT',
    severity: 'error',
    title: 'legacy non-P2P "Producers" file (refused since node 10.6)',
    fix: 'spo topology migrate FILE',
  },
  {
    code: 'TOPOLOGY_EARLY_P2P_FORMAT',
    severity: 'error',
    title: 'early grouped P2P format ("LocalRoots"/"PublicRoots"), no longer accepted',
    fix: 'spo topology migrate FILE',
  },
  {
    code: 'TOPOLOGY_MISSING_KEY',
    severity: 'error',
    title: '"localRoots" or "publicRoots" missing (the node refuses the file)',
    fix: 'add the key with a list, possibly empty',
  },
  {
    code: 'TOPOLOGY_TYPE',
    severity: 'error',
    title:
      'a value of the wrong JSON type (string for a number, "true" for true...); warning when the node does not read it ("valency" that does not decode beside a valid "hotValency")',
    fix: 'write the value with the type the node expects',
  },
  {
    code: 'TOPOLOGY_SLOT_FRACTION',
    severity: 'warning',
    title: 'useLedgerAfterSlot is not a whole number: the node rounds it down',
    fix: 'write a whole slot number',
  },
  {
    code: 'TOPOLOGY_MISSING_ACCESS_POINTS',
    severity: 'error',
    title: 'a group without "accessPoints"',
    fix: 'add "accessPoints": [...]',
  },
  {
    code: 'TOPOLOGY_MISSING_ADDRESS',
    severity: 'error',
    title: 'an access point without "address"',
    fix: 'give the IP address or DNS name',
  },
  {
    code: 'TOPOLOGY_MISSING_VALENCY',
    severity: 'error',
    title: 'a local root group without "hotValency"/"valency"',
    fix: 'add "hotValency"',
  },
  {
    code: 'TOPOLOGY_BOTH_VALENCY_KEYS',
    severity: 'error',
    title: '"valency" and "hotValency" disagree: the node uses "valency"',
    fix: 'keep only "hotValency"',
  },
  {
    code: 'TOPOLOGY_BAD_PORT',
    severity: 'error',
    title:
      'a port that is not an integer (the node then treats the name as SRV) or outside 1-65535 (silently narrowed)',
    fix: 'write the port as a number 1-65535',
  },
  {
    code: 'TOPOLOGY_MISSING_PORT',
    severity: 'error',
    title: 'an IP address without a port (taken for an SRV name, never connected)',
    fix: 'add "port"',
  },
  {
    code: 'TOPOLOGY_UNSPECIFIED_ADDRESS',
    severity: 'error',
    title: '0.0.0.0 or :: as an address (the node refuses to start)',
    fix: "use the relay's reachable address",
  },
  {
    code: 'TOPOLOGY_BAD_HOST',
    severity: 'error',
    title: 'an address that is neither an IP nor a valid DNS name',
    fix: 'write a bare IP or name, no scheme or port',
  },
  {
    code: 'TOPOLOGY_BAD_DIFFUSION_MODE',
    severity: 'error',
    title: 'an unknown "diffusionMode"',
    fix: 'InitiatorAndResponder or InitiatorOnly',
  },
  {
    code: 'TOPOLOGY_SRV_NO_PREFIX',
    severity: 'warning',
    title: 'a name without port and without "_" prefix: looked up as an SRV name as written',
    fix: 'add the port, or write the full _cardano._tcp. name',
  },
  {
    code: 'TOPOLOGY_SRV_WITH_PORT',
    severity: 'warning',
    title: 'a name starting with "_" (an SRV name) given with a port: looked up as A/AAAA, not SRV',
    fix: "remove the port, or give the relay's own name",
  },
  {
    code: 'TOPOLOGY_UNKNOWN_KEY',
    severity: 'warning',
    title: 'a key the node ignores (warning in groups and at the top, info for annotations inside access points)',
    fix: 'rename a mistyped key, remove a stray one',
  },
  // Valency and groups (ouroboros-network LocalRootPeers.fromGroups).
  {
    code: 'TOPOLOGY_VALENCY_ZERO',
    severity: 'error',
    title: 'hotValency or warmValency of 0 or less: the node drops the group',
    fix: 'set hotValency to at least 1',
  },
  {
    code: 'TOPOLOGY_HOTVALENCY',
    severity: 'error',
    title: 'hotValency above the number of access points (of resolved addresses with --resolve): the node lowers it',
    fix: 'lower hotValency or add access points',
  },
  {
    code: 'TOPOLOGY_HOTVALENCY_NAMES',
    severity: 'info',
    title:
      'hotValency above the number of access points, some of them names (counts on each name having several addresses)',
    fix: 'check with --resolve',
  },
  {
    code: 'TOPOLOGY_WARM_BELOW_HOT',
    severity: 'error',
    title: 'warmValency below hotValency: the node lowers hotValency to warmValency',
    fix: 'warmValency >= hotValency (hot + 1 recommended)',
  },
  {
    code: 'TOPOLOGY_WARMVALENCY_ABOVE',
    severity: 'warning',
    title: 'warmValency above the number of IP access points: the node lowers it',
    fix: 'lower warmValency or add access points',
  },
  {
    code: 'TOPOLOGY_OVERLAPPING_GROUPS',
    severity: 'error',
    title: 'an endpoint in two local root groups: the node drops it from the later group',
    fix: 'keep each endpoint in one group',
  },
  {
    code: 'TOPOLOGY_DUPLICATE_ENDPOINT',
    severity: 'warning',
    title: 'the same endpoint twice in one list (it counts once)',
    fix: 'remove the duplicate',
  },
  {
    code: 'TOPOLOGY_LOCAL_AND_PUBLIC',
    severity: 'warning',
    title: 'an endpoint both in local roots and in public roots or bootstrap peers',
    fix: 'keep it in one place',
  },
  {
    code: 'TOPOLOGY_EMPTY_GROUP',
    severity: 'info',
    title: 'a local root group without access points (the node ignores it)',
    fix: 'remove it or add access points',
  },
  {
    code: 'TOPOLOGY_LOCAL_ROOTS_ABOVE_KNOWN',
    severity: 'error',
    title: 'more local root access points than TargetNumberOfKnownPeers: the node drops the excess',
    fix: 'raise the target or remove local roots',
  },
  {
    code: 'TOPOLOGY_HOT_ABOVE_ACTIVE',
    severity: 'warning',
    title: 'local root hot valencies add up to more than TargetNumberOfActivePeers',
    fix: 'raise TargetNumberOfActivePeers or lower hotValency',
  },
  // Trust, bootstrap, ledger peers.
  {
    code: 'TOPOLOGY_NO_TRUSTED_SOURCE',
    severity: 'error',
    title: 'bootstrap peers enabled with an empty list and no trustable local root: the node refuses to start',
    fix: 'list bootstrap peers, mark your relays trustable, or set bootstrapPeers to null',
  },
  {
    code: 'TOPOLOGY_NO_LEDGER_AFTER_SLOT',
    severity: 'warning',
    title: 'no useLedgerAfterSlot on a relay: the node never uses ledger peers',
    fix: 'add "useLedgerAfterSlot" (0 = always)',
  },
  {
    code: 'TOPOLOGY_LEDGER_PEERS_OFF',
    severity: 'info',
    title: 'a relay with ledger peers turned off (useLedgerAfterSlot < 0)',
    fix: 'set useLedgerAfterSlot to 0 or a recent slot',
  },
  {
    code: 'TOPOLOGY_SNAPSHOT_IGNORED',
    severity: 'warning',
    title: 'peerSnapshotFile with ledger peers off: the node ignores the snapshot',
    fix: 'enable ledger peers or remove peerSnapshotFile',
  },
  {
    code: 'TOPOLOGY_NO_PEER_SOURCE',
    severity: 'warning',
    title: 'a relay with no public roots, no bootstrap peers and no ledger peers: it only knows its local roots',
    fix: 'enable ledger peers or add public roots',
  },
  {
    code: 'TOPOLOGY_GENESIS_BOOTSTRAP',
    severity: 'warning',
    title: 'bootstrap peers with ConsensusMode GenesisMode: the node turns them off',
    fix: 'remove bootstrapPeers and give a peerSnapshotFile',
  },
  // Block producer exposure.
  {
    code: 'TOPOLOGY_PRODUCER_PUBLIC_ROOTS',
    severity: 'error',
    title: 'a block producer with public roots (warning when the role was guessed)',
    fix: 'only your relays, as a trustable local root group',
  },
  {
    code: 'TOPOLOGY_PRODUCER_LEDGER_PEERS',
    severity: 'error',
    title: 'a block producer with ledger peers enabled',
    fix: 'useLedgerAfterSlot: -1',
  },
  {
    code: 'TOPOLOGY_PRODUCER_BOOTSTRAP_PEERS',
    severity: 'error',
    title: 'a block producer with bootstrap peers',
    fix: 'bootstrapPeers: null and a trustable group of your relays',
  },
  {
    code: 'TOPOLOGY_PRODUCER_ADVERTISE',
    severity: 'error',
    title: 'a block producer advertising its peers (peer sharing would spread them)',
    fix: 'advertise: false',
  },
  {
    code: 'TOPOLOGY_PRODUCER_PEER_SHARING',
    severity: 'error',
    title: 'a block producer whose node config turns PeerSharing on',
    fix: '"PeerSharing": false in the node config',
  },
  {
    code: 'TOPOLOGY_PRODUCER_SNAPSHOT',
    severity: 'warning',
    title: 'a block producer with a peerSnapshotFile (ignored)',
    fix: 'remove peerSnapshotFile',
  },
  {
    code: 'TOPOLOGY_PRODUCER_NO_RELAYS',
    severity: 'warning',
    title: 'a block producer with no local root: it cannot reach the network',
    fix: 'add your relays as a trustable local root group',
  },
  {
    code: 'TOPOLOGY_ADVERTISES_PRODUCER',
    severity: 'error',
    title: "a relay advertising the block producer's address (given with --producer)",
    fix: 'advertise: false on the group holding the producer',
  },
  {
    code: 'TOPOLOGY_ADVERTISE_PRIVATE',
    severity: 'warning',
    title: 'a relay advertising a private or loopback address (often the block producer)',
    fix: 'advertise: false on that group',
  },
  // Addresses.
  {
    code: 'TOPOLOGY_PUBLIC_ROOT_PRIVATE',
    severity: 'warning',
    title: 'a private, loopback or unroutable address in public roots or bootstrap peers',
    fix: 'use public addresses there; put your own machines in local roots',
  },
  {
    code: 'TOPOLOGY_LOCAL_ROOT_UNROUTABLE',
    severity: 'warning',
    title: 'a documentation, multicast or reserved address in local roots',
    fix: "use the relay's real address",
  },
  // Network checks (--resolve, --probe).
  {
    code: 'TOPOLOGY_UNRESOLVED',
    severity: 'error',
    title: 'a name that does not exist or has no address (--resolve)',
    fix: 'fix the name or its DNS records',
  },
  {
    code: 'TOPOLOGY_RESOLVE_FAILED',
    severity: 'warning',
    title: 'a name whose lookup failed (timeout, SERVFAIL) (--resolve)',
    fix: 'check the DNS servers and try again',
  },
  {
    code: 'TOPOLOGY_UNREACHABLE',
    severity: 'error',
    title: 'a local root or bootstrap peer that does not answer the handshake (warning for public roots) (--probe)',
    fix: 'check the relay, its firewall and port',
  },
];

export interface NodeConfigFacts {
  peerSharing?: boolean;
  consensusMode?: string;
  targetKnown?: number;
  targetActive?: number;
}

export interface LintOptions {
  /** The node's role; guessed from the file when undefined. */
  role?: Role | undefined;
  /** The block producer's endpoints (for "relay advertises the producer"). */
  producers?: AccessPoint[] | undefined;
  /** Facts from the node configuration file, when given. */
  config?: NodeConfigFacts | undefined;
}

export interface LintResult {
  role: Role;
  roleSource: 'given' | 'guessed';
  findings: TopologyFinding[];
  counts: Record<Severity, number>;
}

/** What lint needs of a node configuration: the keys the file sets (lint applies the role's defaults). */
export function nodeConfigFacts(config: NodeConfig): NodeConfigFacts {
  const facts: NodeConfigFacts = {};
  const given = (key: NodeConfigKey): boolean => config.given.has(key);
  if (given(P2P_KEYS.peerSharing)) facts.peerSharing = config.peerSharing;
  if (given(P2P_KEYS.consensusMode))
    facts.consensusMode = config.consensusMode === 'genesis' ? 'GenesisMode' : 'PraosMode';
  if (given(TARGET_KEYS.known)) facts.targetKnown = config.targets.known;
  if (given(TARGET_KEYS.active)) facts.targetActive = config.targets.active;
  return facts;
}

/**
 * A producer-looking file: ledger peers off, some local roots, and either no bootstrap peers or
 * no public roots (a relay normally has ledger peers, and bootstrap peers beside public roots; a
 * block producer that kept the preset's bootstrap peers is the mistake worth catching).
 */
export function guessRole(t: Topology): Role {
  const hasLocal = t.localRoots.some((g) => g.accessPoints.length > 0);
  const noBootstrap = t.bootstrapPeers === null || t.bootstrapPeers.length === 0;
  const noPublic = !t.publicRoots.some((g) => g.accessPoints.length > 0);
  return t.ledgerPeers.mode === 'never' && hasLocal && (noBootstrap || noPublic) ? 'producer' : 'relay';
}

const UNROUTABLE_LOCAL = new Set(['documentation', 'multicast', 'reserved', 'unspecified']);

function isPrivateish(ap: AccessPoint): string | undefined {
  return ap.kind === 'ipv4' || ap.kind === 'ipv6' ? classifyAddress(ap.address) : undefined;
}

/** Runs the static rules over a parsed file (parser findings included), sorted by severity. */
export function lintTopology(parsed: ParsedTopology, options: LintOptions = {}): LintResult {
  const t = parsed.topology;
  const findings: TopologyFinding[] = [...parsed.findings];
  const add = (code: string, severity: Severity, path: string, message: string, fix: string): void => {
    findings.push({ code, severity, path, message, fix });
  };
  const role = options.role ?? guessRole(t);
  const roleSource = options.role ? 'given' : 'guessed';
  const p2p = parsed.format === 'p2p';
  // Paths point into the file as written; for older formats the model's paths are approximate.
  const lrPath = (i: number, ...rest: Array<string | number>): string =>
    p2p
      ? jsonPath('localRoots', i, ...rest)
      : jsonPath(
          ...(parsed.format === 'early-p2p' ? ['LocalRoots', 'groups'] : ['Producers']),
          parsed.localRootSources?.[i] ?? i,
        );
  const prPath = (i: number, ...rest: Array<string | number>): string =>
    p2p ? jsonPath('publicRoots', i, ...rest) : jsonPath('PublicRoots', i);

  // Valency per group, as fromGroups would bash it.
  const seen = new Map<string, number>();
  t.localRoots.forEach((g, i) => {
    const n = g.accessPoints.length;
    if (n === 0) {
      add(
        'TOPOLOGY_EMPTY_GROUP',
        'info',
        lrPath(i, 'accessPoints'),
        `local root group ${i} has no access points: the node ignores it`,
        'remove the group, or add your relays to it',
      );
    } else if (g.hotValency <= 0 || g.warmValency <= 0) {
      add(
        'TOPOLOGY_VALENCY_ZERO',
        'error',
        lrPath(i, g.hotValency <= 0 ? 'hotValency' : 'warmValency'),
        `local root group ${i} has ${g.hotValency <= 0 ? `hotValency ${g.hotValency}` : `warmValency ${g.warmValency}`}: the node drops the whole group`,
        `set hotValency to the number of these peers to keep hot (1-${n})`,
      );
    } else {
      const names = g.accessPoints.some((a) => a.kind === 'dns' || a.kind === 'srv');
      if (g.warmValency < g.hotValency) {
        add(
          'TOPOLOGY_WARM_BELOW_HOT',
          'error',
          lrPath(i, 'warmValency'),
          `warmValency ${g.warmValency} is below hotValency ${g.hotValency}: the node lowers hotValency to ${g.warmValency}`,
          `set warmValency to at least ${g.hotValency} (${Math.min(g.hotValency + 1, Math.max(n, g.hotValency))} recommended)`,
        );
      }
      if (g.hotValency > n) {
        if (names)
          add(
            'TOPOLOGY_HOTVALENCY_NAMES',
            'info',
            lrPath(i, 'hotValency'),
            `hotValency ${g.hotValency} is above the ${n} access point(s) of group ${i}: it holds only if the names resolve to ${g.hotValency} addresses or more`,
            'run lint with --resolve to count the addresses',
          );
        else
          add(
            'TOPOLOGY_HOTVALENCY',
            'error',
            lrPath(i, 'hotValency'),
            `hotValency ${g.hotValency} is above the ${n} access point(s) of group ${i}: the node lowers it to ${n}`,
            `set hotValency to at most ${n}, or add access points`,
          );
      } else if (g.warmValency > n && !names && g.warmValency >= g.hotValency) {
        add(
          'TOPOLOGY_WARMVALENCY_ABOVE',
          'warning',
          lrPath(i, 'warmValency'),
          `warmValency ${g.warmValency} is above the ${n} access point(s) of group ${i}: the node lowers it to ${n}`,
          `set warmValency to at most ${n}, or add access points`,
        );
      }
    }
    // Duplicates inside the group, overlap with earlier groups.
    const inGroup = new Set<string>();
    g.accessPoints.forEach((ap, j) => {
      const key = endpointKey(ap);
      if (inGroup.has(key)) {
        add(
          'TOPOLOGY_DUPLICATE_ENDPOINT',
          'warning',
          lrPath(i, 'accessPoints', j),
          `${accessPointText(ap)} appears twice in local root group ${i}: it counts once`,
          'remove the duplicate (and check hotValency)',
        );
        return;
      }
      inGroup.add(key);
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        add(
          'TOPOLOGY_OVERLAPPING_GROUPS',
          'error',
          lrPath(i, 'accessPoints', j),
          `${accessPointText(ap)} is already in local root group ${earlier}: the node drops it from group ${i}`,
          'keep each endpoint in exactly one local root group',
        );
      } else seen.set(key, i);
      const cls = isPrivateish(ap);
      if (cls && UNROUTABLE_LOCAL.has(cls)) {
        add(
          'TOPOLOGY_LOCAL_ROOT_UNROUTABLE',
          'warning',
          lrPath(i, 'accessPoints', j, 'address'),
          `${ap.address} is a ${cls} address: no relay can be reached there`,
          "use the relay's real address",
        );
      }
    });
  });

  // Public roots and bootstrap peers: duplicates, private addresses, overlap with local roots.
  const checkPublicList = (
    aps: AccessPoint[],
    pathOf: (j: number) => string,
    what: string,
    listSeen: Set<string>,
  ): void => {
    aps.forEach((ap, j) => {
      const key = endpointKey(ap);
      if (listSeen.has(key)) {
        add(
          'TOPOLOGY_DUPLICATE_ENDPOINT',
          'warning',
          pathOf(j),
          `${accessPointText(ap)} appears twice in ${what}`,
          'remove the duplicate',
        );
        return;
      }
      listSeen.add(key);
      if (seen.has(key))
        add(
          'TOPOLOGY_LOCAL_AND_PUBLIC',
          'warning',
          pathOf(j),
          `${accessPointText(ap)} is both a local root (group ${seen.get(key)}) and in ${what}`,
          `keep it in one place (local roots for your own relays, ${what} for others)`,
        );
      const cls = isPrivateish(ap);
      if (cls)
        add(
          'TOPOLOGY_PUBLIC_ROOT_PRIVATE',
          'warning',
          `${pathOf(j)}.address`,
          `${ap.address} in ${what} is a ${cls} address: not a public peer, other nodes cannot use it`,
          'put public relays there; your own machines belong in local roots',
        );
    });
  };
  const publicSeen = new Set<string>();
  t.publicRoots.forEach((g, i) => {
    checkPublicList(g.accessPoints, (j) => prPath(i, 'accessPoints', j), 'public roots', publicSeen);
  });
  if (t.bootstrapPeers)
    checkPublicList(t.bootstrapPeers, (j) => jsonPath('bootstrapPeers', j), 'bootstrap peers', new Set());

  // Trust and bootstrap (cardano-node isValidTrustedPeerConfiguration).
  if (t.bootstrapPeers !== null && t.bootstrapPeers.length === 0) {
    const trusted = t.localRoots.some((g) => g.trustable && g.accessPoints.length > 0);
    if (!trusted)
      add(
        'TOPOLOGY_NO_TRUSTED_SOURCE',
        'error',
        jsonPath('bootstrapPeers'),
        'bootstrap peers are enabled but the list is empty and no local root group is trustable: the node refuses to start ("You seem to have not configured any trustable peers")',
        role === 'producer'
          ? 'set "bootstrapPeers": null and mark the group of your relays "trustable": true'
          : 'list bootstrap peers (the network presets have them), or mark a local root group of your own relays "trustable": true',
      );
  }
  if (options.config?.consensusMode === 'GenesisMode' && t.bootstrapPeers !== null && role === 'relay')
    add(
      'TOPOLOGY_GENESIS_BOOTSTRAP',
      'warning',
      jsonPath('bootstrapPeers'),
      'the node config says ConsensusMode GenesisMode: the node turns bootstrap peers off',
      'remove bootstrapPeers and give an up-to-date peerSnapshotFile',
    );

  // Ledger peers and the snapshot.
  const ledgerOff = t.ledgerPeers.mode === 'never';
  if (p2p && role === 'relay') {
    const slotInvalid = parsed.findings.some((f) => f.path === '$.useLedgerAfterSlot');
    if (t.useLedgerAfterSlot === undefined && !slotInvalid)
      add(
        'TOPOLOGY_NO_LEDGER_AFTER_SLOT',
        'warning',
        '$',
        'no "useLedgerAfterSlot": the node never uses ledger peers (an absent key means never, not always)',
        'add "useLedgerAfterSlot": 0 (always), or a slot from the network preset; -1 to say "never" on purpose',
      );
    const publicCount = t.publicRoots.reduce((s, g) => s + g.accessPoints.length, 0);
    if (ledgerOff && publicCount === 0 && (t.bootstrapPeers?.length ?? 0) === 0)
      add(
        'TOPOLOGY_NO_PEER_SOURCE',
        'warning',
        '$',
        'no public roots, no bootstrap peers and no ledger peers: this relay only ever knows its local roots (and what they share)',
        'enable ledger peers (useLedgerAfterSlot: 0) or add public roots',
      );
    else if (ledgerOff && t.useLedgerAfterSlot !== undefined && t.peerSnapshotFile === undefined)
      // Only when neither NO_PEER_SOURCE nor SNAPSHOT_IGNORED already says it.
      add(
        'TOPOLOGY_LEDGER_PEERS_OFF',
        'info',
        jsonPath('useLedgerAfterSlot'),
        `useLedgerAfterSlot ${t.useLedgerAfterSlot}: this relay never uses ledger peers`,
        'set useLedgerAfterSlot to 0 or a recent slot unless this is on purpose',
      );
  }
  if (t.peerSnapshotFile !== undefined && ledgerOff && role === 'relay')
    add(
      'TOPOLOGY_SNAPSHOT_IGNORED',
      'warning',
      jsonPath('peerSnapshotFile'),
      'peerSnapshotFile is set but ledger peers are off: the node ignores the snapshot',
      'enable ledger peers (useLedgerAfterSlot) or remove peerSnapshotFile',
    );

  // Targets from the node config (or the defaults of the role).
  const known = options.config?.targetKnown ?? DEFAULT_DEADLINE_TARGETS[role].known;
  const active = options.config?.targetActive ?? DEFAULT_DEADLINE_TARGETS[role].active;
  const localCount = new Set(t.localRoots.flatMap((g) => g.accessPoints.map(endpointKey))).size;
  if (localCount > known)
    add(
      'TOPOLOGY_LOCAL_ROOTS_ABOVE_KNOWN',
      'error',
      jsonPath('localRoots'),
      `${localCount} local root access points but TargetNumberOfKnownPeers is ${known}: the node keeps ${known} (whole groups in file order, the group that crosses the limit is cut)`,
      `raise TargetNumberOfKnownPeers to at least ${localCount}, or remove local roots`,
    );
  const hotSum = t.localRoots.reduce((s, g) => s + (g.accessPoints.length > 0 ? Math.max(0, g.hotValency) : 0), 0);
  if (hotSum > active)
    add(
      'TOPOLOGY_HOT_ABOVE_ACTIVE',
      'warning',
      jsonPath('localRoots'),
      `local roots ask for ${hotSum} hot peers but TargetNumberOfActivePeers is ${active}: no room is left for other peers`,
      `raise TargetNumberOfActivePeers above ${hotSum}, or lower hotValency`,
    );

  // Block producer exposure.
  if (role === 'producer') {
    const sev: Severity = roleSource === 'given' ? 'error' : 'warning';
    const guessed =
      roleSource === 'guessed' ? " (this file looks like a block producer's: pass --role to be sure)" : '';
    const publicCount = t.publicRoots.reduce((s, g) => s + g.accessPoints.length, 0);
    if (publicCount > 0)
      add(
        'TOPOLOGY_PRODUCER_PUBLIC_ROOTS',
        sev,
        p2p ? jsonPath('publicRoots') : jsonPath('PublicRoots'),
        `a block producer with ${publicCount} public root(s): it would connect to peers other than your relays${guessed}`,
        'remove the public roots ("publicRoots": []); the producer talks only to your relays',
      );
    if (!ledgerOff)
      add(
        'TOPOLOGY_PRODUCER_LEDGER_PEERS',
        sev,
        jsonPath('useLedgerAfterSlot'),
        `a block producer with ledger peers enabled (useLedgerAfterSlot ${t.useLedgerAfterSlot}): it would connect to random pools`,
        'set "useLedgerAfterSlot": -1',
      );
    if (t.bootstrapPeers !== null && t.bootstrapPeers.length > 0)
      add(
        'TOPOLOGY_PRODUCER_BOOTSTRAP_PEERS',
        sev,
        jsonPath('bootstrapPeers'),
        `a block producer with bootstrap peers: it would connect to them directly${guessed}`,
        'set "bootstrapPeers": null and mark the group of your relays "trustable": true',
      );
    t.localRoots.forEach((g, i) => {
      if (g.advertise && g.accessPoints.length > 0)
        add(
          'TOPOLOGY_PRODUCER_ADVERTISE',
          sev,
          lrPath(i, 'advertise'),
          `local root group ${i} of a block producer is advertised: peer sharing would hand these peers out`,
          'set "advertise": false',
        );
    });
    if (options.config?.peerSharing === true)
      add(
        'TOPOLOGY_PRODUCER_PEER_SHARING',
        sev,
        '$',
        'the node config turns PeerSharing on for a block producer: peers learn about it through peer sharing',
        'set "PeerSharing": false in the node configuration',
      );
    if (t.peerSnapshotFile !== undefined)
      add(
        'TOPOLOGY_PRODUCER_SNAPSHOT',
        'warning',
        jsonPath('peerSnapshotFile'),
        'a block producer with a peerSnapshotFile: the node ignores it (ledger peers are off on a producer)',
        'remove peerSnapshotFile',
      );
    if (roleSource === 'given' && !t.localRoots.some((g) => g.accessPoints.length > 0))
      add(
        'TOPOLOGY_PRODUCER_NO_RELAYS',
        'warning',
        jsonPath('localRoots'),
        'a block producer with no local roots: it has no way to reach the network',
        'add your relays as one trustable local root group (spo topology generate --role producer)',
      );
  } else {
    const producerKeys = new Set((options.producers ?? []).map(endpointKey));
    t.localRoots.forEach((g, i) => {
      if (!g.advertise) return;
      g.accessPoints.forEach((ap, j) => {
        if (producerKeys.has(endpointKey(ap)))
          add(
            'TOPOLOGY_ADVERTISES_PRODUCER',
            'error',
            lrPath(i, 'advertise'),
            `local root group ${i} holds the block producer ${accessPointText(ap)} and is advertised: peer sharing hands its address out`,
            'set "advertise": false on the group of the block producer',
          );
        else {
          const cls = isPrivateish(ap);
          if (cls === 'private' || cls === 'loopback' || cls === 'unique-local' || cls === 'link-local')
            add(
              'TOPOLOGY_ADVERTISE_PRIVATE',
              'warning',
              lrPath(i, 'accessPoints', j),
              `${accessPointText(ap)} (${cls}) is in an advertised group: if it is your block producer, peer sharing exposes it`,
              'set "advertise": false on that group',
            );
        }
      });
    });
  }
  return { role, roleSource, findings: sortFindings(findings), counts: countFindings(findings) };
}

export function sortFindings(findings: TopologyFinding[]): TopologyFinding[] {
  return findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => SEVERITY_ORDER[a.f.severity] - SEVERITY_ORDER[b.f.severity] || a.i - b.i)
    .map((x) => x.f);
}

export function countFindings(findings: readonly TopologyFinding[]): Record<Severity, number> {
  const c: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  for (const f of findings) c[f.severity]++;
  return c;
}
