/** Peer sharing, initiator side (wire.md §7): ask for up to `amount` addresses; more is a violation. */
import type { Millis } from '../../../lib/clock.js';
import type { PeerAddress, PeerSharingMessage } from '../../codec/peer-sharing.js';
import { NetError } from '../../errors.js';
import type { Channel } from '../../mux/mux.js';
import { ProtocolPeer } from '../../protocol/peer.js';
import { type PeerSharingState, peerSharingSpec } from '../../protocol/specs.js';
import { ProtocolClient } from '../client-base.js';
import type { ClientContext } from '../types.js';

export class PeerSharingClient extends ProtocolClient<PeerSharingMessage, PeerSharingState> {
  constructor(channel: Channel, ctx: ClientContext) {
    super(new ProtocolPeer(peerSharingSpec, channel, 'client'), ctx, {
      state: 'StIdle',
      message: { type: 'Done' },
    });
  }

  share(amount: number, opts: { timeoutMs?: Millis } = {}): Promise<PeerAddress[]> {
    if (!Number.isInteger(amount) || amount < 0 || amount > 0xff) {
      return Promise.reject(new RangeError(`peer-sharing amount ${amount} is outside 0..255`));
    }
    return this.request(async () => {
      if (opts.timeoutMs !== undefined) this.peer.setTimeout('StBusy', opts.timeoutMs);
      await this.peer.send({ type: 'ShareRequest', amount });
      const r = (await this.peer.recv()).msg;
      if (r.type !== 'SharePeers') throw new NetError('PROTOCOL_ERROR', 'unexpected peer-sharing reply');
      if (r.peers.length > amount) {
        const err = new NetError(
          'PROTOCOL_ERROR',
          `${this.ctx.where}: ${r.peers.length} peers shared, ${amount} asked`,
        );
        this.ctx.fail(err);
        throw err;
      }
      return r.peers;
    });
  }
}
