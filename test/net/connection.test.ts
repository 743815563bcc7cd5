/**
 * The negotiated connection object over the in-memory transport, in virtual time (Scheduler): both
 * roles on one connection, protocols independent of each other, temperature groups started and
 * stopped, responder events, and every timeout firing at its exact virtual time.
 */
import { describe, expect, it } from 'vitest';
import { SyntheticChain } from '../../src/net/chain.js';
import type { VersionData } from '../../src/net/codec/handshake.js';
import { type Connection, openConnection } from '../../src/net/connection.js';
import type { NetError } from '../../src/net/errors.js';
import { followChain } from '../../src/net/protocols/chain-sync/client.js';
import { keepAliveLoop } from '../../src/net/protocols/keep-alive/client.js';
import { staticPeers } from '../../src/net/protocols/peer-sharing/responder.js';
import { nodeResponders } from '../../src/net/protocols/responders.js';
import type { Responders } from '../../src/net/protocols/types.js';
import { type MemoryBearer, memoryPair } from '../../src/net/transport/memory.js';
import { Scheduler } from '../../src/sim/scheduler.js';

const data = (initiatorOnly: boolean): VersionData => ({
  networkMagic: 2,
  initiatorOnly,
  peerSharing: 1,
  query: false,
});

function chainOf(n: number, startSlot = 1000): SyntheticChain {
  const c = new SyntheticChain(startSlot, 20);
  for (let i = 0; i < n; i++) c.extend();
  return c;
}

/** A dialler and an acceptor over a memory pair with one-way delays of 5 ms and 7 ms. */
async function pair(
  s: Scheduler,
  o: { duplex?: boolean; dialerResponders?: Responders; acceptorResponders?: Responders } = {},
): Promise<{ out: Connection; inb: Connection }> {
  const [a, b] = memoryPair({ clock: s, delayAB: 5, delayBA: 7 });
  const duplex = o.duplex ?? true;
  const inbound = openConnection(b, {
    role: 'acceptor',
    versions: [14, 15],
    data: data(false),
    clock: s,
    responders: o.acceptorResponders ?? nodeResponders({ chain: chainOf(3) }),
  });
  const outbound = openConnection(a, {
    role: 'proposer',
    versions: [14, 15],
    data: data(!duplex),
    clock: s,
    responders: o.dialerResponders ?? nodeResponders({ chain: chainOf(5, 90_000) }),
  });
  await s.runAsync({ until: s.now() + 100 });
  const [ro, ri] = await Promise.all([outbound, inbound]);
  if (ro.kind !== 'connected' || ri.kind !== 'connected') throw new Error('not connected');
  return { out: ro.connection, inb: ri.connection };
}

