import { readFile } from 'node:fs/promises';
import { Flags } from '@oclif/core';
import { Registry as PromRegistry } from 'prom-client';
import { SpoCommand } from '../base-command.js';
import { loadNodeConfig, type NodeConfig } from '../config/index.js';
import { defaultNodeSettings } from '../config/node-config.js';
import { DnsResolver } from '../dns/index.js';
import { parseDuration } from '../lib/duration.js';
import { UsageError } from '../lib/errors.js';
import { NodeMetricsPublisher, type PublishedNames } from '../metrics/publish.js';
import { type MetricsServer, startMetricsServer } from '../metrics/serve.js';
import { parseLinkDelays } from '../net/transport/delayed-links.js';
import { type ControlServer, defaultControlPath, startControlServer } from '../node/control.js';
import { type LiveNode, startLiveNode } from '../node/live-node.js';
import { nodeResolver } from '../node/node-dns.js';
import type { NodeEvent, NodeSnapshot } from '../node/snapshot.js';
import { registryFlags, registryOptions } from '../registry/flags.js';
import { loadRegistry } from '../registry/index.js';
import { presetRelayTopology } from '../topology/generate.js';
import { guessRole, lintTopology, nodeConfigFacts } from '../topology/lint.js';
import type { ParsedTopology, Topology, TopologyFinding } from '../topology/model.js';
import { parseTopology, parseTopologyText } from '../topology/parse.js';
import { type LiveTable, startLiveTable } from '../ui/run-view.js';

/** Reads and parses a topology file; the parser's errors (what the node refuses) are returned, not thrown. */
async function readTopology(file: string): Promise<ParsedTopology> {
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new UsageError('TOPOLOGY_READ', `cannot read ${file}: ${e.code ?? e.message}`, {
      hint: 'give the path of the topology file with --topology',
    });
  });
  return parseTopology(parseTopologyText(text, file), file);
}

/** A prom-client registry that refreshes the node's values before each scrape. */
class ScrapeTimeRegistry extends PromRegistry {
  constructor(private readonly beforeScrape: () => void) {
    super();
  }

  override metrics(): Promise<string> {
    this.beforeScrape();
    return super.metrics();
  }
}

/** Events kept for the live table's log (the view shows the last few that fit). */
const RECENT_EVENTS = 50;

const errorsOf = (p: ParsedTopology): TopologyFinding[] => p.findings.filter((f) => f.severity === 'error');

