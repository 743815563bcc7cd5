/**
 * Koios (PostgREST): `pool_list` (status, ticker, active stake) joined with `pool_relays` (relays of
 * every pool's latest registration, retired ones included), retired pools dropped. Both are paged
 * at 1,000 rows with `offset`/`limit` and a stable `order`.
 */

import type { Dispatcher } from 'undici';
import { InputError, SpoError } from '../lib/errors.js';
import { counted } from '../lib/plural.js';
import { asAmount, asArray, asObject, asString, FieldPath, isObject, optPort, optString, optTicker } from './fields.js';
import { HttpClient } from './http.js';
import type { RawPool, RawRelay } from './hygiene.js';
import type { PoolStatus, RegistryFinding } from './model.js';
import type { LoadRegistryOptions } from './options.js';
import type { ParsedSource } from './snapshot.js';
import { relativeStakes } from './stake.js';

export const KOIOS_PAGE = 1000;
/** Bounded paging: 1,000 pages of 1,000 rows is far above the registry's size. */
const MAX_PAGES = 1000;

export async function loadKoios(options: LoadRegistryOptions): Promise<ParsedSource> {
  const baseUrl = options.koiosUrl ?? options.network.preset?.koiosUrl;
  if (!baseUrl) {
    throw new InputError('USAGE', `no Koios URL for network magic ${options.network.magic}`, {
      hint: 'give --koios-url',
    });
  }
  const headers: Record<string, string> = {};
  if (options.koiosToken) headers.authorization = `Bearer ${options.koiosToken}`;
  const http = new HttpClient({
    service: 'Koios',
    baseUrl,
    headers,
    dispatcher: options.dispatcher as Dispatcher | undefined,
    signal: options.signal,
    totalTimeoutMs: options.timeoutMs ?? 120_000,
    secrets: [options.koiosToken],
  });
  try {
    const progress = options.onProgress ?? (() => {});
    progress({ phase: 'Koios tip' });
    const tip = await chainTip(http, '/tip', (body) => (Array.isArray(body) ? body[0] : undefined), 'abs_slot');
    progress({ phase: 'Koios pool_list' });
    const list = await pages(
      http,
      '/pool_list?select=pool_id_bech32,ticker,pool_status,active_stake&order=pool_id_bech32.asc',
      (n) => progress({ phase: 'Koios pool_list', done: n }),
    );
    progress({ phase: 'Koios pool_relays' });
    const relays = await pages(http, '/pool_relays?order=pool_id_bech32.asc', (n) =>
      progress({ phase: 'Koios pool_relays', done: n }),
    );
    const out = joinKoios(list, relays, baseUrl);
    if ('finding' in tip) out.findings = [...(out.findings ?? []), tip.finding];
    else {
      out.slot = tip.slot;
      out.blockHash = tip.hash;
    }
    return out;
  } finally {
    await http.close();
  }
}

/**
 * The chain tip, so that an exported snapshot carries a real point (slot and hash). A tip that cannot
 * be read is reported, not fatal: the registry itself is still good.
 */
export async function chainTip(
  http: HttpClient,
  path: string,
  pick: (body: unknown) => unknown,
  slotKey: string,
): Promise<{ slot: number; hash: string } | { finding: RegistryFinding }> {
  try {
    const row = pick((await http.getJson(path)).body);
    if (isObject(row)) {
      const slot = row[slotKey];
      const hash = row.hash;
      if (
        typeof slot === 'number' &&
        Number.isSafeInteger(slot) &&
        slot >= 0 &&
        typeof hash === 'string' &&
        /^[0-9a-f]{64}$/i.test(hash)
      ) {
        return { slot, hash: hash.toLowerCase() };
      }
    }
    return { finding: { code: 'no-tip', severity: 'warning', message: `${path}: no usable chain tip in the answer` } };
  } catch (error) {
    // only "there is no tip here" is survivable; bans, quotas and outages are not
    const missing = error instanceof SpoError && error.code === 'HTTP_STATUS' && error.details.status === 404;
    if (missing || (error instanceof SpoError && error.code === 'HTTP_MALFORMED')) {
      return { finding: { code: 'no-tip', severity: 'warning', message: (error as SpoError).message } };
    }
    throw error;
  }
}

async function pages(http: HttpClient, path: string, onPage: (rows: number) => void): Promise<unknown[]> {
  const rows: unknown[] = [];
  for (let page = 0; page < MAX_PAGES; page++) {
    const offset = page * KOIOS_PAGE;
    const p = `${path}&offset=${offset}&limit=${KOIOS_PAGE}`;
    const res = await http.getJson(p);
    if (!Array.isArray(res.body)) {
      throw http.error('HTTP_MALFORMED', `${p}: expected a JSON array of rows`, {
        hint: 'check --koios-url points at the Koios API (…/api/v1)',
      });
    }
    // a loop, not push(...rows): spreading a long page overflows the stack
    for (const row of res.body) rows.push(row);
    onPage(rows.length);
    // fewer rows than asked: the last page; more: the server ignored `limit` and sent everything
    // (asking for the next offset would only fetch it all again)
    if (res.body.length !== KOIOS_PAGE) return rows;
  }
  throw http.error('HTTP_MALFORMED', `${path}: more than ${MAX_PAGES} pages`);
}

