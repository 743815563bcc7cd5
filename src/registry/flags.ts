/** The flags every registry-reading command shares, and their translation to LoadRegistryOptions. */
import { Flags } from '@oclif/core';
import { parseDuration } from '../lib/duration.js';
import type { NetworkSelection } from '../lib/networks.js';
import type { LoadRegistryOptions } from './index.js';

export const registryFlags = {
  source: Flags.string({
    description:
      'where the registry comes from: embedded (offline snapshot, default), koios, blockfrost, or a file (peer snapshot any version, cardano-cli pool-state/pool-params JSON, spo JSON; - for stdin)',
    default: 'embedded',
    helpGroup: 'SOURCE',
  }),
  'stake-snapshot': Flags.string({
    description: 'cardano-cli query stake-snapshot JSON giving stake weights to a pool-state --source file',
    helpGroup: 'SOURCE',
  }),
  'koios-url': Flags.string({
    description: 'Koios API base URL (default: the network preset, e.g. https://api.koios.rest/api/v1)',
    env: 'KOIOS_URL',
    helpGroup: 'SOURCE',
  }),
  'koios-token': Flags.string({
    description: 'Koios bearer token (or KOIOS_TOKEN); never printed',
    env: 'KOIOS_TOKEN',
    helpGroup: 'SOURCE',
  }),
  'blockfrost-url': Flags.string({
    description: 'Blockfrost API base URL (default: the network preset)',
    env: 'BLOCKFROST_URL',
    helpGroup: 'SOURCE',
  }),
  'blockfrost-project-id': Flags.string({
    description: 'Blockfrost project_id (or BLOCKFROST_PROJECT_ID); never printed',
    env: 'BLOCKFROST_PROJECT_ID',
    helpGroup: 'SOURCE',
  }),
  'source-timeout': Flags.string({
    description: 'total time allowed for an HTTP source (Koios default 2m, Blockfrost 15m)',
    helpGroup: 'SOURCE',
  }),
  'allow-empty': Flags.boolean({
    description:
      'accept an empty or suspiciously small registry from koios or blockfrost (by default an error, so a broken source never replaces good data)',
    helpGroup: 'SOURCE',
  }),
};

/**
 * The pool selection every command that reads pools from the registry takes (relays list, probe):
 * one definition, so the text and the rule ("one that matches nothing is an error",
 * selectMatchingPools in filter.ts) are the same everywhere.
 */
export const poolSelectionFlags = {
  pool: Flags.string({
    description:
      'only this pool (bech32 or hex id, or #N for a snapshot position); repeatable; one not in the registry is an error',
    multiple: true,
  }),
  ticker: Flags.string({
    description:
      'only pools with this ticker (case-insensitive; Koios and Blockfrost know tickers, snapshots do not: an error there); repeatable; one that matches no pool is an error',
    multiple: true,
  }),
  top: Flags.integer({ description: 'only the N pools with the most stake', min: 1 }),
};

export interface RegistryFlagValues {
  source: string;
  'stake-snapshot'?: string | undefined;
  'koios-url'?: string | undefined;
  'koios-token'?: string | undefined;
  'blockfrost-url'?: string | undefined;
  'blockfrost-project-id'?: string | undefined;
  'source-timeout'?: string | undefined;
  'allow-empty'?: boolean | undefined;
}

export function registryOptions(
  flags: RegistryFlagValues,
  network: NetworkSelection,
  signal?: AbortSignal,
): LoadRegistryOptions {
  return {
    source: flags.source,
    network,
    koiosUrl: flags['koios-url'],
    koiosToken: flags['koios-token'],
    blockfrostUrl: flags['blockfrost-url'],
    blockfrostProjectId: flags['blockfrost-project-id'],
    stakeSnapshot: flags['stake-snapshot'],
    timeoutMs:
      flags['source-timeout'] === undefined ? undefined : parseDuration(flags['source-timeout'], '--source-timeout'),
    allowEmpty: flags['allow-empty'],
    signal,
  };
}
