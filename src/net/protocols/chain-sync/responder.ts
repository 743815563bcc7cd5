/**
 * Chain-sync, responder side (wire.md §6): serves a `ChainProvider` (headers only). Requests may be
 * pipelined (a Haskell client keeps up to 300 in flight); at the tip the answer is MsgAwaitReply and
 * the next one comes when the chain changes.
 */
import type { ChainSyncMessage } from '../../codec/chain-sync.js';
import { ProtocolPeer } from '../../protocol/peer.js';
import { type ChainSyncState, chainSyncSpec } from '../../protocol/specs.js';
import type { Responder } from '../types.js';
import type { ChainProvider } from './source.js';

export function chainSyncResponder(chain: ChainProvider): Responder {
  return async (channel) => {
    const p: ProtocolPeer<ChainSyncMessage, ChainSyncState> = new ProtocolPeer(chainSyncSpec, channel, 'server');
    const follower = chain.follower();
    try {
      for (;;) {
        const m = (await p.recv()).msg;
        if (m.type === 'Done') return;
        if (m.type === 'FindIntersect') {
          const found = follower.intersect(m.points);
          await p.send(
            found === undefined
              ? { type: 'IntersectNotFound', tip: chain.tip() }
              : { type: 'IntersectFound', point: found.point, tip: chain.tip() },
          );
          continue;
        }
        if (m.type !== 'RequestNext') return;
        let next = follower.next();
        if (next === undefined) {
          await p.send({ type: 'AwaitReply' });
          while (next === undefined) {
            const stopped = await new Promise<boolean>((resolve) => {
              let offStop = (): void => undefined;
              const offChange = follower.onChange(() => {
                offStop();
                resolve(false);
              });
              offStop = p.whenStopped(() => {
                offChange();
                resolve(true);
              });
            });
            if (stopped) return;
            next = follower.next();
          }
        }
        await p.send({ ...next, tip: chain.tip() });
      }
    } catch {
      // the mux reports the error and ends the connection
    } finally {
      follower.close();
    }
  };
}
