/**
 * Peer snapshot files (`cardano-cli query ledger-peer-snapshot`) in every version seen in the wild:
 * - `"version": 1` with `slotNo`; names under `domain`, IPs under `address` (current nodes reject `domain`);
 * - `"version": 2` with `slotNo`; everything under `address`, an `address` without `port` is an SRV name;
 * - the `NodeToClientVersion` form with `NetworkMagic` and `Point {blockPointHash, blockPointSlot}`.
 * Each holds `bigLedgerPools` (with `accumulatedStake`) or `allLedgerPools`. Pure.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { SpoError } from '../lib/errors.js';
import {
  asArray,
  asFraction,
  asInteger,
  asObject,
  asString,
  FieldPath,
  fieldError,
  isObject,
  type JsonObject,
  MAX_STRING,
  missingField,
  optPort,
} from './fields.js';
import type { RawPool, RawRelay } from './hygiene.js';
import type { Registry, RegistryFinding } from './model.js';

export type SnapshotFormat = 'snapshot-v1' | 'snapshot-v2' | 'snapshot-n2c';

/**
 * The NodeToClientVersion form cardano-node reads: 23 (its parser accepts `version` 1 and 2, and 23
 * under either key; nothing else). Other values are refused, as the node would.
 */
export const N2C_SNAPSHOT_VERSION = 23;

/** How the node writes "no slot yet" (WithOrigin's Origin) in slotNo and Point. */
export const ORIGIN = 'origin';

export interface ParsedSource extends Omit<Registry, 'pools' | 'findings' | 'source'> {
  pools: RawPool[];
  /** Facts found while reading (before hygiene), e.g. retired pools left out. */
  findings?: RegistryFinding[];
}

/** Which snapshot version a JSON document is, or undefined when it is not a peer snapshot. */
export function snapshotFormat(doc: unknown, file: string): SnapshotFormat | undefined {
  if (!isObject(doc)) return undefined;
  const root = new FieldPath(file, '');
  if ('NodeToClientVersion' in doc) {
    asInteger(doc.NodeToClientVersion, root.key('NodeToClientVersion'), 0);
    const v = doc.NodeToClientVersion as number;
    if (v !== N2C_SNAPSHOT_VERSION) throw unknownVersion(file, `NodeToClientVersion ${v}`);
    return 'snapshot-n2c';
  }
  const hasPools = 'bigLedgerPools' in doc || 'allLedgerPools' in doc;
  if ('version' in doc) {
    if (doc.version === 1) return 'snapshot-v1';
    if (doc.version === 2) return 'snapshot-v2';
    if (doc.version === N2C_SNAPSHOT_VERSION && 'NetworkMagic' in doc) return 'snapshot-n2c';
    if (hasPools || 'slotNo' in doc) throw unknownVersion(file, `version ${JSON.stringify(doc.version)}`);
    return undefined;
  }
  if (hasPools) throw unknownVersion(file, 'no version marker');
  return undefined;
}

function unknownVersion(file: string, what: string): SpoError {
  return new SpoError('SNAPSHOT_VERSION', `${file}: unknown peer snapshot version (${what})`, {
    hint: `cardano-node and spo read "version": 1 or 2 and "NodeToClientVersion": ${N2C_SNAPSHOT_VERSION}; regenerate it with cardano-cli query ledger-peer-snapshot`,
    details: { file },
  });
}

export function parseSnapshot(doc: unknown, file: string): ParsedSource {
  const format = snapshotFormat(doc, file);
  if (!format) {
    throw new SpoError('REGISTRY_FORMAT', `${file}: not a peer snapshot`, { details: { file } });
  }
  const root = new FieldPath(file, '');
  const obj = doc as JsonObject;
  const out: ParsedSource = { format, pools: [] };
  if (format === 'snapshot-n2c') {
    if (obj.NetworkMagic === undefined) throw missingField(root.key('NetworkMagic'));
    out.networkMagic = asInteger(obj.NetworkMagic, root.key('NetworkMagic'), 0, 0xffffffff);
    const point = obj.Point;
    if (isObject(point)) {
      const at = root.key('Point');
      out.slot = asInteger(point.blockPointSlot, at.key('blockPointSlot'));
      const hash = asString(point.blockPointHash, at.key('blockPointHash'));
      if (!/^[0-9a-f]{64}$/i.test(hash)) throw fieldError(at.key('blockPointHash'), 'a 64-digit hex hash', hash);
      out.blockHash = hash.toLowerCase();
    } else if (point !== ORIGIN) {
      // the node's JSON for the genesis point (cardano-slotting's WithOrigin) is the string "origin"
      if (point === undefined) throw missingField(root.key('Point'));
      throw fieldError(root.key('Point'), 'an object {blockPointHash, blockPointSlot} or "origin"', point);
    }
  } else {
    if (obj.slotNo === undefined) throw missingField(root.key('slotNo'));
    if (obj.slotNo !== ORIGIN) out.slot = asInteger(obj.slotNo, root.key('slotNo'));
  }
  const big = obj.bigLedgerPools;
  const all = obj.allLedgerPools;
  if (big !== undefined && all !== undefined) {
    throw fieldError(root, 'either bigLedgerPools or allLedgerPools, not both', 'both');
  }
  if (big === undefined && all === undefined) throw missingField(root.key('bigLedgerPools'));
  const scope = big !== undefined ? 'big' : 'all';
  const key = scope === 'big' ? 'bigLedgerPools' : 'allLedgerPools';
  out.scope = scope;
  const list = asArray(obj[key], root.key(key));
  const v1 = format === 'snapshot-v1';
  for (let i = 0; i < list.length; i++) {
    out.pools.push(parsePool(list[i], root.key(key).index(i), i + 1, scope === 'big', v1));
  }
  return out;
}

