import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { SpoCommand } from '../../base-command.js';
import { loadNodeConfig, readNetworkMagic } from '../../config/index.js';
import { dnsServerFlags } from '../../dns/flags.js';
import { DnsResolver } from '../../dns/index.js';
import { parseDnsServer } from '../../dns/resolv-conf.js';
import { parseEndpoint } from '../../lib/address.js';
import { parseDuration } from '../../lib/duration.js';
import { describeError, ExitCode, UsageError } from '../../lib/errors.js';
import { networkByMagic } from '../../lib/networks.js';
import { readInput, topologyInput } from '../../lib/read-input.js';
import { parseSnapshot } from '../../registry/snapshot.js';
import { createProbeRunner, probeCheck, resolveCheck } from '../../topology/checks.js';
import { accessPointFromText } from '../../topology/generate.js';
import {
  countFindings,
  guessRole,
  lintTopology,
  nodeConfigFacts,
  type Role,
  type SnapshotFileFacts,
  sortFindings,
} from '../../topology/lint.js';
import type { Severity, TopologyFinding, TopologyFormat } from '../../topology/model.js';
import { parseTopology, parseTopologyText } from '../../topology/parse.js';
import { renderFindings, summaryLine } from '../../ui/lint-report.js';

export interface TopologyLintJson {
  file: string;
  format: TopologyFormat;
  role: Role;
  roleSource: 'given' | 'guessed';
  /** true when there is no error (warnings allowed): the exit code is 0. */
  ok: boolean;
  counts: Record<Severity, number>;
  findings: TopologyFinding[];
  checks: { resolve: boolean; probe: boolean };
}

export default class TopologyLint extends SpoCommand {
  static override summary = 'Check a topology.json: what the node refuses, and the mistakes it accepts silently.';
  static override description =
    `Reads a cardano-node topology file in any format the node has accepted (legacy Producers, the early grouped P2P format, the current one) and reports every finding with its severity, the JSON path, a one-line explanation and the fix.

error: the node refuses the file, or silently rewrites it against what you meant (a hotValency it lowers, a group or endpoint it drops, an address it rejects, a block producer exposed).
warning: it works but is risky or surprising (no useLedgerAfterSlot, private addresses in public roots, unknown keys).
info: worth knowing.

The role (relay or block producer) is guessed from the file (ledger peers off, some local roots, and no bootstrap peers or no public roots look like a producer) unless --role says it, and shown under the findings; producer rules are errors only with --role producer. A file that lists a public relay (IOG's, a backbone or playground node) as a local root and has no other peer source is flagged whatever the guess. --producer names the block producer so that a relay advertising it is caught; --config reads the node configuration for PeerSharing, ConsensusMode and the peer targets.

--resolve looks every name up (A/AAAA; SRV names as written) and checks hotValency against the addresses found. --probe connects to every access point with the node-to-node handshake (network magic from --network/--magic).

Exit code: 0 without errors (warnings allowed), 1 with errors, 2 on a usage error. Every rule is listed in docs/topology-lint.md.`;
  static override examples = [
    '<%= config.bin %> topology lint topology.json',
    '<%= config.bin %> topology lint topology.json --role producer --config config.json',
    '<%= config.bin %> topology lint relay-topology.json --producer 10.0.0.5:3001 --resolve --probe',
    '<%= config.bin %> topology lint topology.json --json | jq ".findings[] | select(.severity == \\"error\\")"',
  ];
  static override args = {
    file: Args.string({ description: 'topology file (- for standard input)', required: true }),
  };
  static override flags = {
    role: Flags.string({
      description: 'the node this file is for (default: guessed from the file)',
      options: ['relay', 'producer'],
    }),
    producer: Flags.string({ description: "the block producer's address, HOST:PORT (repeatable)", multiple: true }),
    config: Flags.string({
      description: 'the node configuration file, JSON or YAML (PeerSharing, ConsensusMode, targets)',
    }),
    resolve: Flags.boolean({ description: 'look every name up and count addresses against hotValency' }),
    probe: Flags.boolean({ description: 'connect to every access point with the node-to-node handshake' }),
    timeout: Flags.string({
      description: 'timeout of each DNS query and probe stage',
      default: '3s',
      helpValue: 'DURATION',
    }),
    ...dnsServerFlags,
  };

