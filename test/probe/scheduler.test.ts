import { Chalk } from 'chalk';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SpoError } from '../../src/lib/errors.js';
import {
  type AttemptOutcome,
  failVerdict,
  majorityTipSlot,
  type ProbeAddressResult,
  ProbeCollector,
  type ProbeEndpoint,
  type ProbeRelay,
  type ProbeTarget,
  probeEndpoints,
  type ScheduleOptions,
  type StageFunction,
  targetsFromArgs,
} from '../../src/probe/index.js';
import { palette } from '../../src/ui/color.js';
import { renderProbeCsv, renderProbeTable } from '../../src/ui/probe-report.js';

const plain = palette(new Chalk({ level: 0 }));
const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

/** A fake network: the behaviour of each address decided by its last octet / name. */
function fakeResolve(relay: ProbeRelay): Promise<ProbeEndpoint[]> {
  if (relay.host.endsWith('.nx')) {
    return Promise.reject(new SpoError('DNS_NXDOMAIN', `${relay.host}: no such name`));
  }
  if (relay.kind === 'dns') {
    return Promise.resolve([
      { address: '10.0.0.1', port: relay.port ?? 3001, family: 4 },
      { address: '10.0.0.2', port: relay.port ?? 3001, family: 4 },
    ]);
  }
  return Promise.resolve([{ address: relay.host, port: relay.port ?? 3001, family: relay.kind === 'ipv6' ? 6 : 4 }]);
}

function fakeStage(
  behaviour: (e: ProbeEndpoint) => string,
  counters?: { calls: number; max: number; now: number },
): StageFunction {
  return async (e, ctx) => {
    if (counters) {
      counters.calls++;
      counters.now++;
      counters.max = Math.max(counters.max, counters.now);
    }
    try {
      const b = behaviour(e);
      ctx.stage('connect');
      if (b === 'refuse') return { status: 'CONNECT_REFUSED', stage: 'connect', message: 'refused' };
      if (b === 'hang') {
        await sleep(10_000, ctx.signal); // only the watchdog ends this
        return { status: 'ok' };
      }
      if (b === 'silent') {
        ctx.stage('handshake');
        await sleep(10_000, ctx.signal);
        return { status: 'ok' };
      }
      if (b === 'magic') throw new SpoError('HANDSHAKE_REFUSED_MAGIC', 'wrong magic');
      if (b.startsWith('flaky')) {
        // times out the first time, answers the second
        const seen = (flakySeen.get(e.address) ?? 0) + 1;
        flakySeen.set(e.address, seen);
        if (seen === 1) {
          await sleep(10_000, ctx.signal);
          return { status: 'ok' };
        }
      }
      await sleep(2);
      const tipSlot = b.startsWith('tip') ? Number(b.slice(3)) : undefined;
      return {
        status: 'ok',
        connectMs: 1,
        handshakeMs: 2,
        rttSamplesMs: [3, 1, 2],
        version: 14,
        ...(tipSlot === undefined ? {} : { tip: { slot: tipSlot, blockNo: 1, hash: 'ab' } }),
      };
    } finally {
      if (counters) counters.now--;
    }
  };
}
const flakySeen = new Map<string, number>();

async function collect(targets: ProbeTarget[], opts: Partial<ScheduleOptions> & Pick<ScheduleOptions, 'attempt'>) {
  const col = new ProbeCollector();
  for (const t of targets) col.expectPool(t.pool, t.ticker);
  const started = performance.now();
  for await (const r of probeEndpoints(targets, {
    resolve: fakeResolve,
    concurrency: 8,
    attemptDeadlineMs: 150,
    stageTimeoutMs: 100,
    ...opts,
  })) {
    col.add(r);
  }
  return { report: col.finish(performance.now() - started), ms: performance.now() - started };
}

const ip = (host: string, port = 3001): ProbeRelay => ({ kind: 'ipv4', host, port });