/** Joins pool_list and pool_relays rows; pure (exported for tests). */
export function joinKoios(listRows: unknown[], relayRows: unknown[], label = 'koios'): ParsedSource {
  const root = new FieldPath(label, '');
  const meta = new Map<string, { ticker?: string; status: PoolStatus; amount?: number; nullStake?: true }>();
  let retired = 0;
  listRows.forEach((row, i) => {
    const at = root.key('pool_list').index(i);
    const o = asObject(row, at);
    const id = asString(o.pool_id_bech32, at.key('pool_id_bech32'));
    const statusText = optString(o.pool_status, at.key('pool_status')) ?? 'unknown';
    const status: PoolStatus =
      statusText === 'registered' || statusText === 'retiring' || statusText === 'retired' ? statusText : 'unknown';
    if (status === 'retired') {
      retired++;
      return;
    }
    const entry: { ticker?: string; status: PoolStatus; amount?: number; nullStake?: true } = { status };
    const ticker = optTicker(o.ticker, at.key('ticker'));
    if (ticker !== undefined) entry.ticker = ticker;
    if (o.active_stake !== undefined && o.active_stake !== null)
      entry.amount = asAmount(o.active_stake, at.key('active_stake'));
    else if (o.active_stake === null) entry.nullStake = true;
    meta.set(id, entry);
  });
  // Koios gives active_stake null to a pool with no stake in the epoch's snapshot (new, undelegated):
  // that is 0. When every pool is null the stake is not computed yet (just after an epoch boundary)
  // and stays unknown rather than all 0, which would make every pool "big".
  let nullStakes = 0;
  if ([...meta.values()].some((m) => m.amount !== undefined)) {
    for (const m of meta.values()) {
      if (m.nullStake) {
        m.amount = 0;
        nullStakes++;
      }
    }
  }
  const pools: RawPool[] = [];
  const byId = new Map<string, RawPool>();
  relayRows.forEach((row, i) => {
    const at = root.key('pool_relays').index(i);
    const o = asObject(row, at);
    const id = asString(o.pool_id_bech32, at.key('pool_id_bech32'));
    const m = meta.get(id);
    if (!m) return; // retired, or not in pool_list
    const relays: RawRelay[] = [];
    const list = o.relays === null || o.relays === undefined ? [] : asArray(o.relays, at.key('relays'));
    list.forEach((r, j) => {
      relays.push(...koiosRelay(r, at.key('relays').index(j)));
    });
    const existing = byId.get(id);
    if (existing) {
      for (const r of relays) existing.relays.push(r);
      return;
    }
    const pool: RawPool = { id, status: m.status, relays };
    if (m.ticker !== undefined) pool.ticker = m.ticker;
    byId.set(id, pool);
    pools.push(pool);
  });
  // pools in pool_list without a pool_relays row still exist (with no relays)
  for (const [id, m] of meta) {
    if (byId.has(id)) continue;
    const pool: RawPool = { id, status: m.status, relays: [] };
    if (m.ticker !== undefined) pool.ticker = m.ticker;
    pools.push(pool);
  }
  const stakes = relativeStakes(pools.map((p) => meta.get(p.id)?.amount));
  pools.forEach((p, i) => {
    const s = stakes[i];
    if (s !== undefined) p.stake = s;
  });
  const out: ParsedSource = { format: 'koios', scope: 'all', pools };
  const findings: RegistryFinding[] = [];
  if (retired > 0) {
    findings.push({
      code: 'retired-dropped',
      severity: 'info',
      message: `${retired} retired pools in pool_list were left out`,
    });
  }
  if (nullStakes > 0) {
    findings.push({
      code: 'stake-null',
      severity: 'info',
      message: `${counted(nullStakes, 'pool')} in pool_list ${nullStakes === 1 ? 'has' : 'have'} active_stake null (no active stake this epoch); counted as 0`,
    });
  }
  if (findings.length > 0) out.findings = findings;
  return out;
}

/** One Koios/Maestro-style relay object `{dns, srv, ipv4, ipv6, port}` (all nullable). */
export function koiosRelay(v: unknown, at: FieldPath): RawRelay[] {
  if (!isObject(v)) asObject(v, at); // throws: names the field
  // an all-null object is how Koios says "no relays" (LEFT JOIN aggregate): it gives no relay
  return nullableRelay(v as Record<string, unknown>, at, 'srv');
}

/**
 * The relay shape the indexers share: `{dns, <srvKey>, ipv4, ipv6, port}`, every value nullable
 * (Koios names the SRV key `srv`, Blockfrost `dns_srv`). An absent port is the default 3001, flagged.
 */
export function nullableRelay(o: Record<string, unknown>, at: FieldPath, srvKey: string): RawRelay[] {
  const port = optPort(o.port, at.key('port'));
  const dns = optString(o.dns, at.key('dns'));
  const srv = optString(o[srvKey], at.key(srvKey));
  const ipv4 = optString(o.ipv4, at.key('ipv4'));
  const ipv6 = optString(o.ipv6, at.key('ipv6'));
  const flags = port === undefined ? ['default-port'] : [];
  const p = port ?? 3001;
  const out: RawRelay[] = [];
  if (srv !== undefined) out.push({ kind: 'srv', host: srv });
  else if (dns !== undefined) out.push({ kind: 'dns', host: dns, port: p, flags: [...flags] });
  if (ipv4 !== undefined) out.push({ kind: 'ipv4', host: ipv4, port: p, flags: [...flags] });
  if (ipv6 !== undefined) out.push({ kind: 'ipv6', host: ipv6, port: p, flags: [...flags] });
  return out;
}
