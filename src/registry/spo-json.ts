/**
 * spo's own JSON (`spo relays export --format json`, `spo relays list --json`) read back as a source,
 * so an exported and edited registry can be fed to other commands. Pure.
 */
import {
  asArray,
  asFraction,
  asInteger,
  asObject,
  asString,
  FieldPath,
  fieldError,
  isObject,
  missingField,
  optPort,
  optString,
} from './fields.js';
import type { RawPool, RawRelay } from './hygiene.js';
import type { PoolStatus, RelayKind } from './model.js';
import type { ParsedSource } from './snapshot.js';

const KINDS: readonly RelayKind[] = ['ipv4', 'ipv6', 'dns', 'srv'];
const STATUSES: readonly PoolStatus[] = ['registered', 'retiring', 'retired', 'unknown'];

export function isSpoJson(doc: unknown): boolean {
  return isObject(doc) && Array.isArray(doc.pools);
}

export function parseSpoJson(doc: unknown, file: string): ParsedSource {
  const root = new FieldPath(file, '');
  const obj = asObject(doc, root);
  const list = asArray(obj.pools, root.key('pools'));
  const pools: RawPool[] = [];
  for (let i = 0; i < list.length; i++) {
    const at = root.key('pools').index(i);
    const p = asObject(list[i], at);
    if (p.id === undefined) throw missingField(at.key('id'));
    const pool: RawPool = { id: asString(p.id, at.key('id')), status: 'unknown', relays: [] };
    const ticker = optString(p.ticker, at.key('ticker'), 32);
    if (ticker !== undefined) pool.ticker = ticker;
    if (p.stake !== undefined && p.stake !== null) pool.stake = asFraction(p.stake, at.key('stake'));
    if (p.status !== undefined) {
      const s = asString(p.status, at.key('status'));
      if (!STATUSES.includes(s as PoolStatus)) throw fieldError(at.key('status'), STATUSES.join('|'), s);
      pool.status = s as PoolStatus;
    }
    const rl = asArray(p.relays, at.key('relays'));
    for (let j = 0; j < rl.length; j++) {
      const rat = at.key('relays').index(j);
      const r = asObject(rl[j], rat);
      const kind = asString(r.kind, rat.key('kind'));
      if (!KINDS.includes(kind as RelayKind)) throw fieldError(rat.key('kind'), KINDS.join('|'), kind);
      const relay: RawRelay = { kind: kind as RelayKind, host: asString(r.host, rat.key('host')) };
      const port = optPort(r.port, rat.key('port'));
      if (port === undefined && kind !== 'srv') throw missingField(rat.key('port'));
      if (port !== undefined) relay.port = port;
      pool.relays.push(relay);
    }
    pools.push(pool);
  }
  const out: ParsedSource = { format: 'spo-json', scope: 'all', pools };
  if (typeof obj.network === 'string') out.network = obj.network;
  if (obj.slot !== undefined) out.slot = asInteger(obj.slot, root.key('slot'));
  return out;
}
