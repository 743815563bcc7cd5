/**
 * The argument list of `spo run` for the e2e tests and the soak bench, which each started a node
 * with a hand-written list of the same flags. Only what a caller names is passed, except `--port 0`
 * (any free port) and `--json` (every caller reads the node's JSON lines), so each test's call
 * still shows the settings that matter to it.
 */

export interface SpoRunArgs {
  /** --topology: the topology file. */
  topology: string;
  /** --magic: the network magic the producers on loopback speak. */
  magic: number;
  /** --source: the registry file (ledger peers). */
  source: string;
  /** --config: a cardano-node config file (the governor's targets). */
  config?: string;
  /** --control: the control socket (default: next to the topology file). */
  control?: string;
  /** --dns-server: the resolver for names in the topology. */
  dnsServer?: string;
  /** --host: the address to listen on. */
  host?: string;
  /** --port (default 0: any free port). */
  port?: number;
  /** --allow-empty: a registry without pools is accepted. */
  allowEmpty?: boolean;
  /** --allow-private-peers: loopback and private addresses are kept as peers. */
  allowPrivatePeers?: boolean;
  /** --peer-share-delay, e.g. '1s'. */
  peerShareDelay?: string;
  /** --churn-interval, e.g. '5s'. */
  churnInterval?: string;
  /** --snapshot-interval, e.g. '200ms'. */
  snapshotInterval?: string;
  /** --seed of the node's random choices. */
  seed?: number;
  /** --metrics-port (0: any free port). */
  metricsPort?: number;
  /** --json (default true). */
  json?: boolean;
}

/** `['run', '--topology', ..., '--json']` for bin/run.js. */
export function spoRunArgs(o: SpoRunArgs): string[] {
  const flag = (name: string, value: string | number | undefined): string[] =>
    value === undefined ? [] : [name, String(value)];
  const on = (name: string, set: boolean | undefined): string[] => (set === true ? [name] : []);
  return [
    'run',
    ...flag('--topology', o.topology),
    ...flag('--config', o.config),
    ...flag('--control', o.control),
    ...flag('--dns-server', o.dnsServer),
    ...flag('--host', o.host),
    ...flag('--port', o.port ?? 0),
    ...flag('--magic', o.magic),
    ...flag('--source', o.source),
    ...on('--allow-empty', o.allowEmpty),
    ...on('--allow-private-peers', o.allowPrivatePeers),
    ...flag('--peer-share-delay', o.peerShareDelay),
    ...flag('--churn-interval', o.churnInterval),
    ...flag('--snapshot-interval', o.snapshotInterval),
    ...flag('--seed', o.seed),
    ...flag('--metrics-port', o.metricsPort),
    ...on('--json', o.json ?? true),
  ];
}
