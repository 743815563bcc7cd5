/**
 * Writers for `spo relays export`: peer snapshot v2, the NodeToClientVersion form, spo JSON and CSV.
 * Pure: they take a registry and return text plus what they left out (reported by the command).
 */

import { csvField } from '../lib/csv.js';
import { SpoError } from '../lib/errors.js';
import { counted } from '../lib/plural.js';
import { isUsable, type Pool, type Registry, type RegistryFinding, type Relay } from './model.js';
import { ORIGIN } from './snapshot.js';
import { bigLedgerCut, sortByStake } from './stake.js';

export const EXPORT_FORMATS = ['snapshot-v2', 'snapshot-n2c', 'json', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The NodeToClientVersion written in the N2C form (that of cardano-node's shipped snapshot). */
export const N2C_VERSION = 23;

export interface ExportOptions {
  format: ExportFormat;
  /** `big`: the 90% cumulative-stake cut; `all`: every pool. */
  scope: 'big' | 'all';
  /** Keep relays the node cannot use (private, loopback, port 0...). Default: dropped from snapshots. */
  keepUnusable?: boolean;
  networkMagic: number;
}

export interface ExportResult {
  text: string;
  pools: number;
  relays: number;
  /** What was left out or assumed, to be reported. */
  findings: RegistryFinding[];
}

export function exportRegistry(reg: Registry, options: ExportOptions): ExportResult {
  const findings: RegistryFinding[] = [];
  const snapshot = options.format === 'snapshot-v2' || options.format === 'snapshot-n2c';
  if (snapshot || options.scope === 'big') {
    const unknown = reg.pools.filter((p) => p.stake === undefined);
    if (unknown.length > 0) {
      throw new SpoError(
        'STAKE_UNKNOWN',
        `${reg.source}: stake is unknown for ${counted(unknown.length, 'pool')} (e.g. ${unknown[0]?.id})`,
        {
          hint: 'a peer snapshot and --big-ledger need stake weights: add --stake-snapshot FILE (cardano-cli query stake-snapshot) or use another source',
        },
      );
    }
  }
  let pools = options.scope === 'big' ? bigLedgerCut(reg.pools) : sortByStake(reg.pools);
  if (snapshot) {
    // the node reads a pool's relays as a non-empty list: a pool with none left cannot be written
    let dropped = 0;
    const kept: Pool[] = [];
    for (const p of pools) {
      const relays = options.keepUnusable ? p.relays : p.relays.filter(isUsable);
      dropped += p.relays.length - relays.length;
      if (relays.length > 0) kept.push({ ...p, relays });
      else {
        findings.push({
          code: 'pool-left-out',
          severity: 'warning',
          pool: p.id,
          message: `pool ${p.id} has no ${p.relays.length === 0 ? '' : 'usable '}relay and was left out`,
        });
      }
    }
    if (dropped > 0) {
      findings.push({
        code: 'unusable-dropped',
        severity: 'warning',
        message: `${dropped} unusable relays (private, loopback, unspecified, port 0, malformed...) were left out; --keep-unusable keeps them`,
      });
    }
    pools = kept;
  }
  const relays = pools.reduce((n, p) => n + p.relays.length, 0);
  let text: string;
  switch (options.format) {
    case 'snapshot-v2':
      text = `${JSON.stringify(
        {
          [options.scope === 'big' ? 'bigLedgerPools' : 'allLedgerPools']: snapshotPools(pools, options.scope),
          slotNo: reg.slot ?? ORIGIN,
          version: 2,
        },
        null,
        2,
      )}\n`;
      if (reg.slot === undefined) findings.push(noSlot(reg));
      break;
    case 'snapshot-n2c': {
      const point =
        reg.slot !== undefined && reg.blockHash !== undefined
          ? { blockPointHash: reg.blockHash, blockPointSlot: reg.slot }
          : ORIGIN;
      if (point === ORIGIN) findings.push(noSlot(reg));
      text = `${JSON.stringify(
        {
          NetworkMagic: options.networkMagic,
          NodeToClientVersion: N2C_VERSION,
          Point: point,
          [options.scope === 'big' ? 'bigLedgerPools' : 'allLedgerPools']: snapshotPools(pools, options.scope),
        },
        null,
        2,
      )}\n`;
      break;
    }
    case 'json':
      text = `${JSON.stringify(registryJson(reg, pools), null, 2)}\n`;
      break;
    case 'csv':
      text = toCsv(pools);
      break;
  }
  return { text, pools: pools.length, relays, findings };
}

function noSlot(reg: Registry): RegistryFinding {
  return {
    code: 'no-point',
    severity: 'warning',
    message: `${reg.source} gives no chain point (slot and block hash); the snapshot says "origin", so a node cannot tell how fresh it is`,
  };
}

function snapshotPools(pools: readonly Pool[], scope: 'big' | 'all'): unknown[] {
  let acc = 0;
  return pools.map((p) => {
    const stake = p.stake ?? 0;
    acc += stake;
    const relays = p.relays.map(snapshotRelay);
    return scope === 'big' ? { accumulatedStake: acc, relativeStake: stake, relays } : { relativeStake: stake, relays };
  });
}

/** v2/N2C relay: `{address, port}`; an SRV relay is `{address}` alone. */
function snapshotRelay(r: Relay): { address: string; port?: number } {
  return r.kind === 'srv' || r.port === undefined ? { address: r.host } : { address: r.host, port: r.port };
}

/** The JSON document of `spo relays export --format json` (also readable back with --source). */
export function registryJson(reg: Registry, pools: readonly Pool[] = reg.pools): Record<string, unknown> {
  const out: Record<string, unknown> = { source: reg.source };
  if (reg.format !== undefined) out.format = reg.format;
  if (reg.network !== undefined) out.network = reg.network;
  if (reg.slot !== undefined) out.slot = reg.slot;
  out.pools = pools;
  out.findings = reg.findings;
  return out;
}

const CSV_HEADER = 'pool,ticker,stake,status,kind,host,port,flags';

export function toCsv(pools: readonly Pool[]): string {
  const lines = [CSV_HEADER];
  for (const p of pools) {
    for (const r of p.relays) {
      lines.push(
        [p.id, p.ticker, p.stake, p.status, r.kind, r.host, r.port, r.flags.join(' ')].map(csvField).join(','),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
