import { InputError } from './errors.js';

/** What spo knows about each public network. */
export interface NetworkPreset {
  readonly name: NetworkName;
  readonly magic: number;
  readonly koiosUrl: string;
  readonly blockfrostUrl: string;
  readonly defaultPort: number;
}

export const NETWORK_NAMES = ['mainnet', 'preprod', 'preview', 'sanchonet'] as const;
export type NetworkName = (typeof NETWORK_NAMES)[number];

export const NETWORKS: Readonly<Record<NetworkName, NetworkPreset>> = {
  mainnet: {
    name: 'mainnet',
    magic: 764824073,
    koiosUrl: 'https://api.koios.rest/api/v1',
    blockfrostUrl: 'https://cardano-mainnet.blockfrost.io/api/v0',
    defaultPort: 3001,
  },
  preprod: {
    name: 'preprod',
    magic: 1,
    koiosUrl: 'https://preprod.koios.rest/api/v1',
    blockfrostUrl: 'https://cardano-preprod.blockfrost.io/api/v0',
    defaultPort: 3001,
  },
  preview: {
    name: 'preview',
    magic: 2,
    koiosUrl: 'https://preview.koios.rest/api/v1',
    blockfrostUrl: 'https://cardano-preview.blockfrost.io/api/v0',
    defaultPort: 3001,
  },
  sanchonet: {
    name: 'sanchonet',
    magic: 4,
    koiosUrl: 'https://sancho.koios.rest/api/v1',
    blockfrostUrl: 'https://cardano-sanchonet.blockfrost.io/api/v0',
    defaultPort: 3001,
  },
};

/** The network a command works on: a preset, or a custom magic (then no preset URLs). */
export interface NetworkSelection {
  readonly name: NetworkName | 'custom';
  readonly magic: number;
  readonly preset: NetworkPreset | undefined;
}

export function selectNetwork(name: string | undefined, magic: number | undefined): NetworkSelection {
  if (magic !== undefined) {
    if (!Number.isInteger(magic) || magic < 0 || magic > 0xffffffff) {
      throw new InputError('BAD_MAGIC', `invalid network magic: ${magic}`, {
        hint: 'the magic is a 32-bit unsigned integer, e.g. 764824073 for mainnet',
      });
    }
    const preset = Object.values(NETWORKS).find((n) => n.magic === magic);
    return { name: preset?.name ?? 'custom', magic, preset };
  }
  const chosen = (name ?? 'mainnet') as NetworkName;
  const preset = NETWORKS[chosen];
  if (!preset) {
    throw new InputError('BAD_NETWORK', `unknown network: ${name}`, { hint: `use one of ${NETWORK_NAMES.join(', ')}` });
  }
  return { name: preset.name, magic: preset.magic, preset };
}

export function networkByMagic(magic: number): NetworkPreset | undefined {
  return Object.values(NETWORKS).find((n) => n.magic === magic);
}
