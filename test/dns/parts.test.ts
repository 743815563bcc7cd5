import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AnswerCache } from '../../src/dns/cache.js';
import { clipTtl } from '../../src/dns/index.js';
import { Limiter } from '../../src/dns/limiter.js';
import { parseDnsServer, parseResolvConf } from '../../src/dns/resolv-conf.js';
import { lowestPriorityGroup, type SrvRecord, weightedOrder, weightedPick } from '../../src/dns/srv.js';

const srv = (target: string, priority: number, weight: number): SrvRecord => ({
  target,
  priority,
  weight,
  port: 3001,
  ttl: 60,
});

describe('SRV rule', () => {
  it('drops "." and keeps the lowest priority group', () => {
    const g = lowestPriorityGroup([srv('.', 0, 0), srv('b', 20, 1), srv('a', 10, 1), srv('c', 10, 5)]);
    expect(g.map((r) => r.target)).toEqual(['a', 'c']);
    expect(lowestPriorityGroup([srv('.', 0, 0)])).toEqual([]);
  });

  it('picks by weight: the point falls in the target cumulative range', () => {
    const g = [srv('a', 1, 1), srv('b', 1, 3)];
    expect(weightedPick(g, () => 0)).toBe(0);
    expect(weightedPick(g, () => 0.24)).toBe(0);
    expect(weightedPick(g, () => 0.26)).toBe(1);
    expect(weightedPick(g, () => 0.999)).toBe(1);
    expect(weightedPick([srv('a', 1, 0), srv('b', 1, 0)], () => 0.6)).toBe(1);
  });

  it('orders the whole group as a permutation, never picking a zero weight before positive ones unless drawn', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 100 }), { minLength: 1, maxLength: 8 }),
        fc.double({ min: 0, max: 0.9999 }),
        (ws, x) => {
          const group = ws.map((w, i) => srv(`t${i}`, 1, w));
          const order = weightedOrder(group, () => x);
          expect(order.map((r) => r.target).sort()).toEqual(group.map((r) => r.target).sort());
        },
      ),
      { seed: 1, numRuns: 500 },
    );
  });
});

describe('TTL', () => {
  it('clips into [60, 900]', () => {
    expect([0, 5, 60, 300, 900, 86400].map(clipTtl)).toEqual([60, 60, 60, 300, 900, 900]);
  });
});

