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

  it('keeps an answer exactly for its TTL', () => {
    let now = 0;
    const c = new AnswerCache(10, () => now);
    c.set('A', 'a', 'NOERROR', 's', msg(0), 5);
    c.set('A', 'b', 'NXDOMAIN', 'other', msg(9), 100);
    expect(c.get('A', 'b')).toMatchObject({ rcode: 'NXDOMAIN', server: 'other', message: msg(9), remainingSec: 100 });
    now = 4000;
    expect(c.get('A', 'a')?.remainingSec).toBe(1);
    now = 5001;
    expect(c.has('A', 'a')).toBe(false);
    expect(c.get('A', 'a')).toBeUndefined();
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
  });

  it('never holds more than its capacity, keeps the newest answers and those in use', () => {
    const c = new AnswerCache(100);
    c.set('A', 'used', 'NOERROR', 's', msg(7), 600);
    for (let i = 0; i < 10_000; i++) {
      c.set(i % 3 ? 'A' : 'AAAA', String(i), 'NOERROR', 's', msg(i & 255), 60);
      expect(c.size).toBeLessThanOrEqual(100);
      if (i % 20 === 0) expect(c.get('A', 'used')?.message).toEqual(msg(7)); // read now and then: it stays
    }
    for (let i = 9_960; i < 10_000; i++) expect(c.get(i % 3 ? 'A' : 'AAAA', String(i))?.message).toEqual(msg(i & 255));
    expect(c.has('A', '1')).toBe(false); // long gone
  });

  it('a new answer for a name replaces the old one', () => {
    const c = new AnswerCache(4);
    c.set('A', 'a', 'NOERROR', 's', msg(1), 60);
    c.set('A', 'b', 'NOERROR', 's', msg(2), 60); // generation of 2 full: a and b are now the old one
    c.set('A', 'a', 'NOERROR', 's', msg(3), 60);
    expect(c.get('A', 'a')?.message).toEqual(msg(3));
    c.clear();
    expect(c.size).toBe(0);
    expect(c.get('A', 'b')).toBeUndefined();
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