export default class Run extends SpoCommand {
  static override summary =
    "Run a node's peer-to-peer networking in the foreground: the peer-selection governor managing real connections, with live peer tables and the node's metrics.";
  static override description =
    `Reads the operator's own cardano-node topology (--topology) and configuration (--config: TargetNumberOf*, AcceptedConnectionsLimit, PeerSharing, DiffusionMode, ProtocolIdleTimeout, TimeWaitTimeout) and runs spo's port of the node's outbound governor with churn, its connection manager, server (IPv4 and IPv6) and inbound governor on real sockets: local roots (names re-resolved after their TTL), public roots, bootstrap peers, ledger peers from the registry (--source, the embedded snapshot by default) once the tip seen from peers passes useLedgerAfterSlot, peer sharing both ways. With no files it runs as a relay on the network's default preset (what \`spo topology generate --role relay\` writes: bootstrap peers and useLedgerAfterSlot).

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
    const linkDelays = flags['link-delays']
      ? parseLinkDelays(
          await readFile(flags['link-delays'], 'utf8').catch((e: NodeJS.ErrnoException) => {
            throw new UsageError('LINK_DELAYS_READ', `cannot read ${flags['link-delays']}: ${e.code ?? e.message}`);
          }),
          flags['link-delays'],
        )
      : undefined;
    const hosts = flags.host
      .split(',')
      .map((h) => h.trim())
      .filter((h) => h !== '');
    const port = flags.port ?? this.network.preset?.defaultPort ?? 3001;
    const lines = this.jsonEnabled() || !process.stdout.isTTY;
    // on a terminal: the live table (src/ui/run-view.ts), once the node runs; events before that wait
    let table: LiveTable | undefined;
    const early: NodeEvent[] = [];
    this.viewEvent = (e: NodeEvent): void => {
      if (table) table.event(e);
      else if (early.length < RECENT_EVENTS) early.push(e);
    };

    // --- inputs -----------------------------------------------------------------------------
    let parsed: ParsedTopology | undefined;
    let topology: Topology;
    if (flags.topology) {
      parsed = await readTopology(flags.topology);
      const first = errorsOf(parsed)[0];
      if (first)
        throw new UsageError(first.code, `${flags.topology}: ${first.path}: ${first.message}`, { hint: first.fix });
      topology = parsed.topology;
    } else {
      topology = presetRelayTopology(this.network.name);
    }
    const role = flags.topology ? guessRole(topology) : 'relay';
    const cfg: NodeConfig | undefined = flags.config
      ? await loadNodeConfig(flags.config, { role, signal: this.signal })
      : undefined;
    const settings = cfg ?? defaultNodeSettings(role);
    const registry = await loadRegistry(registryOptions(flags, this.network, this.signal));

    const warn = (code: string, message: string): void => {
      const e: NodeEvent = { time: new Date().toISOString(), event: 'warning', code, message };
      if (lines) this.line(e);
      else if (table) table.event(e);
      else this.note(`${message} (${code})`);
    };
    const showLint = (p: ParsedTopology, file: string): void => {
      const lint = lintTopology(p, {
        role,
        ...(cfg ? { config: nodeConfigFacts(cfg) } : {}),
        network: this.network.name,
      });
      for (const f of lint.findings) if (f.severity !== 'info') warn(f.code, `${file}: ${f.path}: ${f.message}`);
    };
    if (parsed && flags.topology) showLint(parsed, flags.topology);

    let nodeRef: LiveNode | undefined;
    // --- metrics ------------------------------------------------------------------------------
    let metricsServer: MetricsServer | undefined;
    let publisher: NodeMetricsPublisher | undefined;
    if (flags['metrics-port'] !== undefined) {
      // every scrape sees the counters of that moment, not of the last second's tick
      const prom = new ScrapeTimeRegistry(() => {
        if (nodeRef) publisher?.update(nodeRef.counters());
      });
      publisher = new NodeMetricsPublisher(prom, { names: flags['metrics-names'] as PublishedNames });
      metricsServer = await startMetricsServer({ registry: prom, port: flags['metrics-port'] });
    }

    // --- the control endpoint (spo peers) -----------------------------------------------------
    // an explicit --control that cannot be opened is an error; the default one only a warning
    const controlPath = flags.control ?? defaultControlPath({ topologyFile: flags.topology });
    let control: ControlServer | undefined;
    try {
      control = await startControlServer({
        path: controlPath,
        snapshot: () => {
          if (!nodeRef) throw new UsageError('NOT_STARTED', 'the node is starting');
          return nodeRef.snapshot();
        },
      });
    } catch (e) {
      if (flags.control) {
        await metricsServer?.close();
        throw e;
      }
      warn('CONTROL_UNAVAILABLE', `no control endpoint for spo peers: ${(e as Error).message}`);
    }

    // --- the node -----------------------------------------------------------------------------
    const dns = new DnsResolver();
    let node: LiveNode;
    try {
      node = await startLiveNode({
        network: this.network.name,
        magic: this.network.magic,
        role,
        hosts,
        port,
        initiatorOnly: flags['initiator-only'],
        settings,
        topology,
        pools: registry.pools,
        allowPrivatePeers: flags['allow-private-peers'],
        resolver: nodeResolver(dns),
        ...(publisher ? { metrics: publisher } : {}),
        ...(metricsServer ? { metricsUrl: metricsServer.url } : {}),
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
        ...(linkDelays ? { linkDelays } : {}),
        signal: this.signal,
        onEvent: (e) => this.show(e, lines),
        ...(control ? { controlPath: control.path } : {}),
      });
      nodeRef = node;
    } catch (e) {
      await control?.close();
      await metricsServer?.close();
      dns.close();
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EADDRINUSE' || err.code === 'EADDRNOTAVAIL' || err.code === 'EACCES')
        throw new UsageError('LISTEN_FAILED', `cannot listen on ${flags.host}:${port}: ${err.code}`, {
          hint:
            err.code === 'EADDRINUSE'
              ? 'the port is taken (a cardano-node on it?); choose another with --port (0 = any free port)'
              : 'check --host',
        });
      throw e;
    }

    // --- snapshots, SIGHUP ----------------------------------------------------------------------
    const snapshots = lines ? setInterval(() => this.line(node.snapshot()), snapshotEveryMs) : undefined;
    if (!lines) {
      table = startLiveTable({
        stream: process.stdout,
        color: this.chalk.level > 0,
        snapshot: () => node.snapshot(),
        maxEvents: RECENT_EVENTS,
      });
      for (const e of early.splice(0)) table.event(e);
    }
    snapshots?.unref();
    const onHup = (): void => {
      if (!flags.topology) {
        warn('SIGHUP_NO_TOPOLOGY', 'SIGHUP: no --topology to re-read; nothing changed');
        return;
      }
      const file = flags.topology;
      readTopology(file).then(
        (p) => {
          const first = errorsOf(p)[0];
          if (first) {
            warn(first.code, `SIGHUP: ${file}: ${first.path}: ${first.message}; the old topology stays in use`);
            return;
          }
          showLint(p, file);
          node.reloadTopology(p.topology);
        },
        (e: unknown) => warn('TOPOLOGY_READ', `SIGHUP: ${(e as Error).message}; the old topology stays in use`),
      );
    };
    process.on('SIGHUP', onHup);
    try {
      await node.closed;
    } finally {
      process.off('SIGHUP', onHup);
      if (snapshots) clearInterval(snapshots);
      table?.stop();
      await control?.close();
      await metricsServer?.close();
      dns.close();
    }
  }

  private line(doc: NodeEvent | NodeSnapshot): void {
    process.stdout.write(`${JSON.stringify(doc)}\n`);
  }

  /** The live table's handler of events (set when the view runs). */
  private viewEvent: (e: NodeEvent) => void = () => undefined;

  /** One event: a JSON line, or into the live table's recent events. */
  private show(e: NodeEvent, lines: boolean): void {
    if (lines) this.line(e);
    else this.viewEvent(e);
  }
}
