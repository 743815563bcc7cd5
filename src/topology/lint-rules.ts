/**
 * Every topology lint rule, one object each: its code, usual severity, what it finds, the fix, and
 * (for the static rules) its check. The parser's rules are found while decoding (decode.ts and the
 * format files), the network rules by ./checks.ts (--resolve, --probe); the static rules here are
 * run by lintTopology (./lint.ts) in the order of this list, per scope: each local root group, then
 * each access point of the local roots, then each access point of the public roots and of the
 * bootstrap peers, then the file as a whole. docs/topology-lint.md's table is made from this list
 * (`lintRulesTable`, checked by test/topology/parse.test.ts).
 */

import { DEFAULT_DEADLINE_TARGETS } from '../config/index.js';
import { classifyAddress } from '../lib/address.js';
import { counted } from '../lib/plural.js';
import { jsonPath } from './decode.js';
import {
  type AccessPoint,
  accessPointText,
  endpointKey,
  type LocalRootGroup,
  type ParsedTopology,
  type Severity,
  type Topology,
} from './model.js';
import { isKnownPublicRelay, networkOfPublicRelay } from './public-relays.js';

export type Role = 'relay' | 'producer';

export interface NodeConfigFacts {
  peerSharing?: boolean;
  consensusMode?: string;
  targetKnown?: number;
  targetActive?: number;
}

/** What every check sees: the file, the role and what lint was told, and facts computed once. */
export interface LintContext {
  parsed: ParsedTopology;
  t: Topology;
  role: Role;
  roleSource: 'given' | 'guessed';
  /** The block producer's endpoints (for "relay advertises the producer"). */
  producers: readonly AccessPoint[];
  config: NodeConfigFacts | undefined;
  /** The file is in the current P2P format (paths of older formats are approximate). */
  p2p: boolean;
  ledgerOff: boolean;
  /** Path into a local root group (or what stands for it in older formats). */
  lrPath(i: number, ...rest: Array<string | number>): string;
  prPath(i: number, ...rest: Array<string | number>): string;
  /** The first local root group holding each endpoint. */
  firstGroup: ReadonlyMap<string, number>;
  /** Severity of the producer rules: error when the role was given, warning when guessed. */
  producerSeverity: Severity;
  /** Appended to producer messages when the role was guessed. */
  guessedNote: string;
  /** The network the node runs on (--network, --magic or the config's genesis), when known. */
  network: string | undefined;
  /** What reading peerSnapshotFile found (the command reads it; lint stays pure). */
  snapshot: SnapshotFileFacts | undefined;
}

/** The peerSnapshotFile as the node would read it: where it is and what is wrong with it. */
export interface SnapshotFileFacts {
  /** The path the node opens (relative paths are relative to the topology file). */
  path: string;
  problem?: 'missing' | 'invalid';
  /** Why it is not a snapshot the node can use. */
  reason?: string;
}

export interface GroupAt {
  group: LocalRootGroup;
  i: number;
  /** Number of access points. */
  n: number;
  /** Some access points are names (DNS or SRV), so the address count is unknown offline. */
  names: boolean;
}

export interface LocalAccessPointAt {
  ap: AccessPoint;
  /** Group and position. */
  i: number;
  j: number;
  key: string;
  /** The same endpoint appears earlier in this group. */
  repeated: boolean;
}

export interface ListAccessPointAt {
  ap: AccessPoint;
  j: number;
  key: string;
  /** `public roots` or `bootstrap peers`. */
  list: string;
  path: string;
  /** The same endpoint appears earlier in this list. */
  repeated: boolean;
}

/** Reports one finding of the rule: the rule's code, and its severity unless given. */
export type Report = (path: string, message: string, fix: string, severity?: Severity) => void;

export interface RuleChecks {
  group?(ctx: LintContext, at: GroupAt, report: Report): void;
  localAccessPoint?(ctx: LintContext, at: LocalAccessPointAt, report: Report): void;
  listAccessPoint?(ctx: LintContext, at: ListAccessPointAt, report: Report): void;
  file?(ctx: LintContext, report: Report): void;
}

export interface LintRule {
  code: string;
  severity: Severity;
  /** What the rule finds. */
  title: string;
  fix: string;
  /** Who finds it: the parser, the static checks below, or a network check. */
  by: 'parser' | 'lint' | 'resolve' | 'probe';
  check?: RuleChecks;
}

const UNROUTABLE_LOCAL = new Set(['documentation', 'multicast', 'reserved', 'unspecified']);
const PRIVATEISH_ADVERTISED = new Set(['private', 'loopback', 'unique-local', 'link-local']);

