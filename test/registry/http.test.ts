/**
 * Koios and Blockfrost sources against a real HTTP server on 127.0.0.1 that replays responses in the
 * shapes of their OpenAPI specs (Koios v1.4.2, Blockfrost v0.1.91): paging, 429 with Retry-After,
 * 500s, a server that never answers, a malformed body, empty relay lists, auth headers.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bech32 } from 'bech32';
import { afterEach, describe, expect, it } from 'vitest';
import { SpoError } from '../../src/lib/errors.js';
import { selectNetwork } from '../../src/lib/networks.js';
import { poolIdHex } from '../../src/registry/cardano-cli.js';
import { type LoadRegistryOptions, loadRegistry } from '../../src/registry/index.js';

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;
interface Logged {
  path: string;
  headers: IncomingMessage['headers'];
  at: number;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

async function serve(handler: Handler): Promise<{ url: string; log: Logged[] }> {
  const log: Logged[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    log.push({ path: url.pathname + url.search, headers: req.headers, at: performance.now() });
    handler(req, res, url);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/api/v1`, log };
}

function json(res: ServerResponse, body: unknown, status = 200, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** A bech32 pool id for pool number i. */
function poolId(i: number): string {
  const bytes = Buffer.alloc(28);
  bytes.writeUInt32BE(i, 24);
  return bech32.encode('pool', bech32.toWords(bytes));
}

const mainnet = selectNetwork('mainnet', undefined);

/** Koios pool_list / pool_relays rows for n pools: every 10th retired, every 7th without ticker. */
function koiosData(n: number): { list: unknown[]; relays: unknown[] } {
  const list = [];
  const relays = [];
  for (let i = 0; i < n; i++) {
    const id = poolId(i);
    list.push({
      pool_id_bech32: id,
      // (pool 4's ticker is far longer than the metadata standard allows: it must not fail the load)
      ticker: i % 7 === 0 ? null : i === 4 ? `Long${'x'.repeat(60)}` : `T${i}`,
      pool_status: i % 10 === 9 ? 'retired' : i % 50 === 3 ? 'retiring' : 'registered',
      active_stake: String(1_000_000 * (n - i)),
    });
    const r =
      i === 1
        ? [{ dns: null, srv: null, ipv4: null, ipv6: null, port: null }] // Koios' "no relays" row
        : i === 2
          ? []
          : [
              { dns: `Relay.Pool${i}.example.com`, srv: null, ipv4: null, ipv6: null, port: 3001 },
              { dns: null, srv: null, ipv4: `44.1.${i >> 8}.${i & 255}`, ipv6: '2a01:4f8::1', port: 6000 },
              ...(i % 5 === 0 ? [{ dns: null, srv: `pool${i}.example.com`, ipv4: null, ipv6: null, port: null }] : []),
            ];
    relays.push({ pool_id_bech32: id, relays: r });
  }
  return { list, relays };
}

/** PostgREST-style paging by offset/limit (max 1000 rows). */
function page(rows: unknown[], url: URL): unknown[] {
  const offset = Number(url.searchParams.get('offset') ?? 0);
  const limit = Math.min(1000, Number(url.searchParams.get('limit') ?? 1000));
  return rows.slice(offset, offset + limit);
}

function koios(
  url: string,
  extra: Partial<LoadRegistryOptions> = {},
): Promise<import('../../src/registry/model.js').Registry> {
  // a loopback registry of a few pools: far smaller than mainnet's, so accepted with allowEmpty
  return loadRegistry({ source: 'koios', network: mainnet, koiosUrl: url, allowEmpty: true, ...extra });
}

async function failure(p: Promise<unknown>): Promise<SpoError> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(SpoError);
    return error as SpoError;
  }
  throw new Error('expected a failure');
}

