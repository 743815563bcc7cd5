/**
 * Root peers resolved as the node does (governor.md §6.2-6.4), against the deterministic fake
 * resolver, in virtual time: TTL clipping, the local-root lookup schedule (TTL, 60 s after an empty
 * answer, 900 s after NXDOMAIN, clip(2·t + 5 s) after failures), the SRV rule, and public roots
 * (ledger first, one address per name; topology public roots only when the ledger gives nothing).
 */
import { describe, expect, it } from 'vitest';
import {
  clipTtlMs,
  errorRetryMs,
  isLiteralPeer,
  LocalRootsProvider,
  PublicRootPeers,
  pickSrvTarget,
  type RootPeerResolver,
  resolveAccessPoint,
} from '../../src/driver/root-peers.js';
import { SyncResult } from '../../src/driver/sync-result.js';
import { createRng } from '../../src/governor/rng.js';
import type { LocalRootGroupConfig, RootPeerResult } from '../../src/governor/types.js';
import { FakeResolver, fakeAddresses } from '../../src/sim/fake-resolver.js';
import { Scheduler } from '../../src/sim/scheduler.js';

/** Settles a PromiseLike that the fake resolver settles synchronously. */
function now<T>(p: PromiseLike<T>): T {
  let out: { v: T } | undefined;
  p.then((v) => {
    out = { v };
  });
  if (!out) throw new Error('did not settle synchronously');
  return out.v;
}