describe('probe scheduler with a fake stage function', () => {
  it('reports each fault with its reason and nothing reachable as failed', async () => {
    const kinds: Record<string, string> = {
      '1.1.1.1': 'ok',
      '1.1.1.2': 'refuse',
      '1.1.1.3': 'hang',
      '1.1.1.4': 'silent',
      '1.1.1.5': 'magic',
      '10.0.0.1': 'ok',
      '10.0.0.2': 'ok',
    };
    const targets: ProbeTarget[] = [
      { pool: 'A', ticker: 'AAA', relay: ip('1.1.1.1') },
      { pool: 'A', ticker: 'AAA', relay: ip('1.1.1.2') },
      { pool: 'A', ticker: 'AAA', relay: ip('1.1.1.3') },
      { pool: 'B', relay: ip('1.1.1.4') },
      { pool: 'B', relay: ip('1.1.1.5') },
      { pool: 'C', relay: { kind: 'dns', host: 'gone.nx', port: 3001 } },
      { pool: 'D', relay: { kind: 'dns', host: 'two.example', port: 3001 } },
      { pool: 'E', relay: ip('127.0.0.1'), skip: 'loopback' },
    ];
    const { report } = await collect(targets, { attempt: fakeStage((e) => kinds[e.address] ?? 'ok'), retry: 'never' });
    const status = (addr: string) => report.addresses.find((r) => r.address === addr)?.status;
    expect(status('1.1.1.1')).toBe('ok');
    expect(status('1.1.1.2')).toBe('CONNECT_REFUSED');
    expect(status('1.1.1.3')).toBe('CONNECT_TIMEOUT');
    expect(status('1.1.1.4')).toBe('HANDSHAKE_TIMEOUT');
    expect(status('1.1.1.5')).toBe('HANDSHAKE_REFUSED_MAGIC');
    expect(status('gone.nx')).toBe('DNS_NXDOMAIN');
    expect(status('127.0.0.1')).toBe('UNUSABLE_ADDRESS');
    expect(report.addresses.filter((r) => r.relay === 'two.example').map((r) => r.status)).toEqual(['ok', 'ok']);
    const ok = report.addresses.find((r) => r.address === '1.1.1.1') as ProbeAddressResult;
    expect(ok).toMatchObject({ rttMs: 2, rttMinMs: 1, rttMaxMs: 3, samples: 3, version: 14, port: 3001 });
    const pools = Object.fromEntries(report.pools.map((p) => [p.id, p]));
    expect(pools.A?.summary).toBe('1 of 3 relays reachable');
    expect(pools.A?.status).toBe('partial');
    expect(pools.B?.status).toBe('unreachable');
    expect(pools.D?.summary).toBe('1 of 1 relay reachable');
    expect(report.pools[0]?.status).toBe('unreachable'); // worst first
    expect(report.addresses[0]?.stage).toBe('resolve');
    expect(report.summary).toMatchObject({ addresses: 9, ok: 3, failed: 6, pools: 5, unreachablePools: 3 });
    expect(failVerdict(report, 'pool')).toMatch(/3 of 5 pools unreachable/);
    expect(failVerdict(report, 'any')).toMatch(/6 of 9/);
    expect(failVerdict(report, 'none')).toBeUndefined();
    const table = renderProbeTable(report, plain, false);
    expect(table.split('\n')[0]).toMatch(/^STATUS\s+POOL/);
    expect(table).toContain('1 of 3 relays reachable');
    const csv = renderProbeCsv(report).split('\r\n');
    expect(csv[0]?.startsWith('pool,ticker,relay,relayKind,address,port')).toBe(true);
    expect(csv).toHaveLength(report.addresses.length + 2);
  });

  it('never runs more attempts at once than the concurrency, and the watchdog really ends attempts', async () => {
    const counters = { calls: 0, max: 0, now: 0 };
    const targets = Array.from({ length: 60 }, (_, i) => ({ pool: `P${i}`, relay: ip(`2.0.0.${i}`) }));
    const { report, ms } = await collect(targets, {
      attempt: fakeStage((e) => (Number(e.address.split('.')[3]) % 3 === 0 ? 'hang' : 'ok'), counters),
      concurrency: 20,
      retry: 'never',
    });
    expect(counters.max).toBeLessThanOrEqual(20);
    expect(counters.max).toBeGreaterThan(10);
    expect(report.summary.byStatus.CONNECT_TIMEOUT).toBe(20);
    expect(report.summary.ok).toBe(40);
    // 20 hanging attempts, 20 slots, 150 ms deadline: about one or two deadlines, never 10 s.
    expect(ms).toBeLessThan(1500);
  });

  it('probes a shared endpoint once and reports it for every relay', async () => {
    const counters = { calls: 0, max: 0, now: 0 };
    const targets: ProbeTarget[] = [
      { pool: 'A', relay: ip('3.3.3.3') },
      { pool: 'B', relay: ip('3.3.3.3') },
      { pool: 'C', relay: ip('3.3.3.3') },
    ];
    const { report } = await collect(targets, { attempt: fakeStage(() => 'ok', counters) });
    expect(counters.calls).toBe(1);
    expect(report.addresses).toHaveLength(3);
    expect(report.addresses.every((r) => r.shared === true && r.status === 'ok')).toBe(true);
  });

  it('retries timeouts at a lower concurrency when asked, and auto only under congestion', async () => {
    flakySeen.clear();
    const targets = Array.from({ length: 6 }, (_, i) => ({ pool: `P${i}`, relay: ip(`4.0.0.${i}`) }));
    const always = await collect(targets, { attempt: fakeStage(() => 'flaky'), retry: 'always' });
    expect(always.report.summary.ok).toBe(6);
    expect(always.report.addresses.every((r) => r.attempts === 2)).toBe(true);
    flakySeen.clear();
    // every attempt timed out: more than half, a congestion sign, so auto retries
    const auto = await collect(targets, { attempt: fakeStage(() => 'flaky'), retry: 'auto' });
    expect(auto.report.summary.ok).toBe(6);
    flakySeen.clear();
    // one dead host among healthy fast ones: no congestion sign, no retry
    const mixed = [...targets, { pool: 'X', relay: ip('9.9.9.9') }];
    const noRetry = await collect(mixed, {
      attempt: fakeStage((e) => (e.address === '9.9.9.9' ? 'hang' : 'ok')),
      retry: 'auto',
      // a 2 s stage timeout: only a stall of 1 s of this process would count as congestion
      stageTimeoutMs: 2000,
    });
    expect(noRetry.report.summary.retried).toBe(0);
    expect(noRetry.report.summary.byStatus.CONNECT_TIMEOUT).toBe(1);
  });

  it('computes slot lag against the majority tip, not an outlier', async () => {
    const slots: Record<string, string> = {
      '5.0.0.1': 'tip1000',
      '5.0.0.2': 'tip990',
      '5.0.0.3': 'tip995',
      '5.0.0.4': 'tip900000', // far ahead of everyone: not followed
      '5.0.0.5': 'tip400',
    };
    const targets = Object.keys(slots).map((a, i) => ({ pool: `P${i}`, relay: ip(a) }));
    const { report } = await collect(targets, { attempt: fakeStage((e) => slots[e.address] ?? 'ok') });
    expect(report.reference?.slot).toBe(1000);
    const lag = (a: string) => report.addresses.find((r) => r.address === a)?.slotLag;
    expect(lag('5.0.0.2')).toBe(10);
    expect(lag('5.0.0.5')).toBe(600);
    expect(lag('5.0.0.4')).toBe(0);
    expect(report.addresses.filter((r) => r.status === 'ok')[0]?.address).toBe('5.0.0.5'); // most lagging first
  });

  it('stops when cancelled', async () => {
    const ac = new AbortController();
    const targets = Array.from({ length: 50 }, (_, i) => ({ pool: `P${i}`, relay: ip(`6.0.0.${i}`) }));
    setTimeout(() => ac.abort(new Error('stop')), 50);
    const started = performance.now();
    await expect(
      collect(targets, {
        attempt: fakeStage(() => 'hang'),
        concurrency: 5,
        attemptDeadlineMs: 5000,
        signal: ac.signal,
      }),
    ).rejects.toThrow('stop');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('keeps memory bounded: pulls targets lazily from a generator', async () => {
    let pulled = 0;
    let maxAhead = 0;
    let done = 0;
    function* many(): Generator<ProbeTarget> {
      for (let i = 0; i < 5000; i++) {
        pulled++;
        maxAhead = Math.max(maxAhead, pulled - done);
        yield { pool: `P${i}`, relay: ip(`7.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`) };
      }
    }
    let n = 0;
    for await (const _ of probeEndpoints(many(), {
      resolve: fakeResolve,
      attempt: async () => ({ status: 'ok', handshakeMs: 1 }) as AttemptOutcome,
      concurrency: 16,
      resolveConcurrency: 8,
      attemptDeadlineMs: 1000,
      stageTimeoutMs: 1000,
    })) {
      n++;
      done++;
    }
    expect(n).toBe(5000);
    expect(maxAhead).toBeLessThan(200);
  });
});

describe('reference tip', () => {
  it('is a reported slot, supported by a strict majority, never beaten by a minority ahead', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 2000 }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.integer({ min: 10_000_000, max: 20_000_000 }), { maxLength: 30 }),
        (honest, liars) => {
          fc.pre(liars.length < honest.length);
          const all = [...honest, ...liars];
          const ref = majorityTipSlot(all, 120);
          if (ref === undefined) return;
          expect(all).toContain(ref);
          expect(ref).toBeLessThan(10_000_000);
          expect(all.filter((s) => s >= ref - 120 && s <= ref).length * 2).toBeGreaterThan(all.length);
        },
      ),
      { seed: 5, numRuns: 300 },
    );
    expect(majorityTipSlot([100, 101, 102])).toBe(102);
    expect(majorityTipSlot([])).toBeUndefined();
  });
});

