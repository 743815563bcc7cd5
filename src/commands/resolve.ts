import { Args, Flags } from '@oclif/core';
import { SpoCommand } from '../base-command.js';
import { dnsFlags, dnsOptions } from '../dns/flags.js';
import { DnsResolver } from '../dns/index.js';
import { type NameResult, type ResolveSummary, resolveName, summarize } from '../dns/name-results.js';
import { formatEndpoint } from '../lib/address.js';
import { ExitCode, UsageError } from '../lib/errors.js';
import { renderResults } from '../ui/dns-report.js';

export interface ResolveJson {
  servers: string[];
  family: 'ipv4' | 'ipv6' | 'both';
  names: NameResult[];
  summary: ResolveSummary;
}

export default class Resolve extends SpoCommand {
  static override summary = 'Resolve names to addresses (A, AAAA, SRV) with their TTLs, the way cardano-node does.';
  static override description =
    `Looks names up with spo's own DNS client: A and AAAA concurrently (or one family with --ipv4-only/--ipv6-only), CNAME chains followed, and SRV names (a name starting with _ or given with --srv) by the CIP-0155 rule: _cardano._tcp. is prefixed to a bare name, "." targets are dropped, the lowest priority group is kept and one target is drawn by weight (--whole-group shows every target). TTLs are shown clipped to [60, 900] s as the node uses them, next to the raw TTL.

Servers come from /etc/resolv.conf unless --dns-server is given; localhost names are the loopback addresses (RFC 6761) and are not asked. Exit code 0 when every name resolved, 1 otherwise.`;
  static override examples = [
    '<%= config.bin %> resolve relays.example.com',
    '<%= config.bin %> resolve relays.example.com --ipv4-only --dns-server 1.1.1.1',
    '<%= config.bin %> resolve --srv relays.example.com',
    '<%= config.bin %> resolve _cardano._tcp.relays.example.com --whole-group --json',
  ];
  static override strict = false;
  static override args = {
    name: Args.string({ description: 'names to resolve (a name starting with _ is an SRV name)', required: true }),
  };
  static override flags = {
    ...dnsFlags,
    srv: Flags.boolean({ description: 'look the names up as SRV (CIP-0155: _cardano._tcp. is prefixed)' }),
    'whole-group': Flags.boolean({
      description: 'SRV: resolve every target of the lowest priority group, not one weighted choice',
    }),
    concurrency: Flags.integer({ description: 'DNS queries in flight at once', default: 8, min: 1, max: 256 }),
  };

  async run(): Promise<ResolveJson> {
    const { argv, flags } = await this.parse(Resolve);
    const names = (argv as string[]).map((n) => n.trim()).filter((n) => n !== '');
    if (names.length === 0) {
      throw new UsageError('USAGE', 'no name to resolve', {
        hint: 'give one or more names, e.g. spo resolve relays.example.com',
      });
    }
    const { resolver: options, family } = dnsOptions(flags);
    const resolver = new DnsResolver({ ...options, concurrency: flags.concurrency });
    const results = await Promise.all(
      names.map((name) => {
        const srv = flags.srv || name.startsWith('_');
        return resolveName(resolver, name, {
          srv,
          family,
          wholeGroup: flags['whole-group'],
          // a name that starts with _ already names its service: query it as given
          asIs: name.startsWith('_'),
          signal: this.signal,
        });
      }),
    );
    const summary = summarize(results);
    this.out(renderResults(results, this.c));
    if (summary.resolved !== summary.names) process.exitCode = ExitCode.failed;
    return { servers: resolver.servers.map(formatEndpoint), family, names: results, summary };
  }
}