function addressClass(ap: AccessPoint): string | undefined {
  return ap.kind === 'ipv4' || ap.kind === 'ipv6' ? classifyAddress(ap.address) : undefined;
}

/** A group the node keeps (has access points, positive valencies): the valency rules apply. */
const kept = (at: GroupAt): boolean => at.n > 0 && at.group.hotValency > 0 && at.group.warmValency > 0;

const publicCount = (t: Topology): number => t.publicRoots.reduce((s, g) => s + g.accessPoints.length, 0);

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
    by: 'parser',
  },
  {
    code: 'TOPOLOGY_EARLY_P2P_FORMAT',
    severity: 'error',
    title: 'early grouped P2P format ("LocalRoots"/"PublicRoots"), no longer accepted',
    fix: 'spo topology migrate FILE',
    by: 'parser',
  },
  {
    code: 'TOPOLOGY_MISSING_KEY',
    severity: 'error',
    title: '"localRoots" or "publicRoots" missing (the node refuses the file)',
    fix: 'add the key with a list, possibly empty',
    by: 'parser',
  },
  {
    code: 'TOPOLOGY_TYPE',
    severity: 'error',
    title:
      'a value of the wrong JSON type (string for a number, "true" for true...); warning when the node does not read it ("valency" that does not decode beside a valid "hotValency")',
    fix: 'write the value with the type the node expects',
    by: 'parser',
  },
  {
    code: 'TOPOLOGY_SLOT_FRACTION',
    severity: 'warning',
    title: 'useLedgerAfterSlot is not a whole number: the node rounds it down',
    fix: 'write a whole slot number',
    by: 'parser',
  },
  {
    code: 'TOPOLOGY_MISSING_ACCESS_POINTS',
    severity: 'error',
    title: 'a group without "accessPoints"',
    fix: 'add "accessPoints": [...]',
    by: 'parser',
  },
  {
    code: 'TOPOLOGY_MISSING_ADDRESS',
    severity: 'error',
    title: 'an access point without "address"',
    fix: 'give the IP address or DNS name',
    by: 'parser',
  },
  {
    code: 'TOPOLOGY_MISSING_VALENCY',
    severity: 'error',
    title: 'a local root group without "hotValency"/"valency", or a legacy producer without "valency"',
    fix: 'add "hotValency" (legacy: "valency")',
    by: 'parser',
  },
  {
    code: 'TOPOLOGY_BOTH_VALENCY_KEYS',
    severity: 'error',
    title: '"valency" and "hotValency" disagree: the node uses "valency"',
    fix: 'keep only "hotValency"',
    by: 'parser',
  },
  {
    code: 'TOPOLOGY_BAD_PORT',
    severity: 'error',
    title:
      'a port that is not an integer (the node then treats the name as SRV) or outside 1-65535 (silently narrowed)',
    fix: 'write the port as a number 1-65535',
    by: 'parser',
  },
  {
    code: 'TOPOLOGY_MISSING_PORT',
    severity: 'error',
    title: 'an IP address without a port (taken for an SRV name, never connected)',
    fix: 'add "port"',
    by: 'parser',
  },
  {
    code: 'TOPOLOGY_UNSPECIFIED_ADDRESS',
    severity: 'error',
    title: '0.0.0.0 or :: as an address (the node refuses to start)',
    fix: "use the relay's reachable address",
    by: 'parser',
  },
  {
    code: 'TOPOLOGY_BAD_HOST',
    severity: 'error',
    title: 'an address that is neither an IP nor a valid DNS name',
    fix: 'write a bare IP or name, no scheme or port',
    by: 'parser',
  },
  {
    code: 'TOPOLOGY_BAD_DIFFUSION_MODE',
    severity: 'error',
    title: 'an unknown "diffusionMode"',
    fix: 'InitiatorAndResponder or InitiatorOnly',
    by: 'parser',
  },
  {
    code: 'TOPOLOGY_SRV_NO_PREFIX',
    severity: 'warning',
    title: 'a name without port and without "_" prefix: looked up as an SRV name as written',
    fix: 'add the port, or write the full _cardano._tcp. name',
    by: 'parser',
  },
  {
    code: 'TOPOLOGY_SRV_WITH_PORT',
    severity: 'warning',
    title: 'a name starting with "_" (an SRV name) given with a port: looked up as A/AAAA, not SRV',
    fix: "remove the port, or give the relay's own name",
    by: 'parser',
  },
  {
    code: 'TOPOLOGY_UNKNOWN_KEY',
    severity: 'warning',
    title: 'a key the node ignores (warning in groups and at the top, info for annotations inside access points)',
    fix: 'rename a mistyped key, remove a stray one',
    by: 'parser',
  },
  // Valency and groups (ouroboros-network LocalRootPeers.fromGroups).
  {
    code: 'TOPOLOGY_EMPTY_GROUP',
    severity: 'info',
    title: 'a local root group without access points (the node ignores it)',
    fix: 'remove it or add access points',
    by: 'lint',
    check: {
      group(ctx, { i, n }, report) {
        if (n === 0)
          report(
            ctx.lrPath(i, 'accessPoints'),
            `local root group ${i} has no access points: the node ignores it`,
            'remove the group, or add your relays to it',
          );
      },
    },
  },
  {
    code: 'TOPOLOGY_VALENCY_ZERO',
    severity: 'error',
    title: 'hotValency or warmValency of 0 or less: the node drops the group',
    fix: 'set hotValency to at least 1',
    by: 'lint',
    check: {
      group(ctx, { group: g, i, n }, report) {
        if (n === 0 || (g.hotValency > 0 && g.warmValency > 0)) return;
        report(
          ctx.lrPath(i, g.hotValency <= 0 ? 'hotValency' : 'warmValency'),
          `local root group ${i} has ${g.hotValency <= 0 ? `hotValency ${g.hotValency}` : `warmValency ${g.warmValency}`}: the node drops the whole group`,
          `set hotValency to the number of these peers to keep hot (1-${n})`,
        );
      },
    },
  },
  {
    code: 'TOPOLOGY_WARM_BELOW_HOT',
    severity: 'error',
    title: 'warmValency below hotValency: the node lowers hotValency to warmValency',
    fix: 'warmValency >= hotValency (hot + 1 recommended)',
    by: 'lint',
    check: {
      group(ctx, at, report) {
        const g = at.group;
        if (!kept(at) || g.warmValency >= g.hotValency) return;
        report(
          ctx.lrPath(at.i, 'warmValency'),
          `warmValency ${g.warmValency} is below hotValency ${g.hotValency}: the node lowers hotValency to ${g.warmValency}`,
          `set warmValency to at least ${g.hotValency} (${Math.min(g.hotValency + 1, Math.max(at.n, g.hotValency))} recommended)`,
        );
      },
    },
  },
  {
    code: 'TOPOLOGY_HOTVALENCY',
    severity: 'error',
    title: 'hotValency above the number of access points (of resolved addresses with --resolve): the node lowers it',
    fix: 'lower hotValency or add access points',
    by: 'lint',
    check: {
      group(ctx, at, report) {
        if (!kept(at) || at.group.hotValency <= at.n || at.names) return;
        report(
          ctx.lrPath(at.i, 'hotValency'),
          `hotValency ${at.group.hotValency} is above the ${counted(at.n, 'access point')} of group ${at.i}: the node lowers it to ${at.n}`,
          `set hotValency to at most ${at.n}, or add access points`,
        );
      },
    },
  },
  {
    code: 'TOPOLOGY_HOTVALENCY_NAMES',
    severity: 'info',
    title:
      'hotValency above the number of access points, some of them names (counts on each name having several addresses)',
    fix: 'check with --resolve',
    by: 'lint',
    check: {
      group(ctx, at, report) {
        if (!kept(at) || at.group.hotValency <= at.n || !at.names) return;
        report(
          ctx.lrPath(at.i, 'hotValency'),
          `hotValency ${at.group.hotValency} is above the ${counted(at.n, 'access point')} of group ${at.i}: it holds only if the names resolve to ${at.group.hotValency} addresses or more`,
          'run lint with --resolve to count the addresses',
        );
      },
    },
  },
  {
    code: 'TOPOLOGY_WARMVALENCY_ABOVE',
    severity: 'warning',
    title: 'warmValency above the number of IP access points: the node lowers it',
    fix: 'lower warmValency or add access points',
    by: 'lint',
    check: {
      group(ctx, at, report) {
        const g = at.group;
        if (!kept(at) || g.hotValency > at.n || g.warmValency <= at.n || at.names || g.warmValency < g.hotValency)
          return;
        report(
          ctx.lrPath(at.i, 'warmValency'),
          `warmValency ${g.warmValency} is above the ${counted(at.n, 'access point')} of group ${at.i}: the node lowers it to ${at.n}`,
          `set warmValency to at most ${at.n}, or add access points`,
        );
      },
    },
  },
  {
    code: 'TOPOLOGY_DUPLICATE_ENDPOINT',
    severity: 'warning',
    title: 'the same endpoint twice in one list (it counts once)',
    fix: 'remove the duplicate',
    by: 'lint',
    check: {
      localAccessPoint(ctx, { ap, i, j, repeated }, report) {
        if (repeated)
          report(
            ctx.lrPath(i, 'accessPoints', j),
            `${accessPointText(ap)} appears twice in local root group ${i}: it counts once`,
            'remove the duplicate (and check hotValency)',
          );
      },
      listAccessPoint(_ctx, { ap, list, path, repeated }, report) {
        if (repeated) report(path, `${accessPointText(ap)} appears twice in ${list}`, 'remove the duplicate');
      },
    },
  },
  {
    code: 'TOPOLOGY_OVERLAPPING_GROUPS',
    severity: 'error',
    title: 'an endpoint in two local root groups: the node drops it from the later group',
    fix: 'keep each endpoint in one group',
    by: 'lint',
    check: {
      localAccessPoint(ctx, { ap, i, j, key, repeated }, report) {
        const first = ctx.firstGroup.get(key);
        if (repeated || first === undefined || first >= i) return;
        report(
          ctx.lrPath(i, 'accessPoints', j),
          `${accessPointText(ap)} is already in local root group ${first}: the node drops it from group ${i}`,
          'keep each endpoint in exactly one local root group',
        );
      },
    },
  },
  {
    code: 'TOPOLOGY_LOCAL_ROOT_UNROUTABLE',
    severity: 'warning',
    title: 'a documentation, multicast or reserved address in local roots',
    fix: "use the relay's real address",
    by: 'lint',
    check: {
      localAccessPoint(ctx, { ap, i, j, repeated }, report) {
        const cls = addressClass(ap);
        if (repeated || cls === undefined || !UNROUTABLE_LOCAL.has(cls)) return;
        report(
          ctx.lrPath(i, 'accessPoints', j, 'address'),
          `${ap.address} is a ${cls} address: no relay can be reached there`,
          "use the relay's real address",
        );
      },
    },
  },
  {
    code: 'TOPOLOGY_LOCAL_AND_PUBLIC',
    severity: 'warning',
    title: 'an endpoint both in local roots and in public roots or bootstrap peers',
    fix: 'keep it in one place',
    by: 'lint',
    check: {
      listAccessPoint(ctx, { ap, key, list, path, repeated }, report) {
        const group = ctx.firstGroup.get(key);
        if (repeated || group === undefined) return;
        report(
          path,
          `${accessPointText(ap)} is both a local root (group ${group}) and in ${list}`,
          `keep it in one place (local roots for your own relays, ${list} for others)`,
        );
      },
    },
  },
  {
    code: 'TOPOLOGY_PUBLIC_ROOT_PRIVATE',
    severity: 'warning',
    title:
      'a private, loopback or unroutable address in public roots or bootstrap peers (with --resolve, also a name resolving to one)',
    fix: 'use public addresses there; put your own machines in local roots',
    by: 'lint',
    check: {
      listAccessPoint(_ctx, { ap, list, path, repeated }, report) {
        const cls = addressClass(ap);
        if (repeated || cls === undefined) return;
        report(
          `${path}.address`,
          `${ap.address} in ${list} is a ${cls} address: not a public peer, other nodes cannot use it`,
          'put public relays there; your own machines belong in local roots',
        );
      },
    },
  },
  {
    code: 'TOPOLOGY_OTHER_NETWORK',
    severity: 'warning',
    title:
      "a bootstrap peer or public root of another network than the node's (--network, --magic or the config's genesis)",
    fix: "use the network's own bootstrap peers and relays",
    by: 'lint',
    check: {
      listAccessPoint(ctx, { ap, list, path, repeated }, report) {
        const theirs = networkOfPublicRelay(ap.address);
        if (repeated || ctx.network === undefined || theirs === undefined || theirs === ctx.network) return;
        // The handshake of a peer on another network is refused (magic mismatch): the entry is dead.
        report(
          `${path}.address`,
          `${ap.address} in ${list} is a ${theirs} node, but this node runs on ${ctx.network}: the handshake is refused (network magic)`,
          `use ${ctx.network}'s bootstrap peers and relays (spo topology generate --network ${ctx.network} shows them), or lint with the right --network`,
        );
      },
    },
  },
  // Trust, bootstrap, ledger peers (cardano-node isValidTrustedPeerConfiguration and start-up checks).
  {
    code: 'TOPOLOGY_NO_TRUSTED_SOURCE',
    severity: 'error',
    title: 'bootstrap peers enabled with an empty list and no trustable local root: the node refuses to start',
    fix: 'list bootstrap peers, mark your relays trustable, or set bootstrapPeers to null',
    by: 'lint',
    check: {
      file(ctx, report) {
        const t = ctx.t;
        if (t.bootstrapPeers === null || t.bootstrapPeers.length > 0) return;
        if (t.localRoots.some((g) => g.trustable && g.accessPoints.length > 0)) return;
        report(
          jsonPath('bootstrapPeers'),
          'bootstrap peers are enabled but the list is empty and no local root group is trustable: the node refuses to start ("You seem to have not configured any trustable peers")',
          ctx.role === 'producer'
            ? 'set "bootstrapPeers": null and mark the group of your relays "trustable": true'
            : 'list bootstrap peers (the network presets have them), or mark a local root group of your own relays "trustable": true',
        );
      },
    },
  },
  {
    code: 'TOPOLOGY_GENESIS_BOOTSTRAP',
    severity: 'warning',
    title: 'bootstrap peers with ConsensusMode GenesisMode: the node turns them off',
    fix: 'remove bootstrapPeers and give a peerSnapshotFile',
    by: 'lint',
    check: {
      file(ctx, report) {
        if (ctx.config?.consensusMode !== 'GenesisMode' || ctx.t.bootstrapPeers === null || ctx.role !== 'relay')
          return;
        report(
          jsonPath('bootstrapPeers'),
          'the node config says ConsensusMode GenesisMode: the node turns bootstrap peers off',
          'remove bootstrapPeers and give an up-to-date peerSnapshotFile',
        );
      },
    },
  },
  {
    code: 'TOPOLOGY_NO_LEDGER_AFTER_SLOT',
    severity: 'warning',
    title: 'no useLedgerAfterSlot on a relay: the node never uses ledger peers',
    fix: 'add "useLedgerAfterSlot" (0 = always)',
    by: 'lint',
    check: {
      file(ctx, report) {
        if (!ctx.p2p || ctx.role !== 'relay' || ctx.t.useLedgerAfterSlot !== undefined) return;
        // A useLedgerAfterSlot the parser could not read is reported there already.
        if (ctx.parsed.findings.some((f) => f.path === '$.useLedgerAfterSlot')) return;
        report(
          '$',
          'no "useLedgerAfterSlot": the node never uses ledger peers (an absent key means never, not always)',
          'add "useLedgerAfterSlot": 0 (always), or a slot from the network preset; -1 to say "never" on purpose',
        );
      },
    },
  },
  {
    code: 'TOPOLOGY_NO_PEER_SOURCE',
    severity: 'warning',
    title:
      'a relay (or a guessed producer listing a public relay as a local root) with no public roots, no bootstrap peers and no ledger peers: it only knows its local roots',
    fix: 'enable ledger peers or add public roots',
    by: 'lint',
    check: {
      file(ctx, report) {
        const t = ctx.t;
        if (!ctx.p2p || !ctx.ledgerOff) return;
        if (publicCount(t) > 0 || (t.bootstrapPeers?.length ?? 0) > 0) return;
        if (ctx.role === 'relay') {
          report(
            '$',
            'no public roots, no bootstrap peers and no ledger peers: this relay only ever knows its local roots (and what they share)',
            'enable ledger peers (useLedgerAfterSlot: 0) or add public roots',
          );
          return;
        }
        // Guessed a producer, but a producer never lists a network's public relays: this is a
        // relay's file (a migrated legacy relay, say) that the guess would otherwise call clean.
        if (ctx.roleSource !== 'guessed') return;
        const listed = t.localRoots.flatMap((g) => g.accessPoints).find((ap) => isKnownPublicRelay(ap.address));
        if (!listed) return;
        report(
          '$',
          `${listed.address}, a public relay, is a local root, so this looks like a relay's file; with no public roots, no bootstrap peers and no ledger peers it only ever knows its local roots`,
          "enable ledger peers (useLedgerAfterSlot) and add the network's bootstrap peers (spo topology generate --role relay shows them); --role producer if this is a block producer",
        );
      },
    },
  },
  {
    code: 'TOPOLOGY_LEDGER_PEERS_OFF',
    severity: 'info',
    title: 'a relay with ledger peers turned off (useLedgerAfterSlot < 0)',
    fix: 'set useLedgerAfterSlot to 0 or a recent slot',
    by: 'lint',
    check: {
      file(ctx, report) {
        const t = ctx.t;
        if (!ctx.p2p || ctx.role !== 'relay' || !ctx.ledgerOff) return;
        // Only when neither NO_PEER_SOURCE nor SNAPSHOT_IGNORED already says it.
        if (publicCount(t) === 0 && (t.bootstrapPeers?.length ?? 0) === 0) return;
        if (t.useLedgerAfterSlot === undefined || t.peerSnapshotFile !== undefined) return;
        report(
          jsonPath('useLedgerAfterSlot'),
          `useLedgerAfterSlot ${t.useLedgerAfterSlot}: this relay never uses ledger peers`,
          'set useLedgerAfterSlot to 0 or a recent slot unless this is on purpose',
        );
      },
    },
  },
  {
    code: 'TOPOLOGY_SNAPSHOT_MISSING',
    severity: 'error',
    title: 'peerSnapshotFile names a file that does not exist (relative paths are relative to the topology file)',
    fix: 'write it with spo relays export --format snapshot-n2c --big-ledger, or fix the path',
    by: 'lint',
    check: {
      file(ctx, report) {
        if (ctx.snapshot?.problem !== 'missing') return;
        report(
          jsonPath('peerSnapshotFile'),
          `peerSnapshotFile: ${ctx.snapshot.path} does not exist: the node cannot read its big ledger peers`,
          `write it (spo relays export --format snapshot-n2c --big-ledger --out ${ctx.snapshot.path}) or fix the path (relative to the topology file)`,
        );
      },
    },
  },
  {
    code: 'TOPOLOGY_SNAPSHOT_INVALID',
    severity: 'error',
    title: 'peerSnapshotFile is not a peer snapshot the node reads (not JSON, another kind of file, no bigLedgerPools)',
    fix: 'regenerate it with cardano-cli query ledger-peer-snapshot or spo relays export --format snapshot-n2c --big-ledger',
    by: 'lint',
    check: {
      file(ctx, report) {
        if (ctx.snapshot?.problem !== 'invalid') return;
        report(
          jsonPath('peerSnapshotFile'),
          `peerSnapshotFile: ${ctx.snapshot.path} is not a peer snapshot the node reads: ${ctx.snapshot.reason ?? 'unknown format'}`,
          'regenerate it with cardano-cli query ledger-peer-snapshot, or spo relays export --format snapshot-n2c --big-ledger',
        );
      },
    },
  },
  {
    code: 'TOPOLOGY_SNAPSHOT_IGNORED',
    severity: 'warning',
    title: 'peerSnapshotFile with ledger peers off: the node ignores the snapshot',
    fix: 'enable ledger peers or remove peerSnapshotFile',
    by: 'lint',
    check: {
      file(ctx, report) {
        if (ctx.t.peerSnapshotFile === undefined || !ctx.ledgerOff || ctx.role !== 'relay') return;
        report(
          jsonPath('peerSnapshotFile'),
          'peerSnapshotFile is set but ledger peers are off: the node ignores the snapshot',
          'enable ledger peers (useLedgerAfterSlot) or remove peerSnapshotFile',
        );
      },
    },
  },
  // Targets from the node config (or the node's defaults for the role).
  {
    code: 'TOPOLOGY_LOCAL_ROOTS_ABOVE_KNOWN',
    severity: 'error',
    title: 'more local root access points than TargetNumberOfKnownPeers: the node drops the excess',
    fix: 'raise the target or remove local roots',
    by: 'lint',
    check: {
      file(ctx, report) {
        const known = ctx.config?.targetKnown ?? DEFAULT_DEADLINE_TARGETS[ctx.role].known;
        const localCount = ctx.firstGroup.size;
        if (localCount <= known) return;
        report(
          jsonPath('localRoots'),
          `${localCount} local root access points but TargetNumberOfKnownPeers is ${known}: the node keeps ${known} (whole groups in file order, the group that crosses the limit is cut)`,
          `raise TargetNumberOfKnownPeers to at least ${localCount}, or remove local roots`,
        );
      },
    },
  },
  {
    code: 'TOPOLOGY_HOT_ABOVE_ACTIVE',
    severity: 'warning',
    title: 'local root hot valencies add up to more than TargetNumberOfActivePeers',
    fix: 'raise TargetNumberOfActivePeers or lower hotValency',
    by: 'lint',
    check: {
      file(ctx, report) {
        const active = ctx.config?.targetActive ?? DEFAULT_DEADLINE_TARGETS[ctx.role].active;
        const hotSum = ctx.t.localRoots.reduce(
          (s, g) => s + (g.accessPoints.length > 0 ? Math.max(0, g.hotValency) : 0),
          0,
        );
        if (hotSum <= active) return;
        report(
          jsonPath('localRoots'),
          `local roots ask for ${hotSum} hot peers but TargetNumberOfActivePeers is ${active}: no room is left for other peers`,
          `raise TargetNumberOfActivePeers above ${hotSum}, or lower hotValency`,
        );
      },
    },
  },
  // Block producer exposure.
  {
    code: 'TOPOLOGY_PRODUCER_PUBLIC_ROOTS',
    severity: 'error',
    title: 'a block producer with public roots (warning when the role was guessed)',
    fix: 'only your relays, as a trustable local root group',
    by: 'lint',
    check: {
      file(ctx, report) {
        const count = publicCount(ctx.t);
        if (ctx.role !== 'producer' || count === 0) return;
        report(
          ctx.p2p ? jsonPath('publicRoots') : jsonPath('PublicRoots'),
          `a block producer with ${counted(count, 'public root')}: it would connect to peers other than your relays${ctx.guessedNote}`,
          'remove the public roots ("publicRoots": []); the producer talks only to your relays',
          ctx.producerSeverity,
        );
      },
    },
  },
  {
    code: 'TOPOLOGY_PRODUCER_LEDGER_PEERS',
    severity: 'error',
    title: 'a block producer with ledger peers enabled',
    fix: 'useLedgerAfterSlot: -1',
    by: 'lint',
    check: {
      file(ctx, report) {
        if (ctx.role !== 'producer' || ctx.ledgerOff) return;
        report(
          jsonPath('useLedgerAfterSlot'),
          `a block producer with ledger peers enabled (useLedgerAfterSlot ${ctx.t.useLedgerAfterSlot}): it would connect to random pools`,
          'set "useLedgerAfterSlot": -1',
          ctx.producerSeverity,
        );
      },
    },
  },
  {
    code: 'TOPOLOGY_PRODUCER_BOOTSTRAP_PEERS',
    severity: 'error',
    title: 'a block producer with bootstrap peers',
    fix: 'bootstrapPeers: null and a trustable group of your relays',
    by: 'lint',
    check: {
      file(ctx, report) {
        const bp = ctx.t.bootstrapPeers;
        if (ctx.role !== 'producer' || bp === null || bp.length === 0) return;
        report(
          jsonPath('bootstrapPeers'),
          `a block producer with bootstrap peers: it would connect to them directly${ctx.guessedNote}`,
          'set "bootstrapPeers": null and mark the group of your relays "trustable": true',
          ctx.producerSeverity,
        );
      },
    },
  },
  {
    code: 'TOPOLOGY_PRODUCER_ADVERTISE',
    severity: 'error',
    title: 'a block producer advertising its peers (peer sharing would spread them)',
    fix: 'advertise: false',
    by: 'lint',
    check: {
      file(ctx, report) {
        if (ctx.role !== 'producer') return;
        ctx.t.localRoots.forEach((g, i) => {
          if (g.advertise && g.accessPoints.length > 0)
            report(
              ctx.lrPath(i, 'advertise'),
              `local root group ${i} of a block producer is advertised: peer sharing would hand these peers out`,
              'set "advertise": false',
              ctx.producerSeverity,
            );
        });
      },
    },
  },
  {
    code: 'TOPOLOGY_PRODUCER_PEER_SHARING',
    severity: 'error',
    title: 'a block producer whose node config turns PeerSharing on',
    fix: '"PeerSharing": false in the node config',
    by: 'lint',
    check: {
      file(ctx, report) {
        if (ctx.role !== 'producer' || ctx.config?.peerSharing !== true) return;
        report(
          '$',
          'the node config turns PeerSharing on for a block producer: peers learn about it through peer sharing',
          'set "PeerSharing": false in the node configuration',
          ctx.producerSeverity,
        );
      },
    },
  },
  {
    code: 'TOPOLOGY_PRODUCER_SNAPSHOT',
    severity: 'warning',
    title: 'a block producer with a peerSnapshotFile (ignored)',
    fix: 'remove peerSnapshotFile',
    by: 'lint',
    check: {
      file(ctx, report) {
        if (ctx.role !== 'producer' || ctx.t.peerSnapshotFile === undefined) return;
        report(
          jsonPath('peerSnapshotFile'),
          'a block producer with a peerSnapshotFile: the node ignores it (ledger peers are off on a producer)',
          'remove peerSnapshotFile',
        );
      },
    },
  },
  {
    code: 'TOPOLOGY_PRODUCER_NO_RELAYS',
    severity: 'warning',
    title: 'a block producer with no local root: it cannot reach the network',
    fix: 'add your relays as a trustable local root group',
    by: 'lint',
    check: {
      file(ctx, report) {
        if (ctx.role !== 'producer' || ctx.roleSource !== 'given') return;
        if (ctx.t.localRoots.some((g) => g.accessPoints.length > 0)) return;
        report(
          jsonPath('localRoots'),
          'a block producer with no local roots: it has no way to reach the network',
          'add your relays as one trustable local root group (spo topology generate --role producer)',
        );
      },
    },
  },
  {
    code: 'TOPOLOGY_ADVERTISES_PRODUCER',
    severity: 'error',
    title: "a relay advertising the block producer's address (given with --producer)",
    fix: 'advertise: false on the group holding the producer',
    by: 'lint',
    check: {
      file(ctx, report) {
        if (ctx.role !== 'relay') return;
        const producers = new Set(ctx.producers.map(endpointKey));
        ctx.t.localRoots.forEach((g, i) => {
          if (!g.advertise) return;
          for (const ap of g.accessPoints)
            if (producers.has(endpointKey(ap)))
              report(
                ctx.lrPath(i, 'advertise'),
                `local root group ${i} holds the block producer ${accessPointText(ap)} and is advertised: peer sharing hands its address out`,
                'set "advertise": false on the group of the block producer',
              );
        });
      },
    },
  },
  {
    code: 'TOPOLOGY_ADVERTISE_PRIVATE',
    severity: 'warning',
    title: 'a relay advertising a private or loopback address (often the block producer)',
    fix: 'advertise: false on that group',
    by: 'lint',
    check: {
      file(ctx, report) {
        if (ctx.role !== 'relay') return;
        const producers = new Set(ctx.producers.map(endpointKey));
        ctx.t.localRoots.forEach((g, i) => {
          if (!g.advertise) return;
          g.accessPoints.forEach((ap, j) => {
            const cls = addressClass(ap);
            if (producers.has(endpointKey(ap)) || cls === undefined || !PRIVATEISH_ADVERTISED.has(cls)) return;
            report(
              ctx.lrPath(i, 'accessPoints', j),
              `${accessPointText(ap)} (${cls}) is in an advertised group: if it is your block producer, peer sharing exposes it`,
              'set "advertise": false on that group',
            );
          });
        });
      },
    },
  },
  // Network checks (--resolve, --probe: ./checks.ts).
  {
    code: 'TOPOLOGY_UNRESOLVED',
    severity: 'error',
    title: 'a name that does not exist or has no address (--resolve)',
    fix: 'fix the name or its DNS records',
    by: 'resolve',
  },
  {
    code: 'TOPOLOGY_RESOLVE_FAILED',
    severity: 'warning',
    title: 'a name whose lookup failed (timeout, SERVFAIL) (--resolve)',
    fix: 'check the DNS servers and try again',
    by: 'resolve',
  },
  {
    code: 'TOPOLOGY_UNREACHABLE',
    severity: 'error',
    title: 'a local root or bootstrap peer that does not answer the handshake (warning for public roots) (--probe)',
    fix: 'check the relay, its firewall and port',
    by: 'probe',
  },
];