describe('targets from arguments', () => {
  it('parses IPv4, IPv6, names and SRV names', () => {
    const t = targetsFromArgs(['1.2.3.4:3001', '[::1]:6000', 'relay.example.com', '_cardano._tcp.example.com'], 3001);
    expect(t.map((x) => [x.relay.kind, x.relay.host, x.relay.port])).toEqual([
      ['ipv4', '1.2.3.4', 3001],
      ['ipv6', '::1', 6000],
      ['dns', 'relay.example.com', 3001],
      ['srv', '_cardano._tcp.example.com', undefined],
    ]);
    expect(() => targetsFromArgs(['bad host:1'], 3001)).toThrow(/invalid address/);
  });
});

describe('aggregation properties', () => {
  it('pool and relay counts agree with the per-address results', () => {
    const statuses = ['ok', 'ok', 'CONNECT_REFUSED', 'HANDSHAKE_TIMEOUT', 'DNS_NXDOMAIN'] as const;
    const row = fc.record({
      pool: fc.constantFrom('A', 'B', 'C', 'D'),
      relay: fc.constantFrom('r1', 'r2', 'r3'),
      address: fc.constantFrom('10.0.0.1', '10.0.0.2', '10.0.0.3'),
      status: fc.constantFrom(...statuses),
      rtt: fc.double({ min: 0.1, max: 3000, noNaN: true }),
    });
    fc.assert(
      fc.property(fc.array(row, { maxLength: 60 }), (rows) => {
        const col = new ProbeCollector();
        for (const r of rows) {
          col.add({
            pool: r.pool,
            relay: r.relay,
            relayKind: 'dns',
            address: r.address,
            port: 3001,
            family: 4,
            status: r.status,
            attempts: 1,
            ...(r.status === 'ok' ? { rttMs: r.rtt } : {}),
          });
        }
        const rep = col.finish(1);
        const s = rep.summary;
        expect(s.ok + s.failed).toBe(rows.length);
        expect(s.rtt.histogram.reduce((n, b) => n + b.count, 0)).toBe(s.ok);
        expect(s.reachablePools + s.partialPools + s.unreachablePools).toBe(s.pools);
        for (const p of rep.pools) {
          const mine = rows.filter((r) => r.pool === p.id);
          const relays = new Set(mine.map((r) => r.relay));
          const up = new Set(mine.filter((r) => r.status === 'ok').map((r) => r.relay));
          expect(p.relays).toHaveLength(relays.size);
          expect(p.reachableRelays).toBe(up.size);
          expect(p.status).toBe(up.size === 0 ? 'unreachable' : up.size === relays.size ? 'reachable' : 'partial');
          expect(p.summary).toBe(`${up.size} of ${relays.size} relay${relays.size === 1 ? '' : 's'} reachable`);
        }
        // worst first: no ok row before a failure
        const firstOk = rep.addresses.findIndex((a) => a.status === 'ok');
        if (firstOk >= 0) expect(rep.addresses.slice(firstOk).every((a) => a.status === 'ok')).toBe(true);
      }),
      { seed: 55, numRuns: 200 },
    );
  });
});

describe('congestion detection', () => {
  it('retries timeouts under --retry auto when the event loop itself stalled', async () => {
    flakySeen.clear();
    const targets = [
      ...Array.from({ length: 6 }, (_, i) => ({ pool: `P${i}`, relay: ip(`8.0.0.${i}`) })),
      { pool: 'F', relay: ip('8.0.1.1') },
    ];
    let stalled = false;
    const { report } = await collect(targets, {
      attempt: async (e, ctx) => {
        if (e.address === '8.0.1.1') return fakeStage(() => 'flaky')(e, ctx);
        if (!stalled) {
          stalled = true;
          const until = performance.now() + 400; // a 400 ms stall: CPU starvation of this process
          while (performance.now() < until) {
            /* busy */
          }
        }
        return { status: 'ok', handshakeMs: 1 };
      },
      retry: 'auto',
      stageTimeoutMs: 400,
      attemptDeadlineMs: 600,
    });
    expect(report.summary.retried).toBe(1);
    expect(report.addresses.find((a) => a.address === '8.0.1.1')?.status).toBe('ok');
  });
});
