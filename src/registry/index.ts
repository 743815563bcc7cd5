/**
 * The stake pool registry from any source, as one normalised model (src/registry/model.ts).
 * Files and the embedded snapshot are parsed here; the HTTP sources (Koios, Blockfrost) are imported
 * lazily so that offline commands never load undici.
 */

import { InputError, SpoError } from '../lib/errors.js';
import type { NetworkSelection } from '../lib/networks.js';
import { counted } from '../lib/plural.js';
import { parseJsonText, readInput } from '../lib/read-input.js';
import {
  isPoolState,
  isStakeSnapshot,
  parsePoolState,
  parseStakeSnapshot,
  stakeSnapshotAsSourceError,
} from './cardano-cli.js';
import { readEmbedded } from './embedded.js';
import { applyHygiene } from './hygiene.js';
import type { Registry } from './model.js';
import type { LoadRegistryOptions } from './options.js';
import { type ParsedSource, parseSnapshot, snapshotFormat } from './snapshot.js';
import { isSpoJson, parseSpoJson } from './spo-json.js';

export type { Pool, Registry, RegistryFinding, Relay, RelayKind } from './model.js';
export type { LoadRegistryOptions, RegistryProgress } from './options.js';
export { bigLedgerCut, sortByStake } from './stake.js';

export type SourceKind = ParsedSource['format'];

/** Detects what a parsed JSON document is and parses it (throws a one-line error naming the file otherwise). */
export function parseRegistryDocument(doc: unknown, file: string): ParsedSource {
  if (snapshotFormat(doc, file)) return parseSnapshot(doc, file);
  if (isSpoJson(doc)) return parseSpoJson(doc, file);
  if (isStakeSnapshot(doc)) throw stakeSnapshotAsSourceError(file);
  if (isPoolState(doc)) return parsePoolState(doc, file);
  throw new SpoError(
    'REGISTRY_FORMAT',
    `${file}: not a registry file (expected a peer snapshot, or cardano-cli pool-state/pool-params JSON)`,
    {
      hint: 'give a file from cardano-cli query ledger-peer-snapshot, query pool-state --all-stake-pools, or spo relays export --format json',
      details: { file },
    },
  );
}

/** Finishes a parsed source: hygiene, stake weights, network. */
export function finishRegistry(parsed: ParsedSource, source: string, network?: NetworkSelection): Registry {
  const { pools, findings } = applyHygiene(parsed.pools);
  const { findings: early, ...rest } = parsed;
  const reg: Registry = { ...rest, source, pools, findings: [...(early ?? []), ...findings] };
  if (reg.network === undefined && network) reg.network = network.name;
  return reg;
}

