import { Flags } from '@oclif/core';
import { SpoCommand } from '../base-command.js';
import { parseDnsServer } from '../dns/index.js';
import { parseDuration } from '../lib/duration.js';
import { SpoError, UsageError } from '../lib/errors.js';
import type { PublishedNames } from '../metrics/publish.js';
import { BOOTSTRAP_TIMEOUT_REASON } from '../node/live-node.js';
import { startNodeRunner } from '../node/node-runner.js';
import type { NodeEvent, NodeSnapshot } from '../node/snapshot.js';
import { registryFlags, registryOptions } from '../registry/flags.js';
import { type LiveTable, startLiveTable } from '../ui/run-view.js';

/** Events kept for the live table's log (the view shows the last few that fit). */
const RECENT_EVENTS = 50;

export default class Run extends SpoCommand {
  static override summary =
    "Run a node's peer-to-peer networking in the foreground: the peer-selection governor managing real connections, with live peer tables and the node's metrics.";
  static override description =
    `Reads the operator's own cardano-node topology (--topology) and configuration (--config: TargetNumberOf*, AcceptedConnectionsLimit, PeerSharing, DiffusionMode, ProtocolIdleTimeout, TimeWaitTimeout) and runs spo's port of the node's outbound governor with churn, its connection manager, server (IPv4 and IPv6) and inbound governor on real sockets: local roots (names re-resolved after their TTL), public roots, bootstrap peers, ledger peers from the registry (--source, the embedded snapshot by default) once the tip seen from peers passes useLedgerAfterSlot, peer sharing both ways. Until that slot is passed, a topology with bootstrap peers counts as syncing (the ledger state too old): as the node does then, only the bootstrap peers and the trustable local roots are used, no ledger peers, public roots or peer sharing (the snapshot's "ledger" says where it stands). With no files it runs as a relay on the network's default preset (what \`spo topology generate --role relay\` writes: bootstrap peers and useLedgerAfterSlot).

spo validates no ledger rules: it relays headers it does not check, keeps no ledger and fetches no blocks; it is a tool to see what the networking does, not a node.

Output: on a terminal, a live table refreshed in place (the node's counters; per peer its direction, source, temperature, since, keep-alive RTT, upstreamness, headers delivered first, fail count; the recent events below: promotions, demotions, churn, failures); with --json or when standard output is not a terminal, JSON lines: the events and a snapshot of the counters and the peer table every --snapshot-interval (docs/json.md). Topology lint findings are shown at start. --metrics-port serves the node's Prometheus metrics under cardano-node's names.

Signals: SIGHUP re-reads the topology and changes the local roots live (a file with errors keeps the old one running and says why); SIGINT/SIGTERM close every connection and listening socket and exit 0 within 5 s (130 on a second Ctrl-C).`;
  static override examples = [
    '<%= config.bin %> run --network preview',
    '<%= config.bin %> run --topology topology.json --config config.json --port 3001 --metrics-port 12798',
    '<%= config.bin %> run --topology topology.json --json | jq -c "select(.event != \\"snapshot\\")"',
    '<%= config.bin %> run --initiator-only --topology topology.json',
  ];
  static override flags = {
    topology: Flags.string({
      description: 'topology file (any format); default: the network preset of a relay',
      helpValue: 'FILE',
    }),
    config: Flags.string({ description: 'cardano-node configuration (JSON or YAML)', helpValue: 'FILE' }),
    host: Flags.string({
      description: 'address(es) to listen on, comma-separated (e.g. 0.0.0.0,:: for IPv4 and IPv6)',
      default: '127.0.0.1',
    }),
    port: Flags.integer({
      char: 'p',
      description: "port to listen on (0 = any free port; default the network's, 3001)",
      min: 0,
      max: 65535,
    }),
    'metrics-port': Flags.integer({
      description: "serve the node's Prometheus metrics on 127.0.0.1:PORT/metrics (0 = any free port)",
      min: 0,
      max: 65535,
    }),
    'metrics-names': Flags.string({
      description: "metric names: new (cardano-node 10.2+ tracing), legacy (the old system's), both",
      options: ['new', 'legacy', 'both'],
      default: 'new',
    }),
    control: Flags.string({
      description:
        'local control socket for `spo peers` (owner-only; default: TOPOLOGY.spo.sock beside --topology, else $XDG_RUNTIME_DIR/spo/run.sock)',
      helpValue: 'PATH',
    }),
    'initiator-only': Flags.boolean({
      description: 'dial only: no listening socket, InitiatorOnly in the handshake (DiffusionMode InitiatorOnly)',
    }),
    'snapshot-interval': Flags.string({
      description: 'a snapshot line this often in the JSON stream',
      default: '5s',
      helpValue: 'DURATION',
    }),
    ...registryFlags,
    'dns-server': Flags.string({
      description:
        "DNS server for the topology's names (local roots re-resolved after their TTL, public roots, bootstrap peers) and ledger relays, IP[:PORT] (repeatable; default: the nameservers of /etc/resolv.conf)",
      helpValue: 'HOST[:PORT]',
      multiple: true,
      helpGroup: 'DNS',
    }),
    'allow-private-peers': Flags.boolean({
      description:
        'TESTNETS: accept loopback and private addresses from the registry and from peer sharing (refused by default)',
      helpGroup: 'TESTING',
    }),
    'mint-interval': Flags.string({
      description:
        'TESTNETS ONLY: mint a synthetic header extending the best chain this often (signed by nobody; spo validates no ledger rules)',
      helpValue: 'DURATION',
      helpGroup: 'TESTING',
    }),
    'mint-offset': Flags.string({
      description: 'TESTNETS ONLY: the first mint this long after start (default one --mint-interval)',
      helpValue: 'DURATION',
      helpGroup: 'TESTING',
      dependsOn: ['mint-interval'],
    }),
    'mint-phase': Flags.string({
      description:
        'TESTNETS ONLY: mint at wall-clock times that are this much past a multiple of --mint-interval (producers take turns whenever they started)',
      helpValue: 'DURATION',
      helpGroup: 'TESTING',
      dependsOn: ['mint-interval'],
    }),
    'churn-interval': Flags.string({
      description: "TESTNETS ONLY: churn cycles this far apart instead of the node's ~1 h",
      helpValue: 'DURATION',
      helpGroup: 'TESTING',
    }),
    'link-delays': Flags.string({
      description:
        'TESTNETS ONLY: file of one-way delays to add per remote IP ({"linkDelays": {"IP": ms}}, written by spo testnet)',
      helpValue: 'FILE',
      helpGroup: 'TESTING',
    }),
    'peer-share-delay': Flags.string({
      description:
        "TESTNETS ONLY: ask an established peer for peers this long after it was established and again this often, instead of the node's 5 and 15 min",
      helpValue: 'DURATION',
      helpGroup: 'TESTING',
    }),
    seed: Flags.integer({ description: "seed of the governor's randomness", helpGroup: 'TESTING' }),
  };

