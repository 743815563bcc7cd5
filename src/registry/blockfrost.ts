/**
 * Blockfrost: `/pools/extended` (ids, active stake, ticker when metadata is present) paged 100 at a
 * time, then one `/pools/{id}/relays` call per pool. Every request goes through one limiter at
 * 10 requests/s (Blockfrost's sustained rate); the project_id travels in a header and is never shown.
 */
import type { Dispatcher } from 'undici';
import { InputError, SpoError } from '../lib/errors.js';
import { asAmount, asArray, asObject, asString, FieldPath, isObject, optTicker } from './fields.js';
import { HttpClient } from './http.js';
import type { RawPool, RawRelay } from './hygiene.js';
import { chainTip, nullableRelay } from './koios.js';
import type { RegistryFinding } from './model.js';
import type { LoadRegistryOptions } from './options.js';
import type { ParsedSource } from './snapshot.js';
import { relativeStakes } from './stake.js';

export const BLOCKFROST_PAGE = 100;
const MAX_PAGES = 1000;

/** Spaces request starts at 1/rate seconds, shared by concurrent workers. */
export class RateLimiter {
  private next = 0;
  constructor(private readonly perSecond: number) {}
  async acquire(signal?: AbortSignal): Promise<void> {
    const now = performance.now();
    const at = Math.max(now, this.next);
    this.next = at + 1000 / this.perSecond;
    const wait = at - now;
    if (wait > 0) {
      const { setTimeout: sleep } = await import('node:timers/promises');
      await sleep(wait, undefined, signal ? { signal } : {});
    }
  }
}

export async function loadBlockfrost(options: LoadRegistryOptions): Promise<ParsedSource> {
  const projectId = options.blockfrostProjectId;
  if (!projectId) {
    throw new InputError('BLOCKFROST_PROJECT_ID', 'Blockfrost needs a project id', {
      hint: 'give --blockfrost-project-id or set BLOCKFROST_PROJECT_ID (one per network, from blockfrost.io)',
    });
  }
  const baseUrl = options.blockfrostUrl ?? options.network.preset?.blockfrostUrl;
  if (!baseUrl) {
    throw new InputError('USAGE', `no Blockfrost URL for network magic ${options.network.magic}`, {
      hint: 'give --blockfrost-url',
    });
  }
  const http = new HttpClient({
    service: 'Blockfrost',
    baseUrl,
    headers: { project_id: projectId },
    dispatcher: options.dispatcher as Dispatcher | undefined,
    signal: options.signal,
    totalTimeoutMs: options.timeoutMs ?? 15 * 60_000,
    secrets: [projectId],
  });
  const limiter = new RateLimiter(options.requestsPerSecond ?? 10);
  const progress = options.onProgress ?? (() => {});
  const root = new FieldPath(baseUrl, '');
  try {
    await limiter.acquire(options.signal);
    const tip = await chainTip(http, '/blocks/latest', (body) => body, 'slot');
    const listed: Array<{ id: string; ticker?: string; amount?: number }> = [];
    for (let page = 1; page <= MAX_PAGES; page++) {
      await limiter.acquire(options.signal);
      const path = `/pools/extended?count=${BLOCKFROST_PAGE}&page=${page}`;
      const res = await http.getJson(path);
      if (!Array.isArray(res.body)) throw http.error('HTTP_MALFORMED', `${path}: expected a JSON array`);
      res.body.forEach((row, i) => {
        const at = root.key(path).index(i);
        const o = asObject(row, at);
        const entry: { id: string; ticker?: string; amount?: number } = {
          id: asString(o.pool_id, at.key('pool_id')),
        };
        if (o.active_stake !== undefined && o.active_stake !== null) {
          entry.amount = asAmount(o.active_stake, at.key('active_stake'));
        }
        if (isObject(o.metadata)) {
          const t = optTicker(o.metadata.ticker, at.key('metadata').key('ticker'));
          if (t !== undefined) entry.ticker = t;
        }
        listed.push(entry);
      });
      progress({ phase: 'Blockfrost pools', done: listed.length });
      if (res.body.length < BLOCKFROST_PAGE) break;
    }
    const pools: RawPool[] = listed.map((e) => {
      const p: RawPool = { id: e.id, status: 'registered', relays: [] };
      if (e.ticker !== undefined) p.ticker = e.ticker;
      return p;
    });
    const stakes = relativeStakes(listed.map((e) => e.amount));
    pools.forEach((p, i) => {
      const s = stakes[i];
      if (s !== undefined) p.stake = s;
    });
    const findings: RegistryFinding[] = [];
    let next = 0;
    let done = 0;
    const worker = async (): Promise<void> => {
      while (next < pools.length) {
        const pool = pools[next++] as RawPool;
        await limiter.acquire(options.signal);
        const path = `/pools/${encodeURIComponent(pool.id)}/relays`;
        let res: Awaited<ReturnType<HttpClient['getJson']>>;
        try {
          res = await http.getJson(path);
        } catch (error) {
          // A pool retired (or deregistered) between the listing and this request is gone from
          // Blockfrost: one such pool must not end a sweep of thousands.
          if (!(error instanceof SpoError && error.code === 'HTTP_STATUS' && error.details?.status === 404))
            throw error;
          findings.push({
            code: 'relays-unavailable',
            severity: 'warning',
            pool: pool.id,
            message: `pool ${pool.id}: Blockfrost answered 404 for its relays (retired since the listing?); listed without relays`,
          });
          done++;
          progress({ phase: 'Blockfrost relays', done, total: pools.length });
          continue;
        }
        const list = asArray(res.body, root.key(path));
        list.forEach((r, j) => {
          pool.relays.push(...blockfrostRelay(r, root.key(path).index(j)));
        });
        done++;
        progress({ phase: 'Blockfrost relays', done, total: pools.length });
      }
    };
    // a few requests in flight hide latency; the limiter keeps the rate
    await Promise.all(Array.from({ length: Math.min(4, pools.length) }, worker));
    const out: ParsedSource = { format: 'blockfrost', scope: 'all', pools };
    if ('finding' in tip) findings.unshift(tip.finding);
    else {
      out.slot = tip.slot;
      out.blockHash = tip.hash;
    }
    if (findings.length > 0) out.findings = findings;
    return out;
  } finally {
    await http.close();
  }
}

/** One Blockfrost relay `{ipv4, ipv6, dns, dns_srv, port}` (all keys present, values nullable). */
export function blockfrostRelay(v: unknown, at: FieldPath): RawRelay[] {
  return nullableRelay(asObject(v, at), at, 'dns_srv');
}
