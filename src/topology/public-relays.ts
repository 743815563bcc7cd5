/**
 * Public relays of the known networks, as topology files name them: IOG's relays of 2020 (legacy
 * files), the backbone bootstrap peers and the playground's nodes. A block producer's file lists only
 * the pool's own relays, so one of these names marks a relay's file. Pure.
 */
import type { NetworkName } from '../lib/networks.js';
import { TOPOLOGY_PRESETS } from './generate.js';

const BY_PATTERN: ReadonlyArray<[RegExp, NetworkName | undefined]> = [
  [/^relays(-new)?\.cardano-mainnet\.iohk\.io$/, 'mainnet'],
  [/^backbone\.(cardano\.iog\.io|mainnet\.[a-z0-9.-]+)$/, 'mainnet'],
  [/^(preprod|preview|sanchonet)-node\.(play|world)\.dev\.cardano\.org$/, undefined],
  [/^relays(-new)?\.cardano-[a-z0-9-]+\.iohk(dev)?\.io$/, undefined],
  [/\.iohkdev\.io$/, undefined],
  [/^backbone\./, undefined],
  [/\.(play|world)\.dev\.cardano\.org$/, undefined],
];

function normal(address: string): string {
  return address.replace(/\.$/, '').toLowerCase();
}

export function isKnownPublicRelay(address: string): boolean {
  const a = normal(address);
  return (
    BY_PATTERN.some(([re]) => re.test(a)) ||
    Object.values(TOPOLOGY_PRESETS).some((p) => p.bootstrapPeers.some((b) => b.address === a))
  );
}

/** The network a known public relay serves, when its name says it. */
export function networkOfPublicRelay(address: string): NetworkName | undefined {
  const a = normal(address);
  for (const [name, preset] of Object.entries(TOPOLOGY_PRESETS) as Array<
    [NetworkName, (typeof TOPOLOGY_PRESETS)[NetworkName]]
  >)
    if (preset.bootstrapPeers.some((b) => b.address === a)) return name;
  const testnet = /^(preprod|preview|sanchonet)-node\./.exec(a);
  if (testnet) return testnet[1] as NetworkName;
  for (const [re, network] of BY_PATTERN) if (network && re.test(a)) return network;
  return undefined;
}
