import { randomInt } from 'node:crypto';
import { dirname, relative, resolve as resolvePath } from 'node:path';
import { Flags } from '@oclif/core';
import { SpoCommand } from '../../base-command.js';
import { DnsResolver } from '../../dns/index.js';
import { parseDnsServer } from '../../dns/resolv-conf.js';
import { createRng } from '../../governor/rng.js';
import { parseEndpoint } from '../../lib/address.js';
import { writeFileAtomic } from '../../lib/atomic-write.js';
import { parseDuration } from '../../lib/duration.js';
import { SpoError, UsageError } from '../../lib/errors.js';
import type { NetworkName } from '../../lib/networks.js';
import { counted } from '../../lib/plural.js';
import { round3 } from '../../lib/round.js';
import { exportRegistry } from '../../registry/export.js';
import { registryFlags, registryOptions } from '../../registry/flags.js';
import type { Registry } from '../../registry/model.js';
import { createProbeRunner, probeRtts } from '../../topology/checks.js';
import {
  accessPointFromText,
  choosePublicRoots,
  generateTopology,
  nodeConfigKeys,
  type PublicRootCandidate,
  type Role,
  rankByProbe,
} from '../../topology/generate.js';
import { lintTopology } from '../../topology/lint.js';
import { type AccessPoint, endpointKey, type TopologyFinding } from '../../topology/model.js';
import { isUnspecifiedAddress, parseTopology } from '../../topology/parse.js';
import { inquirerPrompter, missingFlags, runWizard, type WizardAnswers } from '../../topology/wizard.js';
import { saveTopology, topologyToJson, writeTopology } from '../../topology/write.js';
import { loadRegistryWithProgress } from '../../ui/registry-progress.js';

export interface TopologyGenerateJson {
  role: Role;
  network: string;
  /** The topology file written, or null when it went to standard output (then see `topology`). */
  out: string | null;
  topology: Record<string, unknown>;
  /** Node configuration keys to set with this topology. */
  nodeConfig: Record<string, number | boolean>;
  publicRoots: Array<{ pool: string; ticker?: string; stake: number; address: string; port?: number; rttMs?: number }>;
  /** The seed of the public-root draw (give it back with --seed to draw the same). */
  seed: number;
  snapshot: { file: string; pools: number; relays: number } | null;
  findings: TopologyFinding[];
}

export default class TopologyGenerate extends SpoCommand {
  static override summary = 'Write a topology.json for a relay or a block producer, safe by construction.';
  static override description =
    `A block producer gets only its relays, as one trustable local root group that is not advertised; no public roots, no ledger peers (useLedgerAfterSlot -1), no bootstrap peers. Set PeerSharing false in its node configuration (the matching keys are printed).

A relay gets the block producer as a trustable local root (not advertised), the pool's other relays as a second trustable group, the network's bootstrap peers and useLedgerAfterSlot, and --public-roots public roots drawn from the registry (--source, embedded by default) the way the node draws ledger peers: weighted by the square root of stake, one relay per pool. With --probe the candidates are probed (node-to-node handshake) and only the reachable ones with the lowest RTT are kept. --snapshot FILE also writes a big-ledger peer snapshot from the registry and references it as peerSnapshotFile.

Without --role, --producer (relay) or --relay (producer), an interactive wizard asks for them when standard input is a terminal; otherwise (a pipe, a script, --json) the command never waits for input and fails with a usage error naming the missing flag.

The file is written atomically (--out; the previous file is kept as FILE.bak), or to standard output. Nothing is written when the result does not lint clean.`;
  static override examples = [
    '<%= config.bin %> topology generate --role producer --relay 203.0.113.10:3001 --relay relay2.example.com:3001 --out topology.json',
    '<%= config.bin %> topology generate --role relay --producer 10.0.0.5:3001 --relay relay2.example.com:3001 --public-roots 10 --out topology.json',
    '<%= config.bin %> topology generate --role relay --producer 10.0.0.5:3001 --network preprod --probe --snapshot peer-snapshot.json --out topology.json',
    '<%= config.bin %> topology generate   # the wizard, on a terminal',
  ];
  static override flags = {
    role: Flags.string({ description: 'the machine the file is for', options: ['relay', 'producer'] }),
    producer: Flags.string({
      description: "the block producer's address, HOST:PORT (relay role; repeatable)",
      multiple: true,
    }),
    relay: Flags.string({
      description:
        "a relay's address, HOST:PORT: all relays for a producer; the pool's other relays for a relay (repeatable)",
      multiple: true,
    }),
    self: Flags.string({
      description: "this relay's own address, left out of --relay (so one list serves every relay)",
    }),
    'public-roots': Flags.integer({
      description: 'public roots to draw from the registry (relay role; default 5, 0 for none)',
      min: 0,
      max: 100,
    }),
    probe: Flags.boolean({ description: 'probe the public-root candidates and keep reachable, low-RTT ones' }),
    timeout: Flags.string({
      description: 'probe: timeout of each stage and DNS query',
      default: '3s',
      helpValue: 'DURATION',
    }),
    'dns-server': Flags.string({ description: 'probe: DNS server, IP[:PORT] (repeatable)', multiple: true }),
    snapshot: Flags.string({
      description: 'also write a big-ledger peer snapshot to FILE and reference it (relay role)',
    }),
    seed: Flags.integer({ description: 'seed of the public-root draw (default: random, reported in --json)', min: 0 }),
    legacy: Flags.boolean({ description: 'write the legacy non-P2P "Producers" format (for nodes before 10.6)' }),
    out: Flags.string({ char: 'o', description: 'write to FILE atomically (- or absent: standard output)' }),
    ...registryFlags,
  };

