/**
 * The stake pool registry from any source, as one normalised model (src/registry/model.ts).
 * Files and the embedded snapshot are parsed here; the HTTP sources (Koios, Blockfrost) are imported
 * lazily so that offline commands never load undici.
 */
import { SpoError, UsageError } from '../lib/errors.js';
import type { NetworkSelection } from '../lib/networks.js';
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
import { type ParsedSource, parseSnapshot, snapshotFormat } from './snapshot.js';
import { isSpoJson, parseSpoJson } from './spo-json.js';

export type { Pool, Registry, RegistryFinding, Relay, RelayKind } from './model.js';
export { bigLedgerCut, sortByStake } from './stake.js';

/** Progress of a long source (HTTP): what is being done and, when known, how far. */
export interface RegistryProgress {
  phase: string;
  done?: number;
  total?: number;
}

export interface LoadRegistryOptions {
  /** `embedded` | `koios` | `blockfrost` | a file path | `-` (standard input). */
  source: string;
  network: NetworkSelection;
  koiosUrl?: string | undefined;
  koiosToken?: string | undefined;
  blockfrostUrl?: string | undefined;
  blockfrostProjectId?: string | undefined;
  /** cardano-cli `query stake-snapshot` JSON giving stake weights to a pool-state source. */
  stakeSnapshot?: string | undefined;
  /** Total time allowed for an HTTP source, in ms (default 120 s Koios, 15 min Blockfrost). */
  timeoutMs?: number | undefined;
  /** Blockfrost request rate (default 10/s). */
  requestsPerSecond?: number | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((p: RegistryProgress) => void) | undefined;
  /** Standard input, for source `-` (tests). */
  stdin?: NodeJS.ReadableStream | undefined;
  /** undici dispatcher for the HTTP sources (tests inject short keep-alive agents). */
  dispatcher?: unknown;
}

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
  } else if (source === 'blockfrost') {
    if (options.stakeSnapshot) throw stakeOnlyForFiles();
    const { loadBlockfrost } = await import('./blockfrost.js');
    reg = finishRegistry(await loadBlockfrost(options), 'blockfrost', network);
  } else {
    const label = source === '-' ? '(stdin)' : source;
    if (source === '-' && options.stakeSnapshot === '-') {
      throw new UsageError('USAGE', '--source - and --stake-snapshot - cannot both read standard input', {
        hint: 'give the stake snapshot as a file: --stake-snapshot stake-snapshot.json',
      });
    }
    if (source === '-' && options.stdin === undefined && process.stdin.isTTY) {
      throw new UsageError('USAGE', '--source - reads standard input, but it is a terminal', {
        hint: 'pipe the file in, e.g. cardano-cli query pool-state --all-stake-pools --mainnet | spo relays list --source -',
      });
    }
    const text = await readInput(source, options.stdin);
    options.signal?.throwIfAborted();
    const parsed = parseRegistryDocument(parseJsonText(stripBom(text), label), label);
    if (options.stakeSnapshot) {
      const stakeText = await readInput(options.stakeSnapshot, options.stdin);
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

/** A UTF-8 byte order mark, as Windows editors write it, is not part of the JSON (JSON.parse refuses it). */
function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function stakeOnlyForFiles(): UsageError {
  return new UsageError('USAGE', '--stake-snapshot only applies to a cardano-cli pool-state file given with --source', {
    hint: 'e.g. spo relays list --source pool-state.json --stake-snapshot stake-snapshot.json',
  });
}