describe('AnswerCache', () => {
  const msg = (n: number, size = 40): Buffer => Buffer.alloc(size, n);

  it('expires entries at their TTL and evicts the least recently used', () => {
    let now = 0;
    const c = new AnswerCache(10, () => now);
    for (let i = 0; i < 10; i++) c.set('A', `n${i}`, 'NOERROR', 's', msg(i), i === 0 ? 5 : 100);
    expect(c.get('A', 'n0')?.message).toEqual(msg(0)); // n0 is now the most recent
    c.set('A', 'new', 'NXDOMAIN', 'other', msg(99), 100); // full: the least recently used tenth (n1) goes
    expect(c.has('A', 'n1')).toBe(false);
    expect(c.get('A', 'n1')).toBeUndefined();
    expect(c.size).toBe(10);
    expect(c.get('A', 'new')).toMatchObject({ rcode: 'NXDOMAIN', server: 'other', message: msg(99) });
    now = 4000;
    expect(c.get('A', 'n0')?.remainingSec).toBe(1);
    now = 5001;
    expect(c.has('A', 'n0')).toBe(false);
    expect(c.get('A', 'n0')).toBeUndefined();
    expect(c.size).toBe(9);
    c.set('A', 'z', 'NOERROR', 's', msg(1), 0);
    expect(c.get('A', 'z')).toBeUndefined();
    c.set('A', 'at', 'NOERROR', 's', msg(1), 1, 10_000); // from a time the caller read
    now = 10_999;
    expect(c.has('A', 'at')).toBe(true);
    now = 11_000;
    expect(c.has('A', 'at')).toBe(false);
  });

  it('keeps question types apart', () => {
    const c = new AnswerCache(10);
    c.set('A', 'relay.test', 'NOERROR', 's', msg(4), 60);
    c.set('AAAA', 'relay.test', 'NOERROR', 's', msg(6), 60);
    expect(c.get('A', 'relay.test')?.message).toEqual(msg(4));
    expect(c.get('AAAA', 'relay.test')?.message).toEqual(msg(6));
    expect(c.get('SRV', 'relay.test')).toBeUndefined();
    expect(c.size).toBe(2);
  });

  it('never holds more than its capacity and keeps every answer intact, large ones too', () => {
    const c = new AnswerCache(100);
    const size = (i: number): number => (i % 7 === 0 ? 1200 : 30 + (i % 400));
    for (let i = 0; i < 10_000; i++) c.set(i % 3 ? 'A' : 'AAAA', String(i), 'NOERROR', 's', msg(i & 255, size(i)), 60);
    expect(c.size).toBeLessThanOrEqual(100);
    expect(c.size).toBeGreaterThanOrEqual(90);
    for (let i = 9_950; i < 10_000; i++) {
      expect(c.get(i % 3 ? 'A' : 'AAAA', String(i))?.message).toEqual(msg(i & 255, size(i)));
    }
  });

  it('gives a copy: a later answer in the same place does not change it', () => {
    const c = new AnswerCache(1);
    c.set('A', 'a', 'NOERROR', 's', msg(1), 60);
    const got = c.get('A', 'a')?.message;
    c.set('A', 'b', 'NOERROR', 's', msg(2), 60);
    expect(got).toEqual(msg(1));
    expect(c.get('A', 'a')).toBeUndefined();
    c.clear();
    expect(c.size).toBe(0);
    c.set('A', 'c', 'NOERROR', 's', msg(3), 60);
    expect(c.get('A', 'c')?.message).toEqual(msg(3));
  });

  it('caches nothing with a capacity of 0', () => {
    const c = new AnswerCache(0);
    c.set('A', 'a', 'NOERROR', 's', msg(1), 60);
    expect(c.get('A', 'a')).toBeUndefined();
    expect(c.size).toBe(0);
  });
});

describe('Limiter', () => {
  it('keeps at most `limit` tasks in flight and lets aborted waiters go', async () => {
    const l = new Limiter(3);
    let peak = 0;
    const task = async (): Promise<void> => {
      peak = Math.max(peak, l.inFlight);
      await new Promise((r) => setTimeout(r, 5));
    };
    await Promise.all(Array.from({ length: 20 }, () => l.run(task)));
    expect(peak).toBe(3);
    const ac = new AbortController();
    const blockers = Array.from({ length: 3 }, () => l.run(() => new Promise((r) => setTimeout(r, 50))));
    const waiting = l.run(task, ac.signal);
    ac.abort(new Error('gone'));
    await expect(waiting).rejects.toThrow('gone');
    await Promise.all(blockers);
    expect(l.inFlight).toBe(0);
  });
});

describe('resolv.conf and --dns-server', () => {
  it('reads nameserver lines', () => {
    expect(parseResolvConf('# c\nnameserver 10.0.0.1\nsearch x\nnameserver fe80::1%eth0\nnameserver bogus\n')).toEqual([
      { host: '10.0.0.1', port: 53 },
      { host: 'fe80::1', port: 53 },
    ]);
  });

  it('parses IP[:PORT] and refuses names', () => {
    expect(parseDnsServer('127.0.0.1:5353')).toEqual({ host: '127.0.0.1', port: 5353 });
    expect(parseDnsServer('[::1]:53')).toEqual({ host: '::1', port: 53 });
    expect(parseDnsServer('::1')).toEqual({ host: '::1', port: 53 });
    expect(() => parseDnsServer('dns.example')).toThrow(/not an IP address/);
  });
});
