/** Loading the registry for a command: progress on standard error for the HTTP sources. */
import type { Progress } from '../ui/progress.js';
import { type LoadRegistryOptions, loadRegistry } from './index.js';
import type { Registry } from './model.js';

export async function loadWithProgress(options: LoadRegistryOptions, progress: Progress): Promise<Registry> {
  const remote = options.source === 'koios' || options.source === 'blockfrost';
  if (!remote) return loadRegistry(options);
  progress.start(`reading the registry from ${options.source}`);
  try {
    const reg = await loadRegistry({
      ...options,
      onProgress: (p) =>
        progress.update(`${p.phase}${p.done === undefined ? '' : `: ${p.done}${p.total ? `/${p.total}` : ''}`}`),
    });
    progress.succeed(`${reg.pools.length} pools from ${options.source}`);
    return reg;
  } catch (error) {
    progress.stop(); // the error itself is printed by the command
    throw error;
  }
}
