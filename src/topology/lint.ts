/**
 * Topology lint: every problem the node would refuse to start with (found by the parser), and the
 * mistakes it accepts but that hurt silently, each with a severity, the JSON path, a one-line
 * explanation and the fix. The rules are objects in ./lint-rules.ts, each with its own check; this
 * file runs them over a parsed file. Pure: the DNS and probe checks live in ./checks.ts.
 */
import { type NodeConfig, type NodeConfigKey, P2P_KEYS, TARGET_KEYS } from '../config/index.js';
import { jsonPath } from './decode.js';
import {
  type GroupAt,
  LINT_RULES,
  type LintContext,
  type LintRule,
  type NodeConfigFacts,
  type Report,
  type Role,
  type RuleChecks,
  type SnapshotFileFacts,
} from './lint-rules.js';
import {
  type AccessPoint,
  endpointKey,
  type ParsedTopology,
  SEVERITY_ORDER,
  type Severity,
  type Topology,
  type TopologyFinding,
} from './model.js';

export {
  LINT_RULES,
  type LintRule,
  lintRulesTable,
  type NodeConfigFacts,
  type Role,
  type SnapshotFileFacts,
} from './lint-rules.js';

export interface LintOptions {
  /** The node's role; guessed from the file when undefined. */
  role?: Role | undefined;
  /** The block producer's endpoints (for "relay advertises the producer"). */
  producers?: AccessPoint[] | undefined;
  /** Facts from the node configuration file, when given. */
  config?: NodeConfigFacts | undefined;
  /** The node's network, when known: entries of other networks are flagged. */
  network?: string | undefined;
  /** What reading peerSnapshotFile found, when the caller read it. */
  snapshot?: SnapshotFileFacts | undefined;
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

/** The rules with a check for one scope, in the order of LINT_RULES. */
function withCheck<K extends keyof RuleChecks>(scope: K): Array<[LintRule, NonNullable<RuleChecks[K]>]> {
  const out: Array<[LintRule, NonNullable<RuleChecks[K]>]> = [];
  for (const rule of LINT_RULES) {
    const check = rule.check?.[scope];
    if (check) out.push([rule, check as NonNullable<RuleChecks[K]>]);
  }
  return out;
}
const GROUP_RULES = withCheck('group');
const LOCAL_AP_RULES = withCheck('localAccessPoint');
const LIST_AP_RULES = withCheck('listAccessPoint');
const FILE_RULES = withCheck('file');

/**
 * Runs the static rules over a parsed file (parser findings included), sorted by severity. Each
 * local root group (then each of its access points), each access point of the public roots and of
 * the bootstrap peers, then the whole file, are checked by the rules in LINT_RULES order.
 */
export function lintTopology(parsed: ParsedTopology, options: LintOptions = {}): LintResult {
  const t = parsed.topology;
  const findings: TopologyFinding[] = [...parsed.findings];
  const reporter =
    (rule: LintRule): Report =>
    (path, message, fix, severity) => {
      findings.push({ code: rule.code, severity: severity ?? rule.severity, path, message, fix });
    };
  const role = options.role ?? guessRole(t);
  const roleSource = options.role ? 'given' : 'guessed';
  const p2p = parsed.format === 'p2p';
  const firstGroup = new Map<string, number>();
  t.localRoots.forEach((g, i) => {
    for (const ap of g.accessPoints) if (!firstGroup.has(endpointKey(ap))) firstGroup.set(endpointKey(ap), i);
  });
  const ctx: LintContext = {
    parsed,
    t,
    role,
    roleSource,
    producers: options.producers ?? [],
    config: options.config,
    p2p,
    ledgerOff: t.ledgerPeers.mode === 'never',
    // Paths point into the file as written; for older formats the model's paths are approximate.
    lrPath: (i, ...rest) =>
      p2p
        ? jsonPath('localRoots', i, ...rest)
        : jsonPath(
            ...(parsed.format === 'early-p2p' ? ['LocalRoots', 'groups'] : ['Producers']),
            parsed.localRootSources?.[i] ?? i,
          ),
    prPath: (i, ...rest) => (p2p ? jsonPath('publicRoots', i, ...rest) : jsonPath('PublicRoots', i)),
    firstGroup,
    producerSeverity: roleSource === 'given' ? 'error' : 'warning',
    guessedNote: roleSource === 'guessed' ? " (this file looks like a block producer's: pass --role to be sure)" : '',
    network: options.network,
    snapshot: options.snapshot,
  };

  t.localRoots.forEach((group, i) => {
    const at: GroupAt = {
      group,
      i,
      n: group.accessPoints.length,
      names: group.accessPoints.some((a) => a.kind === 'dns' || a.kind === 'srv'),
    };
    for (const [rule, check] of GROUP_RULES) check(ctx, at, reporter(rule));
    const inGroup = new Set<string>();
    group.accessPoints.forEach((ap, j) => {
      const key = endpointKey(ap);
      const repeated = inGroup.has(key);
      inGroup.add(key);
      for (const [rule, check] of LOCAL_AP_RULES) check(ctx, { ap, i, j, key, repeated }, reporter(rule));
    });
  });
  const checkList = (aps: Array<{ ap: AccessPoint; path: string }>, list: string): void => {
    const seen = new Set<string>();
    aps.forEach(({ ap, path }, j) => {
      const key = endpointKey(ap);
      const repeated = seen.has(key);
      seen.add(key);
      for (const [rule, check] of LIST_AP_RULES) check(ctx, { ap, j, key, list, path, repeated }, reporter(rule));
    });
  };
  checkList(
    t.publicRoots.flatMap((g, i) => g.accessPoints.map((ap, j) => ({ ap, path: ctx.prPath(i, 'accessPoints', j) }))),
    'public roots',
  );
  if (t.bootstrapPeers)
    checkList(
      t.bootstrapPeers.map((ap, j) => ({ ap, path: jsonPath('bootstrapPeers', j) })),
      'bootstrap peers',
    );
  for (const [rule, check] of FILE_RULES) check(ctx, reporter(rule));
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