describe('connection object over the in-memory transport (virtual time)', () => {
  it('negotiates once for both sides: the highest common version, the agreed data, the data flow', async () => {
    const s = new Scheduler();
    const { out, inb } = await pair(s);
    expect([out.version, inb.version]).toEqual([15, 15]);
    expect(out.versionData).toEqual({ networkMagic: 2, initiatorOnly: false, peerSharing: 1, query: false });
    expect([out.dataFlow, inb.dataFlow]).toEqual(['duplex', 'duplex']);
    expect([out.provenance, inb.provenance]).toEqual(['outbound', 'inbound']);
    // the proposal took 5 ms there, the accept 7 ms back
    expect(out.handshakeMs).toBe(12);
    const s2 = new Scheduler();
    const uni = await pair(s2, { duplex: false });
    expect([uni.out.dataFlow, uni.inb.dataFlow]).toEqual(['unidirectional', 'unidirectional']);
    expect(uni.inb.runsInitiators).toBe(false);
    expect(() => uni.inb.keepAliveClient).toThrow(/initiator-only/);
  });

  it('runs both roles on one connection: each side follows the other side’s chain and pings it', async () => {
    const s = new Scheduler();
    const { out, inb } = await pair(s);
    const results: Record<string, unknown> = {};
    const work = Promise.all([
      (async () => {
        const evs = [];
        for (let i = 0; i < 4; i++) evs.push(await out.requestNext());
        results.outSees = evs.map((e) => (e.type === 'RollForward' ? e.header.slot : 'back'));
        results.outRtt = await out.keepAlive(1);
      })(),
      (async () => {
        const evs = [];
        for (let i = 0; i < 4; i++) evs.push(await inb.requestNext());
        results.inbSees = evs.map((e) => (e.type === 'RollForward' ? e.header.slot : 'back'));
        results.inbRtt = await inb.keepAlive(2);
        results.inbPeers = await inb.sharePeers(1);
      })(),
    ]);
    await s.runAsync({ until: s.now() + 1000 });
    await work;
    expect(results.outSees).toEqual(['back', 1000, 1020, 1040]); // the acceptor's chain
    expect(results.inbSees).toEqual(['back', 90_000, 90_020, 90_040]); // the dialler's chain
    // round trips in virtual time are exactly the two one-way delays
    expect(results.outRtt).toBe(12);
    expect(results.inbRtt).toBe(12);
    expect(results.inbPeers).toEqual([]);
  });

  it('a chain-sync request waiting at the tip holds neither keep-alive nor peer sharing', async () => {
    const s = new Scheduler();
    const chain = chainOf(2);
    const peers = [{ family: 4 as const, address: '192.0.2.1', port: 3001 }];
    const { out } = await pair(s, {
      acceptorResponders: nodeResponders({ chain, peers: staticPeers(peers) }),
    });
    const tip = chain.tip().point;
    if (!tip) throw new Error('no tip');
    const found = out.findIntersect([tip]);
    const back = out.requestNext();
    await s.runAsync({ until: s.now() + 100 });
    expect((await found).found).toBe(true);
    expect((await back).type).toBe('RollBackward');
    // the next request waits at the tip until the chain grows at t+60 s
    let header: { at: number; awaited: boolean; blockNo: number } | undefined;
    const waiting = out.requestNext().then((e) => {
      if (e.type === 'RollForward') header = { at: e.at, awaited: e.awaited, blockNo: e.header.blockNo };
    });
    const grownAt = s.now() + 60_000;
    s.at(grownAt, () => chain.extend());
    const done: Array<[string, number]> = [];
    const others = (async () => {
      for (let i = 0; i < 3; i++) {
        await out.keepAlive(i);
        done.push(['keep-alive', s.now()]);
      }
      expect(await out.sharePeers(5)).toEqual(peers);
      done.push(['peer-sharing', s.now()]);
    })();
    await s.runAsync({ until: s.now() + 1000 });
    await others;
    expect(header).toBeUndefined(); // still waiting
    expect(done.map(([what]) => what)).toEqual(['keep-alive', 'keep-alive', 'keep-alive', 'peer-sharing']);
    expect(Math.max(...done.map(([, at]) => at))).toBeLessThan(grownAt);
    await s.runAsync({ until: grownAt + 100 });
    await waiting;
    expect(header).toEqual({ at: grownAt + 7, awaited: true, blockNo: 3 });
  });

  it('starts and stops temperature groups independently; responder events carry protocol and temperature', async () => {
    const s = new Scheduler();
    const chain = chainOf(2);
    const { out, inb } = await pair(s, { acceptorResponders: nodeResponders({ chain }) });
    const seen: string[] = [];
    inb.on('responderStart', (p, t) => seen.push(`start ${p} ${t} @${s.now()}`));
    inb.on('responderEnd', (p, t) => seen.push(`end ${p} ${t} @${s.now()}`));
    const rtts: number[] = [];
    const headers: number[] = [];
    const t0 = s.now();
    out.startInitiators('established', { 8: keepAliveLoop({ intervalMs: 10_000, onRtt: (r) => rtts.push(r) }) });
    out.startInitiators('hot', {
      2: followChain({ onEvent: (e) => e.type === 'RollForward' && headers.push(e.header.blockNo) }),
    });
    expect(() => out.startInitiators('hot', { 8: keepAliveLoop() })).toThrow(/established, not hot/);
    s.at(t0 + 20_000, () => chain.extend());
    await s.runAsync({ until: t0 + 25_000 });
    expect(headers).toEqual([1, 2, 3]);
    expect(rtts).toEqual([12, 12, 12]); // at 0, 10 s and 20 s
    expect(out.initiatorStatus('hot').get(2)).toBe('running');
    // deactivate: the hot group stops (the request waiting at the tip is answered first, at t0+40 s)
    s.at(t0 + 40_000, () => chain.extend());
    const stoppedHot = out.stopInitiators('hot', 300_000);
    await s.runAsync({ until: t0 + 45_000 });
    const hot = await stoppedHot;
    expect(hot).toEqual([{ protocol: 2, temperature: 'hot', status: 'returned', value: undefined }]);
    // the header reaches the dialler 7 ms later, its MsgDone the acceptor 5 ms after that
    expect(seen).toContain(`end 2 hot @${t0 + 40_000 + 12}`);
    // established keeps running
    const before = rtts.length;
    await s.runAsync({ until: t0 + 75_000 });
    expect(rtts.length).toBe(before + 3);
    const stoppedEst = out.stopInitiators('established');
    await s.runAsync({ until: t0 + 90_000 });
    expect((await stoppedEst).map((o) => o.status)).toEqual(['returned']);
    expect(seen.filter((e) => e.startsWith('start')).map((e) => e.split(' @')[0])).toEqual([
      'start 8 established',
      'start 2 hot',
    ]);
    expect(seen.some((e) => e.startsWith('end 8 established'))).toBe(true);
    expect(out.isClosed).toBe(false);
  });

  it('a hot group that does not stop within its limit ends the connection at exactly that time', async () => {
    const s = new Scheduler();
    const { out } = await pair(s, { acceptorResponders: nodeResponders({ chain: chainOf(0) }) });
    out.startInitiators('hot', { 2: followChain({ onEvent: () => undefined }) });
    await s.runAsync({ until: s.now() + 1000 });
    const t0 = s.now();
    let closedAt = -1;
    let closeError: NetError | undefined;
    out.on('close', (e) => {
      closedAt = s.now();
      closeError = e;
    });
    const stopped = out.stopInitiators('hot', 300_000);
    await s.runAsync({ until: t0 + 400_000 });
    expect((await stopped)[0]?.status).toBe('errored');
    expect(closedAt).toBe(t0 + 300_000);
    expect(closeError?.code).toBe('PROTOCOL_TIMEOUT');
  });

  it('times out in virtual time: keep-alive answer (60 s), handshake answer (10 s), a stalled segment (30 s)', async () => {
    // a responder that reads the request and never answers
    const silent: Responders = {
      8: async (channel) => {
        channel.attach(() => undefined);
      },
    };
    const s = new Scheduler();
    const { out } = await pair(s, { acceptorResponders: silent });
    const t0 = s.now();
    let failedAt = -1;
    const ka = out.keepAlive(1).catch((e: NetError) => {
      failedAt = s.now();
      return e.code;
    });
    await s.runAsync({ until: t0 + 120_000 });
    expect(await ka).toBe('KEEPALIVE_TIMEOUT');
    expect(failedAt).toBe(t0 + 60_000);

    const s2 = new Scheduler();
    const [a, b] = memoryPair({ clock: s2, delayAB: 5, delayBA: 5 });
    b.attach({ data: () => undefined, drain: () => undefined, end: () => undefined, close: () => undefined });
    let hsAt = -1;
    const hs = openConnection(a, { role: 'proposer', versions: [15], data: data(true), clock: s2 }).catch(
      (e: NetError) => {
        hsAt = s2.now();
        return e.code;
      },
    );
    await s2.runAsync({ until: 60_000 });
    expect(await hs).toBe('HANDSHAKE_TIMEOUT');
    expect(hsAt).toBe(10_000);

    const s3 = new Scheduler();
    const [c, d] = memoryPair({ clock: s3 });
    const acc = openConnection(d, { role: 'acceptor', versions: [15], data: data(false), clock: s3 });
    // a proposal by hand, then the first 3 bytes of a segment that never completes
    const propose = Buffer.from('00000000000000098200a10f8402f500f4', 'hex');
    c.attach({ data: () => undefined, drain: () => undefined, end: () => undefined, close: () => undefined });
    c.write(propose);
    await s3.runAsync({ until: 100 });
    const r = await acc;
    if (r.kind !== 'connected') throw new Error('not accepted');
    c.write(Buffer.from('000000', 'hex'));
    let sduAt = -1;
    void r.connection.closed.then(() => {
      sduAt = s3.now();
    });
    await s3.runAsync({ until: 100_000 });
    expect(r.connection.mux.error?.code).toBe('MUX_SDU_TIMEOUT');
    expect(sduAt).toBe(100 + 30_000);
  });

  it('close sends FIN (the peer sees a clean end); abort sends RST (the peer sees a reset)', async () => {
    const s = new Scheduler();
    const { out, inb } = await pair(s);
    const ka = out.keepAlive(3);
    await s.runAsync({ until: s.now() + 100 });
    expect(await ka).toBe(12);
    const closing = out.close();
    await s.runAsync({ until: s.now() + 5000 });
    await closing;
    expect(out.mux.error).toBeUndefined();
    expect(inb.isClosed).toBe(true);

    const s2 = new Scheduler();
    const p2 = await pair(s2);
    p2.out.abort();
    await s2.runAsync({ until: s2.now() + 100 });
    expect(p2.out.mux.error).toBeUndefined();
    expect(p2.inb.mux.error?.code).toBe('CONNECTION_RESET');
  });

  it('a clean close that the peer answers at once leaves no timer behind', async () => {
    const s = new Scheduler();
    const { out, inb } = await pair(s);
    const ka = out.keepAlive(3);
    await s.runAsync({ until: s.now() + 100 });
    await ka;
    const closing = out.close(60_000);
    await s.runAsync({ until: s.now() + 200 });
    await closing;
    expect(inb.isClosed).toBe(true);
    // nothing of the close is left to run (its wait for the goodbyes used to stay armed for 60 s)
    expect(s.next()).toBeUndefined();
  });

  it("a caller's timeout holds for its own request only, not for later ones on the same connection", async () => {
    const s = new Scheduler();
    const { out, inb } = await pair(s);
    const first = out.keepAliveClient.roundTrip(1, 2_000);
    await s.runAsync({ until: s.now() + 100 });
    expect(await first).toBe(12);
    // the peer stops answering: the next round trip without a limit of its own waits the
    // protocol's 60 s, not the 2 s the first one asked for
    (inb.mux.bearer as MemoryBearer).pause();
    const failed = out.keepAliveClient.roundTrip(2).then(
      () => undefined,
      (e: NetError) => ({ code: e.code, at: s.now() }),
    );
    const start = s.now();
    await s.runAsync({ until: start + 120_000 });
    const r = await failed;
    expect(r?.code).toBe('KEEPALIVE_TIMEOUT');
    expect(r?.at).toBeGreaterThan(start + 59_000);
  });

  it('the memory transport keeps order and applies back-pressure to a writer whose reader is paused', async () => {
    const s = new Scheduler();
    const [a, b] = memoryPair({ clock: s, delayAB: 3, highWaterMark: 1000 });
    const got: number[] = [];
    let drained = -1;
    a.attach({ data: () => undefined, drain: () => (drained = s.now()), end: () => undefined, close: () => undefined });
    b.attach({ data: (c) => got.push(...c), drain: () => undefined, end: () => undefined, close: () => undefined });
    b.pause();
    expect(a.write(new Uint8Array(600).fill(1))).toBe(true);
    expect(a.write(new Uint8Array(600).fill(2))).toBe(false);
    await s.runAsync({ until: 50 });
    expect(got.length).toBe(0);
    expect(a.writableLength).toBe(1200);
    b.resume();
    await s.runAsync({ until: 100 });
    expect(got.length).toBe(1200);
    expect(got[0]).toBe(1);
    expect(got[1199]).toBe(2);
    expect(drained).toBe(50);
    expect(a.writableLength).toBe(0);
  });
});