describe('Koios source', () => {
  it('joins pool_list with pool_relays over 3 pages, drops retired pools, sends the bearer token', async () => {
    const data = koiosData(2345);
    const { url, log } = await serve((_req, res, u) => {
      if (u.pathname.endsWith('/tip')) {
        return json(res, [
          { hash: 'AB'.repeat(32), epoch_no: 600, abs_slot: 185900000, epoch_slot: 1000, block_height: 12000000 },
        ]);
      }
      if (u.pathname.endsWith('/pool_list')) return json(res, page(data.list, u));
      if (u.pathname.endsWith('/pool_relays')) return json(res, page(data.relays, u));
      json(res, { error: 'not found' }, 404);
    });
    const progress: string[] = [];
    const reg = await koios(url, { koiosToken: 'sekret-token', onProgress: (p) => progress.push(p.phase) });
    expect(log.filter((l) => l.path.includes('pool_list'))).toHaveLength(3);
    expect(log.filter((l) => l.path.includes('pool_relays'))).toHaveLength(3);
    expect(log[0]?.path).toBe('/api/v1/tip');
    expect(log[1]?.path).toContain('offset=0&limit=1000');
    expect(log[2]?.path).toContain('offset=1000&limit=1000');
    expect(reg.slot).toBe(185900000);
    expect(reg.blockHash).toBe('ab'.repeat(32));
    for (const l of log) expect(l.headers.authorization).toBe('Bearer sekret-token');
    const retired = (data.list as Array<{ pool_status: string }>).filter((p) => p.pool_status === 'retired').length;
    expect(retired).toBe(234);
    expect(reg.pools).toHaveLength(2345 - retired);
    expect(reg.pools.every((p) => p.status !== 'retired')).toBe(true);
    expect(reg.findings.find((f) => f.code === 'retired-dropped')?.message).toMatch(/^\d+ retired pools/);
    const p0 = reg.pools.find((p) => p.id === poolId(0));
    expect(p0?.ticker).toBeUndefined();
    expect(reg.pools.find((p) => p.id === poolId(4))?.ticker).toBe(`Long${'x'.repeat(28)}`);
    expect(p0?.relays.map((r) => `${r.kind} ${r.host} ${r.port ?? '-'}`)).toEqual([
      'dns relay.pool0.example.com 3001',
      'ipv4 44.1.0.0 6000',
      'ipv6 2a01:4f8::1 6000',
      'srv pool0.example.com -',
    ]);
    // the all-null row and the empty list both mean "no relays"
    expect(reg.pools.find((p) => p.id === poolId(1))?.relays).toEqual([]);
    expect(reg.pools.find((p) => p.id === poolId(2))?.relays).toEqual([]);
    expect(reg.findings.filter((f) => f.code === 'no-relays').map((f) => f.pool)).toEqual([poolId(1), poolId(2)]);
    // stake is relative to the listed pools' total
    const total = reg.pools.reduce((s, p) => s + (p.stake ?? 0), 0);
    expect(total).toBeCloseTo(1, 9);
    expect(reg.pools.find((p) => p.id === poolId(3))?.status).toBe('retiring');
    expect(progress).toContain('Koios pool_relays');
    expect(reg.findings.filter((f) => f.code === 'shared-endpoint').length).toBe(1); // 2a01:4f8::1 everywhere
  });

  it('waits as long as Retry-After says on 429, and retries a 500', async () => {
    const data = koiosData(5);
    let lists = 0;
    let relays = 0;
    const { url, log: all } = await serve((_req, res, u) => {
      if (u.pathname.endsWith('/tip')) return json(res, { message: 'no such route' }, 404);
      if (u.pathname.endsWith('/pool_list')) {
        lists++;
        if (lists === 1) return json(res, { message: 'rate limited' }, 429, { 'retry-after': '1' });
        return json(res, page(data.list, u));
      }
      relays++;
      if (relays === 1) return json(res, { message: 'boom' }, 500);
      return json(res, page(data.relays, u));
    });
    const reg = await koios(url);
    const log = all.filter((l) => !l.path.endsWith('/tip'));
    expect(reg.pools).toHaveLength(5);
    // a missing tip is reported, not fatal
    expect(reg.slot).toBeUndefined();
    expect(reg.findings.find((f) => f.code === 'no-tip')?.message).toBe('Koios: /tip: HTTP 404');
    expect(lists).toBe(2);
    expect(relays).toBe(2);
    const gap = (log[1]?.at ?? 0) - (log[0]?.at ?? 0);
    expect(gap).toBeGreaterThanOrEqual(950);
    const backoff = (log[3]?.at ?? 0) - (log[2]?.at ?? 0);
    expect(backoff).toBeGreaterThanOrEqual(450);
  });

  it('gives up on a server that keeps answering 500 within the total time limit', async () => {
    const { url, log } = await serve((_req, res) => json(res, { message: 'down' }, 500));
    const t = performance.now();
    const e = await failure(koios(url, { timeoutMs: 2500 }));
    expect(e.code).toBe('HTTP_STATUS');
    expect(e.details.status).toBe(500);
    expect(e.message).toMatch(/^Koios: \/tip: HTTP 500; gave up, as retrying after \d+ ms would pass the time limit$/);
    expect(performance.now() - t).toBeLessThan(3000);
    expect(log.length).toBeGreaterThanOrEqual(2);
  });

  it('times out on a server that never answers', async () => {
    const { url } = await serve(() => {
      /* never answers */
    });
    const t = performance.now();
    const e = await failure(koios(url, { timeoutMs: 1200 }));
    expect(e.code).toBe('HTTP_TIMEOUT');
    expect(e.message).toMatch(/^Koios: \/tip: .*time limit/);
    expect(performance.now() - t).toBeLessThan(2500);
  });

  it('reports a malformed body and a wrong shape', async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('[{"pool_id_bech32": "pool1');
    });
    const e = await failure(koios(url));
    expect(e.code).toBe('HTTP_MALFORMED');
    expect(e.message).toMatch(/^Koios: \/pool_list.*not valid JSON/);
    const other = await serve((_req, res) => json(res, { hello: 'not an array' }));
    expect((await failure(koios(other.url))).code).toBe('HTTP_MALFORMED');
    const badRow = await serve((_req, res, u) =>
      u.pathname.endsWith('/tip') ? json(res, []) : json(res, [{ pool_id_bech32: 42 }]),
    );
    const f = await failure(koios(badRow.url));
    expect(f.code).toBe('REGISTRY_FIELD');
    expect(f.message).toMatch(/pool_list\[0\]\.pool_id_bech32: expected a string, got 42/);
  });

  it('a refused token is HTTP_AUTH, and the token never appears in the error', async () => {
    const { url } = await serve((_req, res) => json(res, { message: 'bad token' }, 401));
    const e = await failure(koios(url, { koiosToken: 'sekret-token' }));
    expect(e.code).toBe('HTTP_AUTH');
    expect(JSON.stringify(e.toJSON())).not.toContain('sekret-token');
    expect(e.hint).toMatch(/--koios-token/);
  });

  it('a closed port is HTTP_UNREACHABLE or a timeout, never a crash', async () => {
    // a port just closed (not port 1: on a shared machine something may listen there)
    const { createServer: tcp } = await import('node:net');
    const probe = tcp();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const closed = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const dead = `http://127.0.0.1:${closed}/api/v1`;
    const e = await failure(koios(dead, { timeoutMs: 2000 }));
    expect(e.code).toBe('HTTP_UNREACHABLE');
    expect(e.message).toMatch(/ECONNREFUSED/);
  });

  it('stops at once when the signal is aborted', async () => {
    const { url } = await serve(() => {});
    const ac = new AbortController();
    setTimeout(() => ac.abort(new SpoError('INTERRUPTED', 'interrupted')), 100);
    const e = await failure(koios(url, { signal: ac.signal, timeoutMs: 10_000 }));
    expect(e.code).toBe('INTERRUPTED');
  });
});

