/**
 * `spo run` as a library: everything around the live node (src/node/live-node.ts) that a running
 * node needs, started in order and stopped in reverse: the operator's files read as the node reads
 * them (topology through the parser, its lint findings told; the node config; the registry's
 * pools), the Prometheus endpoint under cardano-node's names, the control socket of `spo peers`,
 * the node itself, snapshots on an interval, and re-reading the topology (SIGHUP's job; the
 * caller owns the signal). What happens is told as `NodeEvent`s and `NodeSnapshot`s; rendering
 * them is the caller's (the command picks the live table or JSON lines), so a process may run
 * several nodes (spo testnet, tests).
 *
 * A shell: it owns files, sockets and timers. Every failure is a SpoError (InputError for what
 * the caller handed in: a file that cannot be read, a topology the node refuses, an address that
 * cannot be listened on).
 */
import { readFile } from 'node:fs/promises';
import { Registry as PromRegistry } from 'prom-client';
import { loadNodeConfig, type NodeConfig } from '../config/index.js';
import { defaultNodeSettings } from '../config/node-config.js';
import { DnsResolver, type DnsResolverOptions } from '../dns/index.js';
import type { RootPeerResolver } from '../driver/root-peers.js';
import { type Clock, type Millis, systemClock, type Timer } from '../lib/clock.js';
import { InputError, SpoError } from '../lib/errors.js';
import type { NetworkSelection } from '../lib/networks.js';
import { readInput, topologyInput } from '../lib/read-input.js';
import { NodeMetricsPublisher, type PublishedNames } from '../metrics/publish.js';
import { type MetricsServer, startMetricsServer } from '../metrics/serve.js';
import type { LinkDelays } from '../net/transport/delayed.js';
import { parseLinkDelays } from '../net/transport/delayed-links.js';
import { loadRegistry } from '../registry/index.js';
import type { LoadRegistryOptions } from '../registry/options.js';
import { presetRelayTopology } from '../topology/generate.js';
import { guessRole, lintTopology, nodeConfigFacts } from '../topology/lint.js';
import type { ParsedTopology, Topology, TopologyFinding } from '../topology/model.js';
import { parseTopology, parseTopologyText } from '../topology/parse.js';
import { type ControlServer, defaultControlPath, startControlServer } from './control.js';
import { type LedgerPoolInput, type LiveNode, type LiveNodeOptions, startLiveNode } from './live-node.js';
import { nodeResolver } from './node-dns.js';
import type { PeerResolver } from './peer-state-actions.js';
import type { NodeEvent, NodeSnapshot } from './snapshot.js';

export interface NodeRunnerOptions {
  network: NetworkSelection;
  /** The operator's topology file; without one, the network's relay preset (`spo topology generate --role relay`). */
  topologyFile?: string | undefined;
  /** The node configuration (JSON or YAML); without one, the node's defaults for the role. */
  configFile?: string | undefined;
  /** Where the ledger peers come from: a registry source to load, or pools already loaded. */
  registry: LoadRegistryOptions | { pools: readonly LedgerPoolInput[] };
  /** Addresses to listen on (default 127.0.0.1), all on `port` (default the network's, 3001; 0 = any free port). */
  hosts?: readonly string[];
  port?: number | undefined;
  initiatorOnly?: boolean;
  /** Serve the Prometheus metrics on 127.0.0.1:PORT/metrics (0 = any free port); none when undefined. */
  metricsPort?: number | undefined;
  metricsNames?: PublishedNames;
  /**
   * The control socket of `spo peers`: one that cannot be opened is an error. Without it, the
   * default path (beside the topology file, else the runtime folder), and failing to open that
   * is only a warning.
   */
  controlPath?: string | undefined;
  /** false: no control endpoint unless `controlPath` is given (a caller running several nodes in one process). */
  control?: boolean;
  /** A snapshot to `onSnapshot` this often (none when 0 or without `onSnapshot`). */
  snapshotEveryMs?: Millis;
  onSnapshot?: (s: NodeSnapshot) => void;
  /** Every event: the runner's warnings (lint findings, a control socket it could not open, reloads), then the node's from `started` on. */
  onEvent?: (e: NodeEvent) => void;
  /** TESTNETS: a file of one-way delays per remote IP (`{"linkDelays": {"IP": ms}}`). */
  linkDelaysFile?: string | undefined;
  /** Name resolution (default spo's DNS client). */
  resolver?: RootPeerResolver & PeerResolver;
  /** Options of spo's DNS client when no `resolver` is given (e.g. `servers`: --dns-server). */
  dns?: DnsResolverOptions;
  clock?: Clock;
  signal?: AbortSignal;
  /** Passed to the live node as given. */
  node?: Pick<
    LiveNodeOptions,
    'allowPrivatePeers' | 'seed' | 'mint' | 'churnIntervalMs' | 'keepAliveIntervalMs' | 'relay' | 'wallClock' | 'policy'
  >;
}

