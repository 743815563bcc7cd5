/**
 * Reading the registry with progress on standard error: the registry reports what it does as data
 * (`onProgress`), this renders it. One helper for every command that reads the registry.
 */

import { counted } from '../lib/plural.js';
import { type LoadRegistryOptions, loadRegistry, type RegistryProgress } from '../registry/index.js';
import type { Registry } from '../registry/model.js';
import type { Progress } from './progress.js';

export function registryProgressText(p: RegistryProgress): string {
  return `${p.phase}${p.done === undefined ? '' : `: ${p.done}${p.total ? `/${p.total}` : ''}`}`;
}

export interface RegistryProgressOptions {
  /**
   * The command goes on with the same progress display after the registry (it announces every
   * source, even a local file, and leaves the final line to the command). Default: only the HTTP
   * sources are announced, and finished with the number of pools.
   */
  continued?: boolean;
}

export async function loadRegistryWithProgress(
  options: LoadRegistryOptions,
  progress: Progress,
  { continued = false }: RegistryProgressOptions = {},
): Promise<Registry> {
  const remote = options.source === 'koios' || options.source === 'blockfrost';
  const shown = remote || continued;
  if (shown) progress.start(`reading the registry from ${options.source}`);
  try {
    const reg = await loadRegistry({ ...options, onProgress: (p) => progress.update(registryProgressText(p)) });
    if (remote && !continued) progress.succeed(`${counted(reg.pools.length, 'pool')} from ${options.source}`);
    return reg;
  } catch (error) {
    // the error itself is printed by the command
    if (shown) progress.fail(`could not read the registry from ${options.source}`);
    throw error;
  }
}
