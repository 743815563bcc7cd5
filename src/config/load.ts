/** Reading a node configuration from a file (or standard input), and the network magic its genesis gives. */
import { dirname, resolve } from 'node:path';
import { describeError, isSpoError } from '../lib/errors.js';
import { readInput } from '../lib/read-input.js';
import { ConfigError } from './errors.js';
import { type NodeConfig, type NodeConfigOptions, nodeConfigFromDocument, parseNodeConfigText } from './node-config.js';

/**
 * Reads and checks a node configuration (JSON or YAML; `-` reads standard input). Relative genesis
 * paths are joined to the file's folder (the current folder for standard input), as the node does.
 */
export async function loadNodeConfig(
  path: string,
  options: Omit<NodeConfigOptions, 'baseDir'> & { stdin?: NodeJS.ReadableStream; signal?: AbortSignal } = {},
): Promise<NodeConfig> {
  const text = await readInput(path, { stdin: options.stdin, signal: options.signal, as: 'a node configuration' });
  const baseDir = path === '-' ? process.cwd() : dirname(resolve(path));
  return nodeConfigFromDocument(parseNodeConfigText(text, path), path, { role: options.role, baseDir });
}

/**
 * The network magic from the Shelley genesis file the configuration names (`networkMagic`);
 * undefined when the configuration names none. Throws CONFIG_VALUE when the file cannot be read or
 * has no usable magic.
 */
export async function readNetworkMagic(
  config: Pick<NodeConfig, 'file' | 'genesis'>,
  signal?: AbortSignal,
): Promise<number | undefined> {
  const path = config.genesis.shelley;
  if (path === undefined) return undefined;
  const fail = (why: string): ConfigError =>
    new ConfigError('CONFIG_VALUE', `${config.file}: ShelleyGenesisFile ${path}: ${why}`, {
      hint: 'the Shelley genesis file of the network gives its magic; check the path in the configuration',
      details: { file: config.file, key: 'ShelleyGenesisFile', genesis: path },
    });
  let doc: unknown;
  try {
    // Read as every input is: size-capped (a genesis path pointing at /dev/zero ends) and interruptible.
    doc = JSON.parse(await readInput(path, { signal, as: 'a genesis file' }));
  } catch (error) {
    if (isSpoError(error) && (error.code === 'INPUT_TOO_LARGE' || error.code === 'INTERRUPTED')) throw error;
    throw fail(isSpoError(error) ? error.message : describeError(error));
  }
  const magic = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>).networkMagic : undefined;
  if (typeof magic !== 'number' || !Number.isInteger(magic) || magic < 0 || magic > 0xffffffff)
    throw fail('no "networkMagic" between 0 and 4294967295');
  return magic;
}