  override logJson(json: unknown): void {
    // long-running: JSON lines were written as they came; nothing more at the end
    if (json !== undefined) process.stdout.write(`${JSON.stringify(json)}\n`);
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Run);
    const snapshotEveryMs = parseDuration(flags['snapshot-interval'], '--snapshot-interval');
    if (snapshotEveryMs < 100)
      throw new UsageError('BAD_DURATION', '--snapshot-interval must be at least 100ms', { hint: 'e.g. 5s' });
    const mintEveryMs = flags['mint-interval'] ? parseDuration(flags['mint-interval'], '--mint-interval') : 0;
    const mintOffsetMs = flags['mint-offset'] ? parseDuration(flags['mint-offset'], '--mint-offset') : undefined;
    const mintPhaseMs = flags['mint-phase'] ? parseDuration(flags['mint-phase'], '--mint-phase') : undefined;
    const churnIntervalMs = flags['churn-interval']
      ? parseDuration(flags['churn-interval'], '--churn-interval')
      : undefined;
    if (churnIntervalMs !== undefined && churnIntervalMs < 1_000)
      throw new UsageError('BAD_DURATION', '--churn-interval must be at least 1s', {
        hint: 'e.g. --churn-interval 2m',
      });
    const peerShareDelayMs = flags['peer-share-delay']
      ? parseDuration(flags['peer-share-delay'], '--peer-share-delay')
      : undefined;
    const dnsServers = (flags['dns-server'] ?? []).map(parseDnsServer);
    const hosts = flags.host
      .split(',')
      .map((h) => h.trim())
      .filter((h) => h !== '');
    const lines = this.jsonEnabled() || !process.stdout.isTTY;

