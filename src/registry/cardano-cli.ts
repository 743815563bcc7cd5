/**
 * cardano-cli JSON: `query pool-state` / `query pool-params` (relays), `query stake-snapshot`
 * (stake weights). Two spellings of the pool parameters exist: the older `PoolParams` record
 * (`publicKey, vrf, pledge, cost, margin, rewardAccount, owners, relays, metadata`) and the
 * newer one derived from the ledger's `StakePoolState` record (`spsVrf, ..., spsRelays, ...`).
 * Relays use the ledger's three shapes: `single host address` {IPv4, IPv6, port},
 * `single host name` {dnsName, port} and `multi host name` {dnsName}. Pure.
 */
import { bech32 } from 'bech32';
import { SpoError } from '../lib/errors.js';
import {
  asAmount,
  asArray,
  asInteger,
  asObject,
  asString,
  FieldPath,
  fieldError,
  isObject,
  type JsonObject,
  missingField,
  optPort,
  optString,
} from './fields.js';
import type { RawPool, RawRelay } from './hygiene.js';
import type { ParsedSource } from './snapshot.js';

const HEX_POOL_ID = /^[0-9a-f]{56}$/i;
const BECH32_POOL_ID = /^pool1[02-9ac-hj-np-z]{50,60}$/;

/** A pool id as bech32 `pool1...`; hex ids (what cardano-cli prints as map keys) are converted. */
export function normalisePoolId(id: string, at: FieldPath): string {
  if (HEX_POOL_ID.test(id)) return bech32.encode('pool', bech32.toWords(Buffer.from(id, 'hex')));
  if (BECH32_POOL_ID.test(id)) return id;
  throw fieldError(at, 'a pool id (56 hex digits or bech32 pool1...)', id);
}

/** Decodes a bech32 pool id to hex (undefined when it is not one). */
export function poolIdHex(id: string): string | undefined {
  if (HEX_POOL_ID.test(id)) return id.toLowerCase();
  try {
    const d = bech32.decode(id, 120);
    return d.prefix === 'pool' ? Buffer.from(bech32.fromWords(d.words)).toString('hex') : undefined;
  } catch {
    return undefined;
  }
}

function paramsOf(value: JsonObject): { params: JsonObject; relaysKey: string } | undefined {
  for (const candidate of [value.poolParams, value.stakePoolState, value]) {
    if (!isObject(candidate)) continue;
    if ('relays' in candidate) return { params: candidate, relaysKey: 'relays' };
    if ('spsRelays' in candidate) return { params: candidate, relaysKey: 'spsRelays' };
  }
  return undefined;
}

/** Is this document cardano-cli pool-state / pool-params output? */
export function isPoolState(doc: unknown): boolean {
  if (!isObject(doc)) return false;
  if (paramsOf(doc) && ('poolParams' in doc || 'publicKey' in doc || 'spsRelays' in doc)) return true;
  const keys = Object.keys(doc);
  if (keys.length === 0) return false;
  const first = keys[0] as string;
  return (HEX_POOL_ID.test(first) || BECH32_POOL_ID.test(first)) && isObject(doc[first]);
}

/** Is this document cardano-cli stake-snapshot output? */
export function isStakeSnapshot(doc: unknown): boolean {
  return isObject(doc) && isObject(doc.pools) && isObject(doc.total);
}

export function parsePoolState(doc: unknown, file: string): ParsedSource {
  const root = new FieldPath(file, '');
  const obj = asObject(doc, root);
  const pools: RawPool[] = [];
  const single = paramsOf(obj);
  if (single && !Object.keys(obj).some((k) => HEX_POOL_ID.test(k) || BECH32_POOL_ID.test(k))) {
    // one pool, not keyed by id (older `query pool-params --stake-pool-id`): the id is the operator key
    const opKey = single.params.publicKey ?? single.params.operator;
    const at = root.key(single.params === obj ? 'publicKey' : 'poolParams.publicKey');
    if (opKey === undefined) throw missingField(at);
    const id = normalisePoolId(asString(opKey, at), at);
    const pool = parseEntry(id, obj, root);
    if (pool) pools.push(pool);
  } else {
    for (const [key, value] of Object.entries(obj)) {
      const at = root.key(key);
      const id = normalisePoolId(key, at);
      const pool = parseEntry(id, value, at);
      if (pool) pools.push(pool);
    }
  }
  return { format: 'cardano-cli-pool-state', scope: 'all', pools };
}