describe('root-peer resolution', () => {
  it('clips TTLs to [60, 900] s and backs off failures as clip(2·t + 5 s)', () => {
    expect(clipTtlMs(5)).toBe(60_000);
    expect(clipTtlMs(300)).toBe(300_000);
    expect(clipTtlMs(86_400)).toBe(900_000);
    const waits = [60_000];
    for (let i = 0; i < 5; i++) waits.push(errorRetryMs(waits.at(-1) as number));
    expect(waits).toEqual([60_000, 125_000, 255_000, 515_000, 900_000, 900_000]);
  });

  it('literal addresses stay as they are; a name becomes all its addresses with the port; SRV by the node rule', () => {
    const r = new FakeResolver();
    const rng = createRng(1);
    expect(isLiteralPeer('1.2.3.4:3001')).toBe(true);
    expect(isLiteralPeer('[2001:db8::1]:3001')).toBe(true);
    expect(isLiteralPeer('relay.example.com:3001')).toBe(false);
    expect(now(resolveAccessPoint(r, '1.2.3.4:3001', rng))).toEqual({ peers: ['1.2.3.4:3001'], ttlMs: 900_000 });
    expect(r.asked).toEqual([]);
    const named = now(resolveAccessPoint(r, 'relay.example.com:6000', rng));
    expect(named).toEqual({
      peers: fakeAddresses('relay.example.com').map((a) => `${a}:6000`),
      ttlMs: 300_000,
    });
    const srv = now(resolveAccessPoint(r, '_cardano._tcp.example.com', rng));
    expect(srv.ttlMs).toBe(600_000); // the SRV record's TTL
    expect(srv.peers.every((p) => p.endsWith(':3001'))).toBe(true);
    expect(r.asked.at(-2)).toEqual({ name: '_cardano._tcp.example.com', kind: 'srv' });
  });

  it('the SRV rule drops ".", keeps the lowest priority and draws by weight', () => {
    const rng = createRng(7);
    const records = [
      { target: '.', port: 1, priority: 0, weight: 100 },
      { target: 'a', port: 1, priority: 1, weight: 1 },
      { target: 'b', port: 1, priority: 1, weight: 3 },
      { target: 'c', port: 1, priority: 2, weight: 1000 },
    ];
    const n = { a: 0, b: 0, c: 0 } as Record<string, number>;
    for (let i = 0; i < 4000; i++) {
      const t = pickSrvTarget(records, rng)?.target as string;
      n[t] = (n[t] ?? 0) + 1;
    }
    expect(n.c).toBe(0);
    expect((n.b as number) / (n.a as number)).toBeGreaterThan(2.5);
    expect((n.b as number) / (n.a as number)).toBeLessThan(3.5);
    expect(pickSrvTarget([{ target: '.', port: 1, priority: 0, weight: 1 }], rng)).toBeUndefined();
  });

  it('local roots: names replaced by their addresses, published on change, looked up again on their schedule', () => {
    const sched = new Scheduler(0);
    const calls: Array<{ at: number; name: string }> = [];
    let answer: 'ok' | 'nx' | 'fail' = 'ok';
    const fake = new FakeResolver();
    const resolver: RootPeerResolver = {
      resolveAddresses(name) {
        calls.push({ at: sched.now(), name });
        const r = new SyncResult<{ addresses: string[]; ttlS: number }>();
        if (answer === 'ok') r.resolve({ addresses: fakeAddresses(name), ttlS: 120 });
        else r.reject(Object.assign(new Error(answer), { code: answer === 'nx' ? 'DNS_NXDOMAIN' : 'DNS_TIMEOUT' }));
        return r;
      },
      resolveSrv: (name) => fake.resolveSrv(name),
    };
    const published: LocalRootGroupConfig[][] = [];
    const p = new LocalRootsProvider(sched, resolver, createRng(1), (g) => published.push(g));
    p.configure([
      {
        hotValency: 1,
        peers: [
          { peer: '10.0.0.1:3001', config: { trustable: true } },
          { peer: 'bp.example.com:6000', config: { trustable: true } },
        ],
      },
    ]);
    // The literal at once, then the name's addresses with the same config.
    const last = published.at(-1)?.[0]?.peers ?? [];
    expect(last.map((x) => x.peer)).toEqual([
      '10.0.0.1:3001',
      ...fakeAddresses('bp.example.com').map((a) => `${a}:6000`),
    ]);
    expect(last.every((x) => x.config?.trustable === true)).toBe(true);
    const count = published.length;
    // The answer's TTL (120 s), unchanged answers are not published again.
    sched.run({ until: 119_999 });
    expect(calls.length).toBe(1);
    sched.run({ until: 120_000 });
    expect(calls.length).toBe(2);
    expect(published.length).toBe(count);
    // A failure after a 120 s wait backs off clip(2·120 + 5) = 245 s, then clip(2·245 + 5) = 495 s;
    // the last addresses stay meanwhile.
    answer = 'fail';
    sched.run({ until: 240_000 });
    expect(calls.map((c) => c.at)).toEqual([0, 120_000, 240_000]);
    sched.run({ until: 240_000 + 245_000 });
    expect(calls.at(-1)?.at).toBe(485_000);
    expect(published.at(-1)?.[0]?.peers.length).toBe(1 + fakeAddresses('bp.example.com').length);
    // NXDOMAIN drops the addresses and waits 900 s.
    answer = 'nx';
    sched.run({ until: 485_000 + 495_000 });
    expect(calls.at(-1)?.at).toBe(980_000);
    expect(published.at(-1)?.[0]?.peers.map((x) => x.peer)).toEqual(['10.0.0.1:3001']);
    answer = 'ok';
    sched.run({ until: 980_000 + 899_999 });
    expect(calls.at(-1)?.at).toBe(980_000);
    sched.run({ until: 980_000 + 900_000 });
    expect(calls.at(-1)?.at).toBe(1_880_000);
    expect(published.at(-1)?.[0]?.peers.length).toBe(1 + fakeAddresses('bp.example.com').length);
  });

  it('a name failing from the start is retried after 60, 125, 255, 515, 900, 900 s (clip(2·previous wait + 5 s))', () => {
    const sched = new Scheduler(0);
    const resolver = new FakeResolver(new Set(['down.example.com']));
    const at: number[] = [];
    const counting: RootPeerResolver = {
      resolveAddresses: (name) => {
        at.push(sched.now());
        return resolver.resolveAddresses(name);
      },
      resolveSrv: (name) => resolver.resolveSrv(name),
    };
    const published: LocalRootGroupConfig[][] = [];
    const p = new LocalRootsProvider(sched, counting, createRng(1), (g) => published.push(g));
    p.configure([{ hotValency: 1, peers: [{ peer: 'down.example.com:3001' }, { peer: '10.0.0.9:3001' }] }]);
    sched.run({ until: 3_000_000 });
    const waits = at.slice(1).map((t, i) => (t - (at[i] as number)) / 1000);
    expect(waits.slice(0, 6)).toEqual([60, 125, 255, 515, 900, 900]);
    // Nothing but the literal was ever published, and the loop never stopped.
    expect(published.map((g) => g[0]?.peers.map((x) => x.peer))).toEqual([['10.0.0.9:3001']]);
    expect(sched.next()).toBeDefined();
    p.stop();
  });

  it('public roots: ledger peers first (one address per name, TTL 5 s), topology roots only without them, bootstrap peers when asked', () => {
    const resolver = new FakeResolver(new Set(['down.example.com']));
    const publicRoots: RootPeerResult[] = [
      { peer: 'pr.example.com:3001', kind: 'public-root', advertise: true },
      { peer: 'down.example.com:3001', kind: 'public-root', advertise: true },
      { peer: '192.0.2.7:3001', kind: 'public-root', advertise: false },
    ];
    const bootstrapPeers: RootPeerResult[] = [
      { peer: 'backbone.example.com:3001', kind: 'bootstrap', advertise: false },
    ];
    let ledger = ['r1.example.com:3001', '192.0.2.9:6000'];
    const source = new PublicRootPeers(resolver, createRng(3), {
      publicRoots,
      bootstrapPeers,
      ledgerPeers: (n) => ledger.slice(0, n),
    });
    const a = now(source.requestRootPeers(5, { bootstrap: false }));
    expect(a.ttlMs).toBe(5000);
    expect(a.peers.map((p) => p.kind)).toEqual(['ledger', 'ledger']);
    expect(fakeAddresses('r1.example.com').map((x) => `${x}:3001`)).toContain(a.peers[0]?.peer);
    expect(a.peers[1]?.peer).toBe('192.0.2.9:6000');
    ledger = [];
    const b = now(source.requestRootPeers(5, { bootstrap: false }));
    expect(b.peers.map((p) => p.peer)).toEqual([
      ...fakeAddresses('pr.example.com').map((x) => `${x}:3001`),
      '192.0.2.7:3001',
    ]);
    expect(b.peers.every((p) => p.kind === 'public-root')).toBe(true);
    expect(b.ttlMs).toBe(900_000); // the literal's; the names' answers said 300 s
    const c = now(source.requestRootPeers(5, { bootstrap: true }));
    expect(c.peers.every((p) => p.kind === 'bootstrap' && !p.peer.startsWith('backbone'))).toBe(true);
    const none = new PublicRootPeers(resolver, createRng(3), {
      publicRoots: [{ peer: 'down.example.com:3001', kind: 'public-root', advertise: false }],
      bootstrapPeers: [],
      ledgerPeers: () => [],
    });
    expect(now(none.requestRootPeers(5, { bootstrap: false }))).toEqual({ peers: [], ttlMs: 60_000 });
  });
});
