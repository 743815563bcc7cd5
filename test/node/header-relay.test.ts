/**
 * The header relay on loopback with real sockets: producers (`spo serve`'s server with a synthetic
 * chain, or with a minting HeaderChain) feed one relay through the peer state actions' hot
 * chain-sync clients; the relay's chain is served by `spo serve`'s server and responders to a
 * downstream node that follows it the same way. Every wait is on an event (a chain-sync event, a
 * change of a chain); nothing sleeps.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Peer } from '../../src/governor/types.js';
import { systemClock } from '../../src/lib/clock.js';
import type { Term } from '../../src/net/cbor.js';
import type { SyntheticChain } from '../../src/net/chain.js';
import { decodeHeader } from '../../src/net/header.js';
import type { ChainSyncEvent } from '../../src/net/protocols/chain-sync/client.js';
import { nodeResponders } from '../../src/net/protocols/responders.js';
import { type RunningServer, startServer } from '../../src/net/serve.js';
import { HeaderChain } from '../../src/node/header-chain.js';
import { HeaderRelay } from '../../src/node/header-relay.js';
import { DirectConnector } from '../../src/node/outbound.js';
import { LivePeerStateActions } from '../../src/node/peer-state-actions.js';

const MAGIC = 42;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Resolves when `check()` holds, re-checked on every `poke()`; the test's own limit says what was awaited. */
class Waits {
  private readonly waiters = new Set<() => void>();
  poke = (): void => {
    for (const w of [...this.waiters]) w();
  };
  until(check: () => boolean, what: string, limitMs = 20_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const w = (): void => {
        if (!check()) return;
        clearTimeout(limit);
        this.waiters.delete(w);
        resolve();
      };
      const limit = setTimeout(() => {
        this.waiters.delete(w);
        reject(new Error(`timed out waiting for ${what}`));
      }, limitMs);
      this.waiters.add(w);
      w();
    });
  }
}

/** A relay: a HeaderRelay fed by hot chain-sync clients of the peer state actions, and its own events. */
function relayNode(waits: Waits) {
  const recorded: Array<{ slot: number; peer: Peer; at: number }> = [];
  const noted: Array<{ slot: number; peer: Peer }> = [];
  const events = new Map<Peer, ChainSyncEvent[]>();
  const relay = new HeaderRelay({
    recordHeader: (slot, peer, at) => recorded.push({ slot, peer, at }),
    notePeer: (slot, peer) => noted.push({ slot, peer }),
  });
  const actions = new LivePeerStateActions({
    clock: systemClock,
    connector: new DirectConnector({ magic: MAGIC, clock: systemClock }),
    onChainSync: (peer, ev) => {
      relay.onChainSync(peer, ev);
      const list = events.get(peer) ?? [];
      list.push(ev);
      events.set(peer, list);
      waits.poke();
    },
    intersectPoints: relay.intersectPoints,
  });
  relay.chain.onChange(() => waits.poke());
  cleanups.push(() => actions.stop());
  const mode = { diffusionMode: 'InitiatorOnly', behindFirewall: false } as const;
  return {
    relay,
    actions,
    recorded,
    noted,
    events,
    async hot(peer: Peer): Promise<void> {
      if (!actions.status(peer)) await actions.establish(peer, mode);
      await actions.activate(peer);
      // the intersection is done when the first event (a roll back to it) arrived
      const before = events.get(peer)?.length ?? 0;
      await waits.until(
        () => (events.get(peer) ?? []).slice(before).some((e) => e.type === 'RollBackward'),
        `${peer}'s intersection`,
      );
    },
  };
}

async function serve(o: { chain?: SyntheticChain; provider?: HeaderChain }): Promise<RunningServer> {
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    magic: MAGIC,
    blockIntervalMs: 0,
    initialBlocks: 3,
    ...(o.chain ? { chain: o.chain } : {}),
    ...(o.provider ? { responders: nodeResponders({ chain: o.provider }) } : {}),
  });
  cleanups.push(() => server.close());
  return server;
}

