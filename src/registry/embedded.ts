/**
 * The embedded registry: peer snapshots shipped in data/ (provenance in data/README.md), read
 * synchronously and parsed once; start-up time of `spo relays list` is benchmarked.
 */
import { readFileSync } from 'node:fs';
import { SpoError } from '../lib/errors.js';
import type { NetworkSelection } from '../lib/networks.js';
import { parseJsonText } from '../lib/read-input.js';

/** The snapshot file shipped for each network. */
export const EMBEDDED_FILES: Readonly<Record<string, string>> = {
  mainnet: 'mainnet-peer-snapshot.v23.json',
  preprod: 'preprod-peer-snapshot.v2.json',
  preview: 'preview-peer-snapshot.v2.json',
};

export function embeddedUrl(network: string): URL | undefined {
  const file = EMBEDDED_FILES[network];
  // dist/registry/embedded.js and src/registry/embedded.ts both sit two levels below the package root
  return file ? new URL(`../../data/${file}`, import.meta.url) : undefined;
}

export function readEmbedded(network: NetworkSelection): { doc: unknown; label: string } {
  const url = embeddedUrl(network.name);
  if (!url) {
    throw new SpoError('EMBEDDED_UNAVAILABLE', `no embedded registry for network ${network.name}`, {
      hint: `embedded snapshots exist for ${Object.keys(EMBEDDED_FILES).join(', ')}; use --source koios, --source blockfrost or --source FILE`,
    });
  }
  const label = `embedded:${network.name}`;
  return { doc: parseJsonText(readFileSync(url, 'utf8'), label), label };
}
