/** Keep-alive, responder side (wire.md §5): every request answered with its cookie, until MsgDone. */
import type { KeepAliveMessage } from '../../codec/keep-alive.js';
import { ProtocolPeer } from '../../protocol/peer.js';
import { type KeepAliveState, keepAliveSpec } from '../../protocol/specs.js';
import type { Responder } from '../types.js';

export const keepAliveResponder: Responder = async (channel) => {
  const p: ProtocolPeer<KeepAliveMessage, KeepAliveState> = new ProtocolPeer(keepAliveSpec, channel, 'server');
  try {
    for (;;) {
      const m = (await p.recv()).msg;
      if (m.type !== 'KeepAlive') return;
      await p.send({ type: 'KeepAliveResponse', cookie: m.cookie });
    }
  } catch {
    // the mux reports the error and ends the connection
  }
};