function parseEntry(id: string, value: unknown, at: FieldPath): RawPool | undefined {
  const o = asObject(value, at);
  if (o.poolParams === null) return undefined; // not registered (pool-state answers null for unknown ids)
  const found = paramsOf(o);
  if (!found) throw missingField(at.key('poolParams.relays'));
  const base = found.params === o ? at : at.key(o.poolParams === found.params ? 'poolParams' : 'stakePoolState');
  const rat = base.key(found.relaysKey);
  const list = asArray(found.params[found.relaysKey], rat);
  const relays: RawRelay[] = [];
  for (let i = 0; i < list.length; i++) relays.push(...parseLedgerRelay(list[i], rat.index(i)));
  let status: RawPool['status'] = 'registered';
  if (o.retiring !== undefined && o.retiring !== null) {
    asInteger(o.retiring, at.key('retiring'));
    status = 'retiring';
  }
  return { id, status, relays };
}

/** One ledger relay; a single host address with both IPv4 and IPv6 gives two relays. */
export function parseLedgerRelay(v: unknown, at: FieldPath): RawRelay[] {
  const o = asObject(v, at);
  const keys = Object.keys(o);
  if (keys.length !== 1) {
    throw fieldError(at, 'one of "single host address", "single host name", "multi host name"', v);
  }
  const kind = keys[0] as string;
  const inner = asObject(o[kind], at.key(kind));
  const iat = at.key(kind);
  if (kind === 'single host address') {
    const port = optPort(inner.port, iat.key('port'));
    const v4 = optString(inner.IPv4, iat.key('IPv4'));
    const v6 = optString(inner.IPv6, iat.key('IPv6'));
    const out: RawRelay[] = [];
    // the ledger allows neither address (both null on chain): no relay, as Koios and Blockfrost give it;
    // a pool left with none is reported by hygiene (no-relays)
    if (v4 === undefined && v6 === undefined) return out;
    const flags = port === undefined ? ['default-port'] : [];
    if (v4 !== undefined) out.push(ipRelay('ipv4', v4, port, flags, iat.key('IPv4')));
    if (v6 !== undefined) out.push(ipRelay('ipv6', v6, port, flags, iat.key('IPv6')));
    return out;
  }
  if (kind === 'single host name') {
    const name = asString(inner.dnsName, iat.key('dnsName'));
    const port = optPort(inner.port, iat.key('port'));
    return [
      port === undefined
        ? { kind: 'dns', host: name, port: 3001, flags: ['default-port'] }
        : { kind: 'dns', host: name, port },
    ];
  }
  if (kind === 'multi host name') {
    return [{ kind: 'srv', host: asString(inner.dnsName, iat.key('dnsName')) }];
  }
  throw fieldError(at, 'one of "single host address", "single host name", "multi host name"', kind);
}

function ipRelay(
  kind: 'ipv4' | 'ipv6',
  host: string,
  port: number | undefined,
  flags: string[],
  at: FieldPath,
): RawRelay {
  const ok = kind === 'ipv4' ? /^\d{1,3}(\.\d{1,3}){3}$/.test(host) : host.includes(':');
  if (!ok) throw fieldError(at, `an ${kind === 'ipv4' ? 'IPv4' : 'IPv6'} address`, host);
  return { kind, host, port: port ?? 3001, flags: [...flags] };
}

/** Relative stake per pool id (bech32) from `query stake-snapshot`, using the `set` snapshot (this epoch's leader schedule). */
export function parseStakeSnapshot(doc: unknown, file: string): Map<string, number> {
  const root = new FieldPath(file, '');
  const obj = asObject(doc, root);
  const total = asObject(obj.total, root.key('total'));
  const sum = asAmount(total.stakeSet, root.key('total').key('stakeSet'));
  const pools = asObject(obj.pools, root.key('pools'));
  const out = new Map<string, number>();
  for (const [key, value] of Object.entries(pools)) {
    const at = root.key('pools').key(key);
    const id = normalisePoolId(key, at);
    const v = asObject(value, at);
    const stake = asAmount(v.stakeSet, at.key('stakeSet'));
    out.set(id, sum > 0 ? stake / sum : 0);
  }
  return out;
}

export function stakeSnapshotAsSourceError(file: string): SpoError {
  return new SpoError('REGISTRY_NO_RELAYS', `${file}: a stake snapshot has stake weights but no relays`, {
    hint: 'give the relays with --source POOL_STATE.json and this file with --stake-snapshot',
    details: { file },
  });
}