export interface NodeRunner {
  readonly node: LiveNode;
  /** Where the metrics are served (http://127.0.0.1:PORT/metrics), when they are. */
  readonly metricsUrl: string | undefined;
  /** The control socket, when one is open. */
  readonly controlPath: string | undefined;
  snapshot(): NodeSnapshot;
  /**
   * Re-reads the topology file and changes the local roots (and public roots, bootstrap peers)
   * live; a file that cannot be read or has errors keeps the old topology, said in a warning
   * event. Resolves once done; never rejects.
   */
  reload(): Promise<void>;
  /** Stops the node and everything around it. */
  close(reason?: string): Promise<void>;
  /** Resolves once the node and everything around it are closed. */
  readonly closed: Promise<void>;
}

/** Reads and parses a topology file; the parser's errors (what the node refuses) are returned, not thrown. */
export async function readTopologyFile(file: string): Promise<ParsedTopology> {
  // the other topology commands' reader (its size limit: a hostile or wrong file is refused, not read whole)
  const text = await readInput(file, topologyInput()).catch((e: unknown) => {
    throw new InputError('TOPOLOGY_READ', (e as Error).message, {
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

const errorsOf = (p: ParsedTopology): TopologyFinding[] => p.findings.filter((f) => f.severity === 'error');

async function readLinkDelays(file: string): Promise<LinkDelays> {
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new InputError('LINK_DELAYS_READ', `cannot read ${file}: ${e.code ?? e.message}`);
  });
  return parseLinkDelays(text, file);
}

/** Starts a node and everything around it; resolves once it runs (listening, dialling). */
export async function startNodeRunner(o: NodeRunnerOptions): Promise<NodeRunner> {
  const clock = o.clock ?? systemClock;
  const onEvent = o.onEvent ?? (() => undefined);
  const warn = (code: string, message: string): void =>
    onEvent({ time: new Date().toISOString(), event: 'warning', code, message });
  const linkDelays = o.linkDelaysFile ? await readLinkDelays(o.linkDelaysFile) : undefined;
  const hosts = o.hosts ?? ['127.0.0.1'];
  const port = o.port ?? o.network.preset?.defaultPort ?? 3001;

  // --- inputs -------------------------------------------------------------------------------
  const file = o.topologyFile;
  let parsed: ParsedTopology | undefined;
  let topology: Topology;
  if (file) {
    parsed = await readTopologyFile(file);
    const first = errorsOf(parsed)[0];
    if (first) throw new InputError(first.code, `${file}: ${first.path}: ${first.message}`, { hint: first.fix });
    topology = parsed.topology;
  } else {
    topology = presetRelayTopology(o.network.name);
  }
  const role = file ? guessRole(topology) : 'relay';
  const cfg: NodeConfig | undefined = o.configFile
    ? await loadNodeConfig(o.configFile, { role, ...(o.signal ? { signal: o.signal } : {}) })
    : undefined;
  const settings = cfg ?? defaultNodeSettings(role);
  const pools = 'pools' in o.registry ? o.registry.pools : (await loadRegistry(o.registry)).pools;

  const showLint = (p: ParsedTopology, path: string): void => {
    const lint = lintTopology(p, {
      role,
      ...(cfg ? { config: nodeConfigFacts(cfg) } : {}),
      network: o.network.name,
    });
    for (const f of lint.findings) if (f.severity !== 'info') warn(f.code, `${path}: ${f.path}: ${f.message}`);
  };
  if (parsed && file) showLint(parsed, file);

  let nodeRef: LiveNode | undefined;
  // --- metrics --------------------------------------------------------------------------------
  let metricsServer: MetricsServer | undefined;
  let publisher: NodeMetricsPublisher | undefined;
  if (o.metricsPort !== undefined) {
    // every scrape sees the counters of that moment, not of the last second's tick
    const prom = new ScrapeTimeRegistry(() => {
      if (nodeRef) publisher?.update(nodeRef.counters());
    });
    publisher = new NodeMetricsPublisher(prom, { names: o.metricsNames ?? 'new' });
    metricsServer = await startMetricsServer({ registry: prom, port: o.metricsPort });
  }

  // --- the control endpoint (spo peers) -------------------------------------------------------
  // an explicit path that cannot be opened is an error; the default one only a warning
  let control: ControlServer | undefined;
  if (o.control !== false || o.controlPath !== undefined) {
    const controlPath = o.controlPath ?? defaultControlPath({ topologyFile: file });
    try {
      control = await startControlServer({
        path: controlPath,
        snapshot: () => {
          if (!nodeRef) throw new SpoError('NOT_STARTED', 'the node is starting');
          return nodeRef.snapshot();
        },
      });
    } catch (e) {
      if (o.controlPath !== undefined) {
        await metricsServer?.close();
        throw e;
      }
      warn('CONTROL_UNAVAILABLE', `no control endpoint for spo peers: ${(e as Error).message}`);
    }
  }

  // --- the node -------------------------------------------------------------------------------
  const dns = o.resolver ? undefined : new DnsResolver(o.dns);
  const resolver = o.resolver ?? nodeResolver(dns as DnsResolver);
  let node: LiveNode;
  try {
    node = await startLiveNode({
      ...o.node,
      ...(o.clock ? { clock: o.clock } : {}),
      network: o.network.name,
      magic: o.network.magic,
      role,
      hosts,
      port,
      initiatorOnly: o.initiatorOnly === true,
      settings,
      topology,
      pools,
      resolver,
      ...(publisher ? { metrics: publisher } : {}),
      ...(metricsServer ? { metricsUrl: metricsServer.url } : {}),
      ...(linkDelays ? { linkDelays } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      onEvent,
      ...(control ? { controlPath: control.path } : {}),
    });
    nodeRef = node;
  } catch (e) {
    await control?.close();
    await metricsServer?.close();
    dns?.close();
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE' || err.code === 'EADDRNOTAVAIL' || err.code === 'EACCES')
      throw new InputError('LISTEN_FAILED', `cannot listen on ${hosts.join(',')}:${port}: ${err.code}`, {
        hint:
          err.code === 'EADDRINUSE'
            ? 'the port is taken (a cardano-node on it?); choose another with --port (0 = any free port)'
            : 'check --host',
      });
    throw e;
  }

  // --- snapshots ------------------------------------------------------------------------------
  let snapshots: Timer | undefined;
  let ended = false;
  const everyMs = o.snapshotEveryMs ?? 0;
  if (o.onSnapshot && everyMs > 0) {
    const onSnapshot = o.onSnapshot;
    const next = (): void => {
      snapshots = clock.setTimer(everyMs, () => {
        if (ended) return;
        onSnapshot(node.snapshot());
        next();
      });
    };
    next();
  }

  // --- reload (SIGHUP) ------------------------------------------------------------------------
  const reload = async (): Promise<void> => {
    if (!file) {
      warn('SIGHUP_NO_TOPOLOGY', 'SIGHUP: no --topology to re-read; nothing changed');
      return;
    }
    let p: ParsedTopology;
    try {
      p = await readTopologyFile(file);
    } catch (e) {
      warn('TOPOLOGY_READ', `SIGHUP: ${(e as Error).message}; the old topology stays in use`);
      return;
    }
    const first = errorsOf(p)[0];
    if (first) {
      warn(first.code, `SIGHUP: ${file}: ${first.path}: ${first.message}; the old topology stays in use`);
      return;
    }
    showLint(p, file);
    node.reloadTopology(p.topology);
  };

  // --- the end: the node first, then what served it, in reverse order of starting -------------
  const closed = node.closed.then(async () => {
    ended = true;
    snapshots?.cancel();
    await control?.close();
    await metricsServer?.close();
    dns?.close();
  });
  return {
    node,
    metricsUrl: metricsServer?.url,
    controlPath: control?.path,
    snapshot: () => node.snapshot(),
    reload,
    close: async (reason?: string) => {
      await node.close(reason);
      await closed;
    },
    closed,
  };
}
