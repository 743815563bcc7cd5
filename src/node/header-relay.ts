/**
 * The glue between the hot peers' chain-sync clients and the rest of the live node (issue 13's
 * header relay): every event goes into the best header chain (header-chain.ts); a header's first
 * arrival is credited to the peer that delivered it (the governor's header board, governor.md §5:
 * slot -> earliest peer and its arrival time), a later arrival of a header we already hold only
 * registers the peer for that slot (its join slot, as the reference's insert does when it loses);
 * per-peer counts feed the live table's `headers` / `headersFirst` columns (snapshot.ts).
 *
 * Wiring (src/node/live-node.ts): `LivePeerStateActions({ onChainSync: relay.onChainSync,
 * intersectPoints: relay.intersectPoints, ... })`, `recordHeader` and `notePeer` to the driver's
 * methods of those names, the chain to `nodeResponders({ chain: relay.chain })`.
 *
 * Pure: arrival times are the chain-sync events' own (`at`, read from the connection's clock).
 */
import type { Millis } from '../lib/clock.js';
import type { Point } from '../net/codec/point.js';
import type { ChainSyncEvent } from '../net/protocols/chain-sync/client.js';
import { HeaderChain, type PeerName, type ReceiveResult, type RelayedBlock } from './header-chain.js';

export interface HeaderRelayOptions {
  /** The chain to feed (default a new one with the default window). */
  chain?: HeaderChain;
  /** A header joined the chain; `peer` delivered it first, at `at` (wire to `driver.recordHeader`). */
  recordHeader?: (slot: number, peer: PeerName, at: Millis) => void;
  /** `peer` delivered a header we already held (wire to `driver.notePeer`). */
  notePeer?: (slot: number, peer: PeerName) => void;
}

/** Per-peer counts for the live table, since the relay first heard of the peer. */
export interface PeerHeaderCounts {
  /** Headers received from the peer (every MsgRollForward). */
  headers: number;
  /** Headers the peer delivered first that joined the chain. */
  headersFirst: number;
}

export class HeaderRelay {
  readonly chain: HeaderChain;
  private readonly counts = new Map<PeerName, PeerHeaderCounts>();

  constructor(private readonly o: HeaderRelayOptions = {}) {
    this.chain = o.chain ?? new HeaderChain();
  }

  /** For `LivePeerStateActions`' `onChainSync` (bound, so it can be passed as is). */
  readonly onChainSync = (peer: PeerName, ev: ChainSyncEvent): ReceiveResult => this.receive(peer, ev, ev.at);

  /** For `LivePeerStateActions`' `intersectPoints` (bound). */
  readonly intersectPoints = (): Point[] => this.chain.points();

  /** One chain-sync event of `peer`, received at `at`. */
  receive(peer: PeerName, ev: ChainSyncEvent, at: Millis): ReceiveResult {
    const r = this.chain.receive(peer, ev, at);
    if (ev.type === 'RollForward') {
      this.countsOf(peer).headers++;
      if (r.status === 'known') this.o.notePeer?.(ev.header.slot, peer);
    }
    this.credit(r.joined);
    return r;
  }

  /** A block this node produced (a producer's own header; nobody is credited). */
  mint(slot: number, issuer: number, at: Millis): RelayedBlock {
    return this.chain.mint(slot, issuer, at);
  }

  /** The counts of a peer (zeros when it delivered nothing). */
  countsFor(peer: PeerName): PeerHeaderCounts {
    const c = this.counts.get(peer);
    return c ? { ...c } : { headers: 0, headersFirst: 0 };
  }

  /** Every peer with counts. */
  peers(): PeerName[] {
    return [...this.counts.keys()];
  }

  /** Forgets a peer the node no longer knows (bounded memory under churn). */
  forget(peer: PeerName): void {
    this.counts.delete(peer);
    this.chain.forget(peer);
  }

  private countsOf(peer: PeerName): PeerHeaderCounts {
    let c = this.counts.get(peer);
    if (!c) {
      c = { headers: 0, headersFirst: 0 };
      this.counts.set(peer, c);
    }
    return c;
  }

  private credit(joined: readonly RelayedBlock[]): void {
    for (const b of joined) {
      if (b.from === undefined) continue;
      this.countsOf(b.from).headersFirst++;
      this.o.recordHeader?.(b.slot, b.from, b.at);
    }
  }
}