    // JSON lines as they come; or, on a terminal, the live table (src/ui/run-view.ts) once the node
    // runs: warnings before the node starts (lint findings) go to stderr, its early events wait
    let table: LiveTable | undefined;
    let started = false;
    let stoppedBecause: string | undefined;
    const early: NodeEvent[] = [];
    const show = (e: NodeEvent): void => {
      if (e.event === 'stopped') stoppedBecause = e.reason;
      if (lines) this.line(e);
      else if (table) table.event(e);
      else {
        if (e.event === 'started') started = true;
        if (!started && e.event === 'warning') this.note(`${e.message} (${e.code})`);
        else if (early.length < RECENT_EVENTS) early.push(e);
      }
    };

    const runner = await startNodeRunner({
      network: this.network,
      topologyFile: flags.topology,
      configFile: flags.config,
      registry: registryOptions(flags, this.network, this.signal),
      hosts,
      port: flags.port,
      initiatorOnly: flags['initiator-only'],
      metricsPort: flags['metrics-port'],
      metricsNames: flags['metrics-names'] as PublishedNames,
      controlPath: flags.control,
      linkDelaysFile: flags['link-delays'],
      node: {
        allowPrivatePeers: flags['allow-private-peers'],
        ...(flags.seed === undefined ? {} : { seed: flags.seed }),
        ...(mintEveryMs > 0
          ? {
              mint: {
                intervalMs: mintEveryMs,
                ...(mintOffsetMs === undefined ? {} : { offsetMs: mintOffsetMs }),
                ...(mintPhaseMs === undefined ? {} : { phaseMs: mintPhaseMs }),
              },
            }
          : {}),
        ...(churnIntervalMs === undefined ? {} : { churnIntervalMs }),
        ...(peerShareDelayMs === undefined
          ? {}
          : { policy: { peerShareActivationDelayMs: peerShareDelayMs, peerShareRetryTimeMs: peerShareDelayMs } }),
      },
      ...(dnsServers.length > 0 ? { dns: { servers: dnsServers } } : {}),
      snapshotEveryMs,
      ...(lines ? { onSnapshot: (s: NodeSnapshot) => this.line(s) } : {}),
      onEvent: show,
      signal: this.signal,
    });

    if (!lines) {
      table = startLiveTable({
        stream: process.stdout,
        color: this.chalk.level > 0,
        snapshot: () => runner.snapshot(),
        maxEvents: RECENT_EVENTS,
      });
      for (const e of early.splice(0)) table.event(e);
    }
    // SIGHUP re-reads the topology (errors in the new file keep the old one, told as a warning)
    const onHup = (): void => void runner.reload();
    process.on('SIGHUP', onHup);
    try {
      await runner.closed;
    } finally {
      process.off('SIGHUP', onHup);
      table?.stop();
    }
    // cardano-node restarts when the bootstrap deadline passes: a failure exit lets a supervisor
    // (systemd Restart=on-failure) do the same for spo run
    if (stoppedBecause === BOOTSTRAP_TIMEOUT_REASON)
      throw new SpoError(
        'BOOTSTRAP_PEERS_TIMEOUT',
        'the bootstrap peers deadline passed (15 minutes with the ledger state too old and untrusted peers still known): stopped',
        {
          hint: "check that the topology's bootstrapPeers are reachable; run spo run under a supervisor that restarts it, as cardano-node is",
        },
      );
  }

  private line(doc: NodeEvent | NodeSnapshot): void {
    process.stdout.write(`${JSON.stringify(doc)}\n`);
  }
}
