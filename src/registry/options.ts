/** What loading the registry takes (shared by index.ts and the HTTP sources, which index.ts loads lazily). */
import type { NetworkSelection } from '../lib/networks.js';

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
  /** Accept an empty or suspiciously small registry from Koios or Blockfrost (an error otherwise). */
  allowEmpty?: boolean | undefined;
}
