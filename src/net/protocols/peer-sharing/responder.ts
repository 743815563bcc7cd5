/**
 * Peer sharing, responder side (wire.md §7): the addresses come from an input, never more than
 * asked and at most 10, as the node (`ps_POLICY_PEER_SHARE_MAX_PEERS`).
 */
import type { PeerAddress, PeerSharingMessage } from '../../codec/peer-sharing.js';
import { ProtocolPeer } from '../../protocol/peer.js';
import { type PeerSharingState, peerSharingSpec } from '../../protocol/specs.js';
import type { Responder, ResponderContext } from '../types.js';

export const PEER_SHARE_MAX_PEERS = 10;

/** The peers to offer one request (the responder cuts the list to what may be sent). */
export type PeerSource = (amount: number, ctx: ResponderContext) => readonly PeerAddress[];

/** A fixed list. */
export function staticPeers(peers: readonly PeerAddress[]): PeerSource {
  return () => peers;
}

export function peerSharingResponder(source: PeerSource): Responder {
  return async (channel, ctx) => {
    const p: ProtocolPeer<PeerSharingMessage, PeerSharingState> = new ProtocolPeer(peerSharingSpec, channel, 'server');
    try {
      for (;;) {
        const m = (await p.recv()).msg;
        if (m.type !== 'ShareRequest') return;
        const cap = Math.min(m.amount, PEER_SHARE_MAX_PEERS);
        await p.send({ type: 'SharePeers', peers: source(m.amount, ctx).slice(0, cap) });
      }
    } catch {
      // the mux reports the error and ends the connection
    }
  };
}