function parsePool(v: unknown, at: FieldPath, rank: number, big: boolean, v1: boolean): RawPool {
  const o = asObject(v, at);
  if (big) {
    if (o.accumulatedStake === undefined) throw missingField(at.key('accumulatedStake'));
    asFraction(o.accumulatedStake, at.key('accumulatedStake'));
  }
  if (o.relativeStake === undefined) throw missingField(at.key('relativeStake'));
  const stake = asFraction(o.relativeStake, at.key('relativeStake'));
  if (o.relays === undefined) throw missingField(at.key('relays'));
  const relaysAt = at.key('relays');
  const rl = asArray(o.relays, relaysAt);
  const relays: RawRelay[] = [];
  for (let j = 0; j < rl.length; j++) {
    const fast = fastRelay(rl[j], v1);
    if (fast) {
      relayPaths.fast++;
      relays.push(fast);
    } else {
      relayPaths.checked++;
      relays.push(parseRelay(rl[j], relaysAt.index(j), v1));
    }
  }
  return { id: `#${rank}`, stake, status: 'registered', relays };
}

/**
 * How many snapshot relays took each path since the module was loaded: `fast` (fastRelay) or
 * `checked` (parseRelay). Two increments per relay cost nothing measurable; they let the tests assert
 * that the fast path really runs, since the results are the same either way.
 */
export const relayPaths = { fast: 0, checked: 0 };

/** ipv4/ipv6 for an IP literal; cheap character tests first, since most relays are names. */
export function ipKind(host: string): 'ipv4' | 'ipv6' | undefined {
  if (host.includes(':')) return isIPv6(host) ? 'ipv6' : undefined;
  const last = host.charCodeAt(host.length - 1);
  if (last < 48 || last > 57) return undefined; // an IPv4 literal ends with a digit
  return isIPv4(host) ? 'ipv4' : undefined;
}

/**
 * The common, well-formed relay without building any field path (start-up and the 10,000-pool
 * benchmark spend their time here); undefined sends the entry to parseRelay, which validates it
 * field by field and names what is wrong. Both give the same result for a valid entry.
 */
export function fastRelay(v: unknown, v1: boolean): RawRelay | undefined {
  if (!isObject(v)) return undefined;
  const { address, port } = v;
  if (typeof address !== 'string' || address.length === 0 || address.length > MAX_STRING) return undefined;
  if (v1 && v.domain !== undefined) return undefined;
  if (port === undefined || port === null) {
    if (v1 || ipKind(address)) return undefined;
    return { kind: 'srv', host: address };
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  return { kind: ipKind(address) ?? 'dns', host: address, port };
}

export function parseRelay(v: unknown, at: FieldPath, v1: boolean): RawRelay {
  const o = asObject(v, at);
  const port = optPort(o.port, at.key('port'));
  if (v1 && o.domain !== undefined) {
    const name = asString(o.domain, at.key('domain'));
    if (port === undefined) throw missingField(at.key('port'));
    // real v1 files carry IP literals under `domain` too (preview: 172.30.100.10)
    const kind = ipKind(name) ?? 'dns';
    return { kind, host: name, port };
  }
  if (o.address === undefined) throw missingField(at.key(v1 ? 'address or domain' : 'address'));
  const address = asString(o.address, at.key('address'));
  if (address === '') throw fieldError(at.key('address'), 'a non-empty host', address);
  const ip = ipKind(address);
  if (ip) {
    if (port === undefined) throw missingField(at.key('port'));
    return { kind: ip, host: address, port };
  }
  // v2 and later: a name without a port is an SRV name (CIP-0155); v1 has no SRV relays.
  if (port === undefined) {
    if (v1) throw missingField(at.key('port'));
    return { kind: 'srv', host: address };
  }
  return { kind: 'dns', host: address, port };
}