export async function loadRegistry(options: LoadRegistryOptions): Promise<Registry> {
  const { source, network } = options;
  let reg: Registry;
  if (source === 'embedded') {
    if (options.stakeSnapshot) throw stakeOnlyForFiles();
    const { doc, label } = readEmbedded(network);
    reg = finishRegistry(parseSnapshot(doc, label), label, network);
  } else if (source === 'koios') {
    if (options.stakeSnapshot) throw stakeOnlyForFiles();
    const { loadKoios } = await import('./koios.js');
    reg = finishRegistry(await loadKoios(options), 'koios', network);
    if (!options.allowEmpty) checkComplete(reg, `Koios (${options.koiosUrl ?? network.preset?.koiosUrl})`, network);
  } else if (source === 'blockfrost') {
    if (options.stakeSnapshot) throw stakeOnlyForFiles();
    const { loadBlockfrost } = await import('./blockfrost.js');
    reg = finishRegistry(await loadBlockfrost(options), 'blockfrost', network);
    if (!options.allowEmpty) {
      checkComplete(reg, `Blockfrost (${options.blockfrostUrl ?? network.preset?.blockfrostUrl})`, network);
    }
  } else {
    const label = source === '-' ? '(stdin)' : source;
    if (source === '-' && options.stakeSnapshot === '-') {
      throw new InputError('USAGE', '--source - and --stake-snapshot - cannot both read standard input', {
        hint: 'give the stake snapshot as a file: --stake-snapshot stake-snapshot.json',
      });
    }
    if (source === '-' && options.stdin === undefined && process.stdin.isTTY) {
      throw new InputError('USAGE', '--source - reads standard input, but it is a terminal', {
        hint: 'pipe the file in, e.g. cardano-cli query pool-state --all-stake-pools --mainnet | spo relays list --source -',
      });
    }
    const text = await readInput(source, { stdin: options.stdin, signal: options.signal });
    options.signal?.throwIfAborted();
    const parsed = parseRegistryDocument(parseJsonText(stripBom(text), label), label);
    if (options.stakeSnapshot) {
      const stakeText = await readInput(options.stakeSnapshot, { stdin: options.stdin, signal: options.signal });
      const stakes = parseStakeSnapshot(
        parseJsonText(stripBom(stakeText), options.stakeSnapshot),
        options.stakeSnapshot,
      );
      for (const p of parsed.pools) p.stake = stakes.get(p.id) ?? 0;
    }
    reg = finishRegistry(parsed, source, network);
  }
  if (reg.networkMagic !== undefined && reg.networkMagic !== network.magic && source !== 'koios') {
    reg.findings.push({
      code: 'network-mismatch',
      severity: 'warning',
      message: `${reg.source} is for network magic ${reg.networkMagic}, but the selected network is ${network.name} (${network.magic})`,
    });
  }
  return reg;
}

/**
 * The fewest pools a complete registry of a network can hold: half the big ledger pools of its
 * embedded snapshot (every big ledger pool is registered, and pools do not retire by the hundred);
 * 1 for a network without one.
 */
export function minimumPools(network: NetworkSelection): number {
  try {
    const { doc, label } = readEmbedded(network);
    return Math.max(1, Math.floor(parseSnapshot(doc, label).pools.length / 2));
  } catch {
    return 1;
  }
}

/**
 * A network source (Koios, Blockfrost) that answers with nothing, or with far fewer pools than its
 * network has, is broken, lagging or for another network: an error, so that it never replaces good
 * data (`relays export --out`) or makes a topology without public roots. `--allow-empty` accepts it.
 */
function checkComplete(reg: Registry, where: string, network: NetworkSelection): void {
  const hint =
    'the source may be broken, not synced, or for another network: check its URL and --network, or give --allow-empty to use it anyway';
  const relays = reg.pools.reduce((n, p) => n + p.relays.length, 0);
  const details = { source: reg.source, pools: reg.pools.length, relays };
  if (reg.pools.length === 0) {
    throw new SpoError('REGISTRY_EMPTY', `${where}: the registry is empty (0 pools)`, { hint, details });
  }
  if (relays === 0) {
    throw new SpoError('REGISTRY_EMPTY', `${where}: ${counted(reg.pools.length, 'pool')} and not one relay`, {
      hint,
      details,
    });
  }
  const minimum = minimumPools(network);
  if (reg.pools.length < minimum) {
    const n = reg.pools.length;
    throw new SpoError(
      'REGISTRY_TOO_SMALL',
      `${where}: ${counted(n, 'pool')}, fewer than any full ${network.name} registry has (at least ${minimum}: half the big ledger pools of the embedded snapshot)`,
      { hint, details: { ...details, minimum } },
    );
  }
}

/** A UTF-8 byte order mark, as Windows editors write it, is not part of the JSON (JSON.parse refuses it). */
function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function stakeOnlyForFiles(): InputError {
  return new InputError('USAGE', '--stake-snapshot only applies to a cardano-cli pool-state file given with --source', {
    hint: 'e.g. spo relays list --source pool-state.json --stake-snapshot stake-snapshot.json',
  });
}