/** The rules table of docs/topology-lint.md, made from LINT_RULES. */
export function lintRulesTable(rules: readonly LintRule[] = LINT_RULES): string {
  const cell = (s: string): string => s.replace(/\|/g, '\\|');
  return [
    '| code | severity | what | fix |',
    '|---|---|---|---|',
    ...rules.map((r) => `| \`${r.code}\` | ${r.severity} | ${cell(r.title)} | ${cell(r.fix)} |`),
  ].join('\n');
}

/** The generated part of docs/topology-lint.md: the rules table between two markers. */
export const RULES_START = '<!-- rules table: generated from src/topology/lint-rules.ts by `npm run docs` -->';
export const RULES_END = '<!-- end of rules table -->';

/** `doc` with the text between the markers replaced by `table`; throws when the markers are missing. */
export function replaceRulesTable(doc: string, table: string): string {
  const start = doc.indexOf(RULES_START);
  const end = doc.indexOf(RULES_END);
  if (start < 0 || end < start) throw new Error('docs/topology-lint.md: the rules table markers are missing');
  return `${doc.slice(0, start + RULES_START.length)}\n${table}\n${doc.slice(end)}`;
}

/** The table between the markers, as it stands in `doc`. */
export function rulesTableOf(doc: string): string {
  const start = doc.indexOf(RULES_START);
  const end = doc.indexOf(RULES_END);
  if (start < 0 || end < start) throw new Error('docs/topology-lint.md: the rules table markers are missing');
  return doc.slice(start + RULES_START.length, end).trim();
}