  async run(): Promise<TopologyLintJson> {
    const { args, flags } = await this.parse(TopologyLint);
    const timeoutMs = parseDuration(flags.timeout, '--timeout');
    if (timeoutMs <= 0) throw new UsageError('BAD_DURATION', `invalid --timeout: "${flags.timeout}" must be positive`);
    const defaultPort = this.network.preset?.defaultPort ?? 3001;
    const producers = (flags.producer ?? []).map((p) => accessPointFromText(p, defaultPort, parseEndpoint));
    const raw = parseTopologyText(await readInput(args.file, topologyInput(this.signal)), args.file);
    const parsed = parseTopology(raw, args.file);
    // The node config is read as the node reads it (JSON or YAML), with the defaults of this file's role.
    const nodeConfig = flags.config
      ? await loadNodeConfig(flags.config, {
          role: (flags.role as Role | undefined) ?? guessRole(parsed.topology),
          signal: this.signal,
        })
      : undefined;
    const config = nodeConfig ? nodeConfigFacts(nodeConfig) : undefined;
    // The network to hold bootstrap peers and public roots to: one named (flag or SPO_NETWORK),
    // else the config's genesis magic; none when neither says (the default network is a guess).
    let network: string | undefined;
    if (flags.network !== undefined || flags.magic !== undefined) network = this.network.name;
    else if (nodeConfig) {
      const magic = await readNetworkMagic(nodeConfig, this.signal);
      if (magic !== undefined) network = networkByMagic(magic)?.name ?? 'custom';
    }
    const snapshot =
      parsed.topology.peerSnapshotFile === undefined
        ? undefined
        : await readSnapshotFacts(parsed.topology.peerSnapshotFile, args.file);
    const result = lintTopology(parsed, {
      role: flags.role as Role | undefined,
      producers,
      config,
      network,
      snapshot,
    });
    let findings = result.findings;
    if (flags.resolve || flags.probe) {
      const servers = (flags['dns-server'] ?? []).map(parseDnsServer);
      const resolver = new DnsResolver({ ...(servers.length > 0 ? { servers } : {}), timeoutMs });
      const family = flags['ipv4-only'] ? 'ipv4' : flags['ipv6-only'] ? 'ipv6' : 'both';
      const progress = this.progress();
      try {
        if (flags.resolve) {
          progress.start('resolving the names of the topology');
          const r = await resolveCheck(parsed.topology, resolver, { family, signal: this.signal });
          // A resolved count replaces the "depends on the names" note.
          findings = [...findings.filter((f) => f.code !== 'TOPOLOGY_HOTVALENCY_NAMES'), ...r.findings];
          progress.succeed('names resolved');
        }
        if (flags.probe) {
          progress.start('probing the access points');
          const runner = await createProbeRunner({
            resolver,
            family,
            magic: this.network.magic,
            stageTimeoutMs: timeoutMs,
          });
          findings = [...findings, ...(await probeCheck(parsed.topology, { ...runner, signal: this.signal }))];
          progress.succeed('access points probed');
        }
      } catch (error) {
        progress.stop();
        throw error;
      } finally {
        resolver.close();
      }
      findings = sortFindings(findings);
    }
    const counts = countFindings(findings);
    const doc: TopologyLintJson = {
      file: args.file,
      format: parsed.format,
      role: result.role,
      roleSource: result.roleSource,
      ok: counts.error === 0,
      counts,
      findings,
      checks: { resolve: flags.resolve, probe: flags.probe },
    };
    const role = result.role === 'producer' ? 'block producer' : 'relay';
    const roleLine = this.c.dim(
      `role: ${role} (${result.roleSource === 'given' ? '--role' : 'guessed from the file; --role to say it'})`,
    );
    this.out(`${renderFindings(findings, this.c)}${roleLine}\n${summaryLine(args.file, counts, this.c)}`);
    if (counts.error > 0) process.exitCode = ExitCode.failed;
    return doc;
  }
}

/**
 * Reads peerSnapshotFile as the node would (relative to the topology file's folder; the current
 * folder for standard input) and says what is wrong with it, for lint's snapshot rules.
 */
async function readSnapshotFacts(name: string, topologyFile: string): Promise<SnapshotFileFacts> {
  const base = topologyFile === '-' ? process.cwd() : dirname(resolve(topologyFile));
  const path = isAbsolute(name) ? name : join(base, name);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { path, problem: 'missing' };
    return { path, problem: 'invalid', reason: describeError(error) };
  }
  try {
    const doc: unknown = JSON.parse(text);
    parseSnapshot(doc, path);
    // The node reads the big-ledger form only.
    if (typeof doc === 'object' && doc !== null && !('bigLedgerPools' in doc))
      return { path, problem: 'invalid', reason: 'no "bigLedgerPools" (the node reads only the big-ledger form)' };
  } catch (error) {
    return {
      path,
      problem: 'invalid',
      reason: error instanceof SyntaxError ? `not JSON (${error.message})` : describeError(error),
    };
  }
  return { path };
}
