/**
 * The bridge to src/net's client (connectPeer), loaded lazily so that offline commands and the
 * pure parts of the probe never load the wire code.
 */
import { SpoError } from '../lib/errors.js';
import type { PeerConnector } from './attempt.js';

export async function loadConnector(): Promise<PeerConnector> {
  // A variable specifier: src/net is built in parallel (INTERFACES.md gives its shape).
  const specifier = '../net/index.js';
  let mod: { connectPeer?: PeerConnector };
  try {
    mod = (await import(specifier)) as { connectPeer?: PeerConnector };
  } catch (error) {
    throw new SpoError('NET_UNAVAILABLE', 'the node-to-node client (src/net) is not available in this build', {
      cause: error,
    });
  }
  if (typeof mod.connectPeer !== 'function') {
    throw new SpoError('NET_UNAVAILABLE', 'the node-to-node client (src/net) has no connectPeer in this build');
  }
  return mod.connectPeer;
}
