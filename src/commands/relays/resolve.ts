import { Flags } from '@oclif/core';
import { SpoCommand } from '../../base-command.js';
import { dnsFlags, dnsOptions } from '../../dns/flags.js';
import { DnsResolver } from '../../dns/index.js';
import { type NameResult, type ResolveSummary, resolveName, summarize } from '../../dns/name-results.js';
import { formatEndpoint } from '../../lib/address.js';
import { ExitCode } from '../../lib/errors.js';
import { counted } from '../../lib/plural.js';
import { selectMatchingPools } from '../../registry/filter.js';
import { poolSelectionFlags, registryFlags, registryOptions } from '../../registry/flags.js';
import { resolvedAddressFlag } from '../../registry/hygiene.js';
import { type RelayNameView, renderRelayResults } from '../../ui/dns-report.js';
import { loadRegistryWithProgress } from '../../ui/registry-progress.js';

export interface RelaysResolveJson {
  source: string;
  network?: string;
  servers: string[];
  family: 'ipv4' | 'ipv6' | 'both';
  /** Relays registered as IP addresses: nothing to resolve. */
  ipRelays: number;
  /** Each address that is not usable as a public peer carries `unusable` (its hygiene flag: `loopback`, `private`...). */
  names: Array<RelayNameView & Pick<NameResult, 'name'>>;
  /** `unusable`: names resolving to at least one address not usable as a public peer. */
  summary: ResolveSummary & { unusable: number };
}

export default class RelaysResolve extends SpoCommand {
  static override summary = "Resolve the registry's relay names (DNS and SRV) the way cardano-node does, with TTLs.";
  static override description =
    `Reads the registry from a source (the embedded snapshot by default), takes every relay registered as a DNS name or an SRV name (each name once; of the pools chosen with --pool, --ticker or --top, where a filter that matches nothing is an error) and resolves it with spo's DNS client: A and AAAA concurrently, SRV names under _cardano._tcp. (CIP-0155) with the lowest priority group and a weighted choice (--whole-group for every target). Each name is shown with all its addresses, record type, TTL (clipped to [60, 900] s as the node, and raw) and time taken, then a summary: resolved, NXDOMAIN, failed, timed out. An address not usable as a public peer (loopback, private, link-local, unspecified, documentation...) is flagged in NOTE and counted, as a relay registered with that address literally would be: the node cannot reach a pool there.

At most --concurrency queries are in flight (8, as the node). Exit code 0 when every name resolved, 1 otherwise.`;
  static override examples = [
    '<%= config.bin %> relays resolve',
    '<%= config.bin %> relays resolve --network preprod --dns-server 127.0.0.1:5353',
    '<%= config.bin %> relays resolve --source mainnet-peer-snapshot.json --ipv4-only --json',
    '<%= config.bin %> relays resolve --source koios --ticker MYPOOL   # the names my pool registered',
  ];
  static override flags = {
    ...registryFlags,
    ...poolSelectionFlags,
    ...dnsFlags,
    'whole-group': Flags.boolean({
      description: 'SRV: resolve every target of the lowest priority group, not one weighted choice',
    }),
    concurrency: Flags.integer({ description: 'DNS queries in flight at once', default: 8, min: 1, max: 256 }),
  };

  async run(): Promise<RelaysResolveJson> {
    const { flags } = await this.parse(RelaysResolve);
    const { resolver: options, family } = dnsOptions(flags);
    const progress = this.progress();
    const reg = await loadRegistryWithProgress(registryOptions(flags, this.network, this.signal), progress, {
      continued: true,
    });
    const pools = selectMatchingPools(
      reg.pools,
      { pools: flags.pool, tickers: flags.ticker, top: flags.top },
      reg.source,
    );
    // Each name once, remembering which pools registered it and with which ports.
    const names = new Map<string, { kind: 'dns' | 'srv'; pools: Set<string>; ports: Set<number> }>();
    let ipRelays = 0;
    for (const pool of pools) {
      for (const relay of pool.relays) {
        if (relay.kind === 'ipv4' || relay.kind === 'ipv6') {
          ipRelays++;
          continue;
        }
        const key = `${relay.kind} ${relay.host.toLowerCase()}`;
        let entry = names.get(key);
        if (!entry) {
          entry = { kind: relay.kind, pools: new Set(), ports: new Set() };
          names.set(key, entry);
        }
        entry.pools.add(pool.id);
        if (relay.port !== undefined) entry.ports.add(relay.port);
      }
    }
    const resolver = new DnsResolver({ ...options, concurrency: flags.concurrency });
    const total = names.size;
    let done = 0;
    progress.update(`resolving ${counted(total, 'relay name')}`);
    const results = await Promise.all(
      [...names].map(async ([key, entry]) => {
        const host = key.slice(key.indexOf(' ') + 1);
        const r = await resolveName(resolver, host, {
          srv: entry.kind === 'srv',
          family,
          wholeGroup: flags['whole-group'],
          signal: this.signal,
        });
        done++;
        progress.update(`resolving relay names: ${done}/${total}`);
        // The same hygiene as a literal address: a name pointing at 127.0.0.1 or 10.x is flagged.
        const addresses = r.addresses.map((a) => {
          const unusable = resolvedAddressFlag(a.address);
          return unusable === undefined ? a : { ...a, unusable };
        });
        const view: RelayNameView = {
          ...r,
          addresses,
          kind: entry.kind,
          pools: [...entry.pools],
          ports: [...entry.ports].sort((a, b) => a - b),
        };
        return view;
      }),
    );
    resolver.close();
    const summary = {
      ...summarize(results),
      unusable: results.filter((r) => r.addresses.some((a) => a.unusable !== undefined)).length,
    };
    if (summary.resolved === summary.names) progress.succeed(`${counted(total, 'relay name')} resolved`);
    else progress.fail(`${summary.names - summary.resolved} of ${counted(total, 'relay name')} did not resolve`);
    this.out(renderRelayResults(results, this.c));
    if (summary.resolved !== summary.names) process.exitCode = ExitCode.failed;
    return {
      source: reg.source,
      ...(reg.network === undefined ? {} : { network: reg.network }),
      servers: resolver.servers.map(formatEndpoint),
      family,
      ipRelays,
      names: results,
      summary,
    };
  }
}
