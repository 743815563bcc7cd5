import { Flags } from '@oclif/core';
import { SpoCommand } from '../../base-command.js';
import { counted } from '../../lib/plural.js';
import { printable } from '../../lib/sanitize.js';
import { countByKind, selectMatchingPools } from '../../registry/filter.js';
import { poolSelectionFlags, registryFlags, registryOptions } from '../../registry/flags.js';
import type { Pool, RegistryFinding, RelayKind } from '../../registry/model.js';
import { findingsSummary } from '../../ui/registry-findings.js';
import { loadRegistryWithProgress } from '../../ui/registry-progress.js';
import { renderTable } from '../../ui/table.js';

export interface RelaysListJson {
  source: string;
  format?: string;
  network?: string;
  slot?: number;
  summary: {
    pools: number;
    relays: number;
    byKind: Record<RelayKind, number>;
    totalPools: number;
    findings: Record<string, number>;
  };
  pools: Pool[];
  findings: RegistryFinding[];
}

/** The line above the table: what it shows, in words. */
export const RELAYS_LIST_CAPTION =
  "Relays the pools registered, largest pools first (STAKE: the pool's share of all stake; FLAGS: hygiene findings)";

interface Row {
  pool: Pool;
  kind: RelayKind;
  address: string;
  port: number | undefined;
  flags: string;
}

export default class RelaysList extends SpoCommand {
  static override summary = "List the stake pool registry's relays: pool, ticker, stake, kind, address, port, flags.";
  static override description =
    `Reads the registry from a source (the embedded mainnet big-ledger snapshot by default, offline), checks it (hygiene: unspecified, loopback, private and link-local addresses, port 0, malformed names, upper-case names, endpoints shared by several pools, duplicates) and prints one row per relay, largest pools first.

Hygiene is reported, not silently applied: every relay keeps its flags, and a summary of the findings goes to standard error (all of them with --json). Sources: embedded, koios, blockfrost, or a file (any peer snapshot version, cardano-cli pool-state/pool-params JSON, spo JSON; - for standard input). Peer snapshots carry no pool ids: their pools are named #1, #2... by position.`;
  static override examples = [
    '<%= config.bin %> relays list --top 20',
    '<%= config.bin %> relays list --kind srv',
    '<%= config.bin %> relays list --source mainnet-peer-snapshot.json --json',
    '<%= config.bin %> relays list --source koios --ticker IOG1 --ticker BLOOM',
    'cardano-cli query pool-state --all-stake-pools --mainnet | <%= config.bin %> relays list --source - --stake-snapshot stake.json',
    'BLOCKFROST_PROJECT_ID=... <%= config.bin %> relays list --source blockfrost --network preprod',
  ];
  static override flags = {
    ...registryFlags,
    ...poolSelectionFlags,
    kind: Flags.string({ description: 'only relays of this kind', options: ['ipv4', 'ipv6', 'dns', 'srv'] }),
    flagged: Flags.boolean({ description: 'only relays with a hygiene flag' }),
  };

  async run(): Promise<RelaysListJson> {
    const { flags } = await this.parse(RelaysList);
    const reg = await loadRegistryWithProgress(registryOptions(flags, this.network, this.signal), this.progress());
    let pools = selectMatchingPools(
      reg.pools,
      { pools: flags.pool, tickers: flags.ticker, kind: flags.kind as RelayKind | undefined, top: flags.top },
      reg.source,
    );
    if (flags.flagged) {
      pools = pools
        .map((p) => ({ ...p, relays: p.relays.filter((r) => r.flags.length > 0) }))
        .filter((p) => p.relays.length > 0);
    }
    const byCode: Record<string, number> = {};
    for (const f of reg.findings) byCode[f.code] = (byCode[f.code] ?? 0) + 1;
    const byKind = countByKind(pools);
    const relays = byKind.ipv4 + byKind.ipv6 + byKind.dns + byKind.srv;
    if (!this.jsonEnabled()) {
      const rows: Row[] = [];
      for (const p of pools) {
        for (const r of p.relays)
          rows.push({ pool: p, kind: r.kind, address: r.host, port: r.port, flags: r.flags.join(',') });
      }
      const c = this.c;
      // The first line a newcomer sees (npm start): what the table is, before its header.
      this.out(c.dim(RELAYS_LIST_CAPTION));
      this.out(
        renderTable(
          rows,
          [
            { header: 'POOL', get: (r) => printable(shortId(r.pool.id)) },
            { header: 'TICKER', get: (r) => (r.pool.ticker === undefined ? undefined : printable(r.pool.ticker)) },
            { header: 'STAKE', get: (r) => formatStake(r.pool.stake), align: 'right' },
            { header: 'KIND', get: (r) => r.kind },
            { header: 'ADDRESS', get: (r) => printable(r.address) },
            { header: 'PORT', get: (r) => r.port, align: 'right' },
            {
              header: 'FLAGS',
              get: (r) => r.flags || '',
              style: (t, r) =>
                r.flags === ''
                  ? t
                  : /private|loopback|unspecified|invalid|malformed|link-local|reserved|documentation|multicast|shared-address/.test(
                        r.flags,
                      )
                    ? c.fail(t)
                    : c.dim(t),
            },
          ],
          (h) => c.bold(h),
        ),
      );
      const err = this.stderrPalette();
      const where = `${printable(reg.source)}${reg.slot === undefined ? '' : ` (slot ${reg.slot})`}`;
      process.stderr.write(
        `${err.dim(`${pools.length} of ${counted(reg.pools.length, 'pool')}, ${counted(relays, 'relay')} (${byKind.dns} dns, ${byKind.ipv4} ipv4, ${byKind.ipv6} ipv6, ${byKind.srv} srv) from ${where}`)}\n`,
      );
      for (const line of findingsSummary(byCode, reg.pools.length)) process.stderr.write(`${err.dim(line)}\n`);
    }
    const out: RelaysListJson = {
      source: reg.source,
      summary: { pools: pools.length, relays, byKind, totalPools: reg.pools.length, findings: byCode },
      pools,
      findings: reg.findings,
    };
    if (reg.format !== undefined) out.format = reg.format;
    if (reg.network !== undefined) out.network = reg.network;
    if (reg.slot !== undefined) out.slot = reg.slot;
    return out;
  }
}

/** pool1abcd…wxyz: enough to tell pools apart in a table (the full id is in --json). */
function shortId(id: string): string {
  return id.length > 20 ? `${id.slice(0, 12)}…${id.slice(-6)}` : id;
}

function formatStake(stake: number | undefined): string | undefined {
  return stake === undefined ? undefined : `${(stake * 100).toFixed(3)}%`;
}