  async run(): Promise<TopologyGenerateJson> {
    const { flags } = await this.parse(TopologyGenerate);
    const defaultPort = this.network.preset?.defaultPort ?? 3001;
    let answers: WizardAnswers = {
      role: flags.role as Role | undefined,
      network: flags.network || flags.magic !== undefined ? this.network.name : undefined,
      producers: flags.producer ?? [],
      relays: flags.relay ?? [],
      publicRoots: flags['public-roots'],
    };
    const missing = missingFlags(answers);
    if (missing.length > 0) {
      // Prompt only for a person at a terminal: never under --json or with stdin from a pipe/file.
      const interactive = process.stdin.isTTY === true && process.stderr.isTTY === true && !this.jsonEnabled();
      if (!interactive) {
        throw new UsageError(
          'TOPOLOGY_MISSING_FLAG',
          `missing ${missing.join(', ')} (not prompting: ${this.jsonEnabled() ? '--json' : 'standard input is not a terminal'})`,
          {
            hint:
              missing[0] === '--role'
                ? 'give --role relay|producer, with --producer for a relay and --relay for a producer'
                : `give ${missing.join(' and ')} HOST:PORT`,
            details: { missing },
          },
        );
      }
      answers = await runWizard(inquirerPrompter(this.signal), answers, defaultPort);
    }
    const role = answers.role as Role;
    const network = (answers.network ?? this.network.name) as NetworkName | 'custom';
    if (answers.network && answers.network !== this.network.name && answers.network !== 'custom') {
      const { selectNetwork } = await import('../../lib/networks.js');
      this.network = selectNetwork(answers.network, undefined);
    }
    const toAp =
      (flag: string) =>
      (s: string): AccessPoint => {
        const ap = accessPointFromText(s, defaultPort, parseEndpoint);
        // The node refuses these as destinations: say which flag, rather than fail the final lint.
        if (isUnspecifiedAddress(ap.address))
          throw new UsageError('BAD_ADDRESS', `${flag} ${s}: ${ap.address} is not a destination address`, {
            hint: "give the machine's reachable IP address or DNS name (0.0.0.0 and :: are listening addresses)",
          });
        if (ap.address.includes('%'))
          throw new UsageError('BAD_ADDRESS', `${flag} ${s}: the node cannot use an IPv6 zone id (%...)`, {
            hint: 'give a global IPv6 address, an IPv4 address or a DNS name',
          });
        return ap;
      };
    const producers = answers.producers.map(toAp('--producer'));
    let relays = answers.relays.map(toAp('--relay'));
    if (flags.self) {
      const self = endpointKey(toAp('--self')(flags.self));
      relays = relays.filter((r) => endpointKey(r) !== self);
    }
    if (role === 'producer') {
      if (flags['public-roots'])
        throw new UsageError('USAGE', '--public-roots does not apply to a block producer', {
          hint: 'a block producer talks only to your relays',
        });
      if (flags.snapshot)
        throw new UsageError('USAGE', '--snapshot does not apply to a block producer', {
          hint: 'ledger peers are off on a block producer',
        });
      if (flags.probe)
        throw new UsageError('USAGE', '--probe does not apply to a block producer (it has no public roots)');
    }

    // Public roots from the registry (relay).
    const seed = flags.seed ?? randomInt(0, 2 ** 31 - 1);
    const count = role === 'relay' ? (answers.publicRoots ?? 5) : 0;
    let reg: Registry | undefined;
    let chosen: PublicRootCandidate[] = [];
    const rtts = new Map<string, number | undefined>();
    if (count > 0 || flags.snapshot) {
      try {
        reg = await loadRegistryWithProgress(registryOptions(flags, this.network, this.signal), this.progress());
      } catch (error) {
        const explicit =
          flags['public-roots'] !== undefined || flags.snapshot !== undefined || flags.source !== 'embedded';
        if (explicit) throw error;
        this.note(`no public roots: the registry could not be read (${(error as Error).message})`);
      }
    }
    if (reg && count > 0) {
      const rng = createRng(seed);
      const own = [...producers, ...relays];
      const candidates = choosePublicRoots(reg.pools, flags.probe ? count * 3 : count, rng, {
        exclude: own,
        defaultPort,
      });
      if (flags.probe) {
        const stageTimeoutMs = parseDuration(flags.timeout, '--timeout');
        const servers = (flags['dns-server'] ?? []).map(parseDnsServer);
        const resolver = new DnsResolver({ ...(servers.length > 0 ? { servers } : {}), timeoutMs: stageTimeoutMs });
        const progress = this.progress();
        progress.start(`probing ${counted(candidates.length, 'public-root candidate')}`);
        try {
          const runner = await createProbeRunner({
            resolver,
            family: 'both',
            magic: this.network.magic,
            stageTimeoutMs,
          });
          for (const [k, v] of await probeRtts(
            candidates.map((c) => c.accessPoint),
            runner,
            this.signal,
          ))
            rtts.set(k, v);
        } finally {
          resolver.close();
          progress.stop();
        }
        chosen = rankByProbe(candidates, rtts, count);
        if (chosen.length < count)
          this.note(`only ${chosen.length} of ${candidates.length} candidates answered the handshake`);
      } else chosen = candidates;
    }

    // The snapshot: prepared now, written only once the topology validated.
    let snapshot: { file: string; text: string; pools: number; relays: number } | undefined;
    let snapshotRef: string | undefined;
    if (flags.snapshot && reg) {
      const exp = exportRegistry(reg, { format: 'snapshot-v2', scope: 'big', networkMagic: this.network.magic });
      snapshot = {
        file: flags.snapshot,
        text: exp.text.endsWith('\n') ? exp.text : `${exp.text}\n`,
        pools: exp.pools,
        relays: exp.relays,
      };
      const base = flags.out && flags.out !== '-' ? dirname(resolvePath(flags.out)) : process.cwd();
      snapshotRef = relative(base, resolvePath(flags.snapshot));
    }

    const topology = generateTopology({
      role,
      producers,
      relays,
      network,
      publicRoots: chosen.map((c) => c.accessPoint),
      peerSnapshotFile: snapshotRef,
    });
    const text = writeTopology(topology, flags.legacy ? 'legacy-producers' : 'p2p');
    // Validate what is about to be written: read it back and lint it for its role.
    const lint = lintTopology(parseTopology(topologyToJson(topology), 'generated'), { role, producers });
    const errors = lint.findings.filter((f) => f.severity === 'error');
    if (errors.length > 0) {
      const first = errors[0] as TopologyFinding;
      throw new SpoError(
        'TOPOLOGY_GENERATED_INVALID',
        `the generated topology does not lint clean: ${first.path}: ${first.message}`,
        {
          hint: first.fix,
          details: { findings: errors },
        },
      );
    }
    for (const f of lint.findings.filter((x) => x.severity === 'warning')) this.note(`${f.path}: ${f.message}`);
    if (flags.legacy)
      this.note(
        'the legacy format cannot express bootstrap peers, ledger peers, trustable or advertise: they are left out (nodes before 10.6 only)',
      );

    if (snapshot) await writeFileAtomic(snapshot.file, snapshot.text);
    const toStdout = flags.out === undefined || flags.out === '-';
    if (!toStdout) await saveTopology(flags.out as string, text);
    else if (!this.jsonEnabled()) process.stdout.write(text);

    const nodeConfig = nodeConfigKeys(role, topology);
    if (!this.jsonEnabled()) {
      const keys = `node configuration keys for this ${role === 'producer' ? 'block producer' : 'relay'}:\n${JSON.stringify(nodeConfig, null, 2)}\n`;
      // Never mix them into a topology written to standard output.
      if (toStdout) process.stderr.write(keys);
      else {
        this.out(`${this.c.ok('✓')} wrote ${flags.out}${snapshot ? ` and ${snapshot.file}` : ''}`);
        this.out(keys);
      }
    }
    return {
      role,
      network: this.network.name,
      out: toStdout ? null : (flags.out as string),
      topology: JSON.parse(text) as Record<string, unknown>,
      nodeConfig,
      publicRoots: chosen.map((c) => {
        const rtt = rtts.get(endpointKey(c.accessPoint));
        return {
          pool: c.pool,
          ...(c.ticker === undefined ? {} : { ticker: c.ticker }),
          stake: c.stake,
          address: c.accessPoint.address,
          ...(c.accessPoint.port === undefined ? {} : { port: c.accessPoint.port }),
          ...(rtt === undefined ? {} : { rttMs: round3(rtt) }),
        };
      }),
      seed,
      snapshot: snapshot ? { file: snapshot.file, pools: snapshot.pools, relays: snapshot.relays } : null,
      findings: lint.findings,
    };
  }
}