describe('Blockfrost source', () => {
  function blockfrostServer(n: number, options: { rateLimitOnce?: boolean; gone?: number; longTicker?: boolean } = {}) {
    let limited = false;
    return serve((req, res, u) => {
      if (req.headers.project_id !== 'mainnetSECRET') return json(res, { status_code: 403, error: 'Forbidden' }, 403);
      if (u.pathname.endsWith('/blocks/latest')) {
        return json(res, { time: 1, height: 12000000, hash: 'cd'.repeat(32), slot: 185900001, epoch: 600 });
      }
      if (u.pathname.endsWith('/pools/extended')) {
        const count = Number(u.searchParams.get('count'));
        const p = Number(u.searchParams.get('page'));
        const rows = [];
        for (let i = (p - 1) * count; i < Math.min(n, p * count); i++) {
          rows.push({
            pool_id: poolId(i),
            hex: poolIdHex(poolId(i)),
            active_stake: String(1000 * (i + 1)),
            live_stake: String(1000 * (i + 1)),
            ...(i % 2 === 0
              ? { metadata: { ticker: options.longTicker && i === 0 ? 'T'.repeat(40) : `B${i}`, name: `Pool ${i}` } }
              : { metadata: null }),
          });
        }
        return json(res, rows);
      }
      const m = /\/pools\/(pool1[a-z0-9]+)\/relays$/.exec(u.pathname);
      if (m) {
        if (options.rateLimitOnce && !limited) {
          limited = true;
          return json(res, { status_code: 429, error: 'Project Over Limit' }, 429, { 'retry-after': '1' });
        }
        const i = Number(bech32.fromWords(bech32.decode(m[1] as string).words).slice(-1)[0]);
        if (i === 1) return json(res, []); // a pool with no relays
        if (i === options.gone) return json(res, { status_code: 404, error: 'Not Found' }, 404); // retired meanwhile
        return json(res, [
          { ipv4: `45.2.0.${i}`, ipv6: null, dns: `relays.pool${i}.example.com`, dns_srv: null, port: 3001 },
          { ipv4: null, ipv6: null, dns: null, dns_srv: `_cardano._tcp.pool${i}.example.com`, port: 0 },
        ]);
      }
      json(res, { status_code: 404 }, 404);
    });
  }

  it('pages /pools/extended, calls /pools/{id}/relays per pool at 10 requests/s, shows progress', async () => {
    const { url, log } = await blockfrostServer(14);
    const progress: Array<{ done?: number; total?: number }> = [];
    const reg = await loadRegistry({
      source: 'blockfrost',
      allowEmpty: true,
      network: mainnet,
      blockfrostUrl: url,
      blockfrostProjectId: 'mainnetSECRET',
      onProgress: (p) => progress.push(p),
    });
    expect(reg.pools).toHaveLength(14);
    expect(log).toHaveLength(16);
    expect(log[0]?.path).toBe('/api/v1/blocks/latest');
    expect(reg.slot).toBe(185900001);
    // 10 requests/s: the client spaces request starts 100 ms apart; arrivals at the server jitter
    // with machine load, hence the slack on windows and the check of the whole run
    const at = log.map((l) => l.at);
    for (let i = 10; i < at.length; i++) expect((at[i] as number) - (at[i - 10] as number)).toBeGreaterThanOrEqual(800);
    expect((at.at(-1) as number) - (at[0] as number)).toBeGreaterThanOrEqual(1400);
    const p0 = reg.pools.find((p) => p.id === poolId(0));
    expect(p0?.ticker).toBe('B0');
    expect(p0?.relays.map((r) => `${r.kind} ${r.host} ${r.port ?? '-'}`)).toEqual([
      'dns relays.pool0.example.com 3001',
      'ipv4 45.2.0.0 3001',
      'srv _cardano._tcp.pool0.example.com -',
    ]);
    expect(reg.pools.find((p) => p.id === poolId(1))?.relays).toEqual([]);
    expect(progress.at(-1)).toEqual({ phase: 'Blockfrost relays', done: 14, total: 14 });
    expect((reg.pools[13]?.stake ?? 0) > (reg.pools[0]?.stake ?? 0)).toBe(true);
  });

  it('a pool whose relays are gone (404) is listed without relays, with a finding; the sweep goes on', async () => {
    const { url } = await blockfrostServer(6, { gone: 3, longTicker: true });
    const reg = await loadRegistry({
      source: 'blockfrost',
      allowEmpty: true,
      network: mainnet,
      blockfrostUrl: url,
      blockfrostProjectId: 'mainnetSECRET',
      requestsPerSecond: 500,
    });
    expect(reg.pools).toHaveLength(6);
    expect(reg.pools.find((p) => p.id === poolId(3))?.relays).toEqual([]);
    expect(reg.pools.find((p) => p.id === poolId(5))?.relays.length).toBeGreaterThan(0);
    expect(reg.findings).toContainEqual(
      expect.objectContaining({ code: 'relays-unavailable', severity: 'warning', pool: poolId(3) }),
    );
    expect(reg.pools.find((p) => p.id === poolId(0))?.ticker).toBe('T'.repeat(32)); // cut, not a failed load
    expect(reg.slot).toBe(185900001);
  });

  it('pages at 100 pools and honours a 429', async () => {
    const { url, log } = await blockfrostServer(130, { rateLimitOnce: true });
    const reg = await loadRegistry({
      source: 'blockfrost',
      allowEmpty: true,
      network: mainnet,
      blockfrostUrl: url,
      blockfrostProjectId: 'mainnetSECRET',
      requestsPerSecond: 500,
    });
    expect(reg.pools).toHaveLength(130);
    expect(log.filter((l) => l.path.startsWith('/api/v1/pools/extended')).map((l) => l.path)).toEqual([
      '/api/v1/pools/extended?count=100&page=1',
      '/api/v1/pools/extended?count=100&page=2',
    ]);
    expect(log).toHaveLength(1 + 2 + 130 + 1);
  });

  it('a ban (418) fails at once with a hint, without retrying', async () => {
    const { url, log } = await serve((_req, res) => json(res, { status_code: 418, error: 'Requested Banned' }, 418));
    const e = await failure(
      loadRegistry({
        source: 'blockfrost',
        allowEmpty: true,
        network: mainnet,
        blockfrostUrl: url,
        blockfrostProjectId: 'mainnetSECRET',
      }),
    );
    expect(e.code).toBe('HTTP_STATUS');
    expect(e.message).toBe('Blockfrost: /blocks/latest: HTTP 418');
    expect(e.hint).toMatch(/banned/);
    expect(log).toHaveLength(1);
  });

  it('needs a project id, refuses a wrong one, never shows it', async () => {
    const { url } = await blockfrostServer(1);
    const none = await failure(loadRegistry({ source: 'blockfrost', network: mainnet, blockfrostUrl: url }));
    expect(none.code).toBe('BLOCKFROST_PROJECT_ID');
    expect(none.exitCode).toBe(2);
    const wrong = await failure(
      loadRegistry({ source: 'blockfrost', network: mainnet, blockfrostUrl: url, blockfrostProjectId: 'mainnetWRONG' }),
    );
    expect(wrong.code).toBe('HTTP_AUTH');
    expect(JSON.stringify(wrong.toJSON())).not.toContain('mainnetWRONG');
  });
});