const tipHex = (c: { tip(): { point: { hash: Uint8Array } | null } }): string => {
  const p = c.tip().point;
  return p ? hex(p.hash) : '';
};

describe('header relay over loopback', () => {
  it('two producers feed one relay; every header reaches a downstream node through the relay', async () => {
    const waits = new Waits();
    // two `spo serve` producers with the same synthetic chain: the same headers from both
    const p1 = await serve({});
    const p2 = await serve({});
    const up = relayNode(waits);
    const server = await serve({ provider: up.relay.chain });
    const down = relayNode(waits);
    await Promise.all([up.hot(p1.address), up.hot(p2.address)]);
    await down.hot(server.address);
    const N = 12;
    for (let i = 0; i < N; i++) {
      // alternate who has the header first
      const [a, b] = i % 2 === 0 ? [p1, p2] : [p2, p1];
      a.chain.extend();
      b.chain.extend();
      const want = hex(p1.chain.blocks[p1.chain.blocks.length - 1]?.hash ?? new Uint8Array());
      await waits.until(
        () =>
          tipHex(down.relay.chain) === want &&
          up.relay.countsFor(p1.address).headers + up.relay.countsFor(p2.address).headers === 2 * (i + 1),
        `header ${i + 1} downstream`,
      );
    }
    const produced = p1.chain.blocks.slice(-N).map((b) => hex(b.hash));
    // the relay's best chain: exactly the produced headers (it started at the producers' tips)
    expect(up.relay.chain.bestChain().map((b) => hex(b.hash))).toEqual(produced);
    expect(down.relay.chain.bestChain().map((b) => hex(b.hash))).toEqual(produced);
    // each header credited once, to whichever producer delivered it first; the other noted
    const c1 = up.relay.countsFor(p1.address);
    const c2 = up.relay.countsFor(p2.address);
    expect(c1.headers).toBe(N);
    expect(c2.headers).toBe(N);
    expect(c1.headersFirst + c2.headersFirst).toBe(N);
    expect(up.recorded.map((r) => r.slot)).toEqual(p1.chain.blocks.slice(-N).map((b) => b.slot));
    expect(up.noted).toHaveLength(N);
    for (const r of up.recorded) expect(up.noted.find((n) => n.slot === r.slot)?.peer).not.toBe(r.peer);
    // downstream: all from the relay, all first
    expect(down.relay.countsFor(server.address)).toEqual({ headers: N, headersFirst: N });

    // a peer that goes warm and, ahead of us by then, hot again resumes from our chain (our tip):
    // it delivers the headers we lack, where intersecting at its own tip would have skipped them
    const stopping = up.actions.deactivate(p2.address); // its request waiting at the tip ends with the next header
    p1.chain.extend();
    p2.chain.extend();
    await stopping;
    const ours = tipHex(p1.chain);
    await waits.until(() => tipHex(up.relay.chain) === ours, 'the header before p2 went warm');
    p2.chain.extend();
    p2.chain.extend();
    await up.hot(p2.address);
    const back = (up.events.get(p2.address) ?? []).filter((e) => e.type === 'RollBackward').at(-1);
    expect(back?.type === 'RollBackward' && back.point ? hex(back.point.hash) : '').toBe(ours);
    await waits.until(() => tipHex(down.relay.chain) === tipHex(p2.chain), "p2's two headers downstream");
    expect(up.recorded.slice(-2).map((r) => [r.slot, r.peer])).toEqual(
      p2.chain.blocks.slice(-2).map((b) => [b.slot, p2.address]),
    );
    // p1 catches up with the same headers: known, noted
    const noted = up.noted.length;
    p1.chain.extend();
    p1.chain.extend();
    await waits.until(() => up.noted.length === noted + 2, "p1's two known headers");
    expect(tipHex(up.relay.chain)).toBe(tipHex(p2.chain));
    expect(down.relay.chain.bestChain().map((b) => hex(b.hash))).toEqual(
      p1.chain.blocks.slice(-(N + 3)).map((b) => hex(b.hash)),
    );
  });

  it('producers on two forks: the relay follows the longer, and its downstream rolls back with it', async () => {
    const waits = new Waits();
    // producer A mints; producer B holds A's chain up to slot 30, then each mints its own fork
    const a = new HeaderChain();
    const b = new HeaderChain();
    const copy = (): void => {
      for (const blk of a.bestChain()) b.receive('a', forwardOf(blk.header), 0);
    };
    a.mint(10, 1);
    const pa = await serve({ provider: a });
    const pb = await serve({ provider: b });
    const up = relayNode(waits);
    const server = await serve({ provider: up.relay.chain });
    const down = relayNode(waits);
    await down.hot(server.address);
    await up.hot(pa.address); // from A's tip (slot 10): our chain is empty
    a.mint(20, 1);
    a.mint(30, 1);
    copy();
    a.mint(40, 1);
    await waits.until(() => tipHex(down.relay.chain) === tipHex(a), 'A 40 downstream');
    // B intersects at our chain's points: it lacks 40, so the fork point 30
    await up.hot(pb.address);
    const back = (up.events.get(pb.address) ?? []).filter((e) => e.type === 'RollBackward').at(-1);
    expect(back?.type === 'RollBackward' ? back.point?.slot : undefined).toBe(30);
    b.mint(41, 2);
    await waits.until(() => up.relay.countsFor(pb.address).headers === 1, "B's 41");
    expect(tipHex(up.relay.chain)).toBe(tipHex(a)); // a tie: the first stays
    b.mint(51, 2); // B's fork is longer now
    await waits.until(() => tipHex(down.relay.chain) === tipHex(b), 'B 51 downstream');
    expect(up.relay.chain.bestChain().map((x) => x.slot)).toEqual([20, 30, 41, 51]);
    const rollbacks = (): Array<number | undefined> =>
      (down.events.get(server.address) ?? []).flatMap((e) => (e.type === 'RollBackward' ? [e.point?.slot] : []));
    expect(rollbacks().at(-1)).toBe(30); // back to the fork point, over the wire
    // A overtakes again
    a.mint(60, 1);
    a.mint(70, 1);
    await waits.until(() => tipHex(down.relay.chain) === tipHex(a), 'A 70 downstream');
    expect(rollbacks().at(-1)).toBe(30);
    expect(down.relay.chain.bestChain().map((x) => x.slot)).toEqual([20, 30, 40, 60, 70]);
    // the downstream's events replay to the relay's chain: it keeps every fork it saw
    expect(down.relay.chain.size).toBe(7);
  });
  it('a peer on another chain: our points are not on it, so its chain-sync starts at its tip and its headers wait as orphans', async () => {
    const waits = new Waits();
    const mine = new HeaderChain();
    for (let s = 1; s <= 3; s++) mine.mint(s, 9); // a chain of our own, unknown to the producer
    const relay = relayNode(waits);
    for (const b of mine.bestChain()) relay.relay.chain.receive('self', forwardOf(b.header), 0);
    const p = await serve({});
    await relay.hot(p.address);
    const back = (relay.events.get(p.address) ?? []).find((e) => e.type === 'RollBackward');
    // the intersection fell back to the producer's tip
    expect(back?.type === 'RollBackward' ? back.point?.slot : undefined).toBe(p.chain.tip().point?.slot);
    p.chain.extend();
    p.chain.extend();
    await waits.until(() => relay.relay.countsFor(p.address).headers === 2, "the producer's two headers");
    expect(relay.relay.chain.orphanCount).toBe(2);
    expect(relay.relay.countsFor(p.address).headersFirst).toBe(0);
    expect(relay.recorded).toEqual([]);
    expect(relay.relay.chain.tip().point?.slot).toBe(3);
  });
});

function forwardOf(header: Term): ChainSyncEvent {
  return { type: 'RollForward', header: decodeHeader(header), tip: { point: null, blockNo: 0 }, at: 0, awaited: false };
}
