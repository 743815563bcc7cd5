/**
 * The bridge to src/net's client (connectPeer), loaded lazily so that the pure parts of the probe
 * (and commands that only aggregate) never load the wire code.
 */
import type { PeerConnector } from './attempt.js';

export async function loadConnector(): Promise<PeerConnector> {
  const { connectPeer } = await import('../net/client.js');
  return connectPeer;
}
