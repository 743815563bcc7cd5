/** Reading a node configuration from a file (or standard input), and the network magic its genesis gives. */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { describeError } from '../lib/errors.js';
import { readInput } from '../lib/read-input.js';
import { ConfigError } from './errors.js';
import { type NodeConfig, type NodeConfigOptions, nodeConfigFromDocument, parseNodeConfigText } from './node-config.js';

/**
 * Reads and checks a node configuration (JSON or YAML; `-` reads standard input). Relative genesis
 * paths are joined to the file's folder (the current folder for standard input), as the node does.
 */
export async function loadNodeConfig(
  path: string,
  options: Omit<NodeConfigOptions, 'baseDir'> & { stdin?: NodeJS.ReadableStream } = {},
): Promise<NodeConfig> {
  const text = await readInput(path, options.stdin);
  const baseDir = path === '-' ? process.cwd() : dirname(resolve(path));
  return nodeConfigFromDocument(parseNodeConfigText(text, path), path, { role: options.role, baseDir });
}

/**
 * The network magic from the Shelley genesis file the configuration names (`networkMagic`);
 * undefined when the configuration names none. Throws CONFIG_VALUE when the file cannot be read or
 * has no usable magic.
 */
export async function readNetworkMagic(config: Pick<NodeConfig, 'file' | 'genesis'>): Promise<number | undefined> {
  const path = config.genesis.shelley;
  if (path === undefined) return undefined;
  const fail = (why: string): ConfigError =>
    new ConfigError('CONFIG_VALUE', `${config.file}: ShelleyGenesisFile ${path}: ${why}`, {
      hint: 'the Shelley genesis file of the network gives its magic; check the path in the configuration',
      details: { file: config.file, key: 'ShelleyGenesisFile', genesis: path },
    });
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw fail(describeError(error));
  }
  const magic = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>).networkMagic : undefined;
  if (typeof magic !== 'number' || !Number.isInteger(magic) || magic < 0 || magic > 0xffffffff)
    throw fail('no "networkMagic" between 0 and 4294967295');
  return magic;
}
