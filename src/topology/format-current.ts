/**
 * The current P2P topology format (cardano-node `TopologyP2P.hs`, restated): `localRoots` and
 * `publicRoots` required arrays; `useLedgerAfterSlot` optional (absent = never, any JSON number,
 * floored); `bootstrapPeers` optional (absent/null = disabled, a list = enabled); `peerSnapshotFile`
 * optional. A local group reads `valency` first, then `hotValency`; `warmValency` defaults to the
 * hot value; `advertise`, `trustable`, `behindFirewall` default false; `diffusionMode` defaults to
 * InitiatorAndResponder.
 */

import {
  accessPointList,
  bestEffortInt,
  boolField,
  type Collector,
  isInt,
  isObject,
  type Json,
  jsonPath,
  parseAccessPoint,
  unknownKeys,
  valencyField,
} from './decode.js';
import {
  DIFFUSION_MODES,
  type DiffusionMode,
  type LocalRootGroup,
  ledgerPeersFromSlot,
  type PublicRootGroup,
  type Topology,
} from './model.js';

const TOP_KEYS = ['localRoots', 'publicRoots', 'useLedgerAfterSlot', 'bootstrapPeers', 'peerSnapshotFile'];
const LOCAL_KEYS = [
  'accessPoints',
  'advertise',
  'valency',
  'hotValency',
  'warmValency',
  'trustable',
  'diffusionMode',
  'behindFirewall',
];
const PUBLIC_KEYS = ['accessPoints', 'advertise'];

/**
 * The node reads `o .: "valency" <|> o .: "hotValency"`: "valency" when it decodes as an integer
 * (then "hotValency" is never looked at), otherwise "hotValency"; the file is refused only when
 * neither decodes.
 */
function hotValencyOf(c: Collector, raw: Json, path: Array<string | number>): number {
  const valency = raw.valency;
  const hot = raw.hotValency;
  if (isInt(valency)) {
    if (hot !== undefined && hot !== valency)
      c.add(
        isInt(hot) ? 'TOPOLOGY_BOTH_VALENCY_KEYS' : 'TOPOLOGY_TYPE',
        isInt(hot) ? 'error' : 'warning',
        jsonPath(...path, 'hotValency'),
        isInt(hot)
          ? `both "valency" (${valency}) and "hotValency" (${hot}): the node uses "valency" and ignores "hotValency"`
          : `"hotValency" ${JSON.stringify(hot)} is not an integer; the node does not read it because "valency" (${valency}) is set`,
        'keep only "hotValency" with the value you mean',
      );
    return valency;
  }
  if (isInt(hot)) {
    if (valency !== undefined)
      c.add(
        'TOPOLOGY_TYPE',
        'warning',
        jsonPath(...path, 'valency'),
        `"valency" ${JSON.stringify(valency)} is not an integer: the node ignores it and uses "hotValency" (${hot})`,
        'remove "valency" (it is the old name of "hotValency")',
      );
    return hot;
  }
  if (valency === undefined && hot === undefined) {
    c.add(
      'TOPOLOGY_MISSING_VALENCY',
      'error',
      jsonPath(...path),
      'local root group without "hotValency" (or "valency"): the node refuses the file',
      'add "hotValency": the number of peers of this group to keep hot',
    );
    return 1;
  }
  const key = hot !== undefined ? 'hotValency' : 'valency';
  const v = hot !== undefined ? hot : valency;
  c.add(
    'TOPOLOGY_TYPE',
    'error',
    jsonPath(...path, key),
    `"${key}" must be an integer, not ${JSON.stringify(v)}: the node refuses the file`,
    `write "${key}" as a whole number without quotes`,
  );
  return bestEffortInt(v) ?? bestEffortInt(valency) ?? 1;
}

/** A root group must be a JSON object with only the keys the node reads; anything else is reported. */
function groupObject(
  c: Collector,
  raw: unknown,
  path: Array<string | number>,
  what: string,
  keys: readonly string[],
  example: string,
): Json | undefined {
  if (!isObject(raw)) {
    c.add(
      'TOPOLOGY_TYPE',
      'error',
      jsonPath(...path),
      `${what} must be an object: the node refuses the file`,
      `write the group as ${example}`,
    );
    return undefined;
  }
  unknownKeys(c, raw, keys, path, 'warning', what);
  return raw;
}

function parseLocalGroup(c: Collector, value: unknown, path: Array<string | number>): LocalRootGroup | undefined {
  const example = '{"accessPoints": [...], "advertise": false, "hotValency": 1}';
  const raw = groupObject(c, value, path, 'a local root group', LOCAL_KEYS, example);
  if (raw === undefined) return undefined;
  const hotValency = hotValencyOf(c, raw, path);
  const warm = valencyField(c, raw, 'warmValency', path);
  let diffusionMode: DiffusionMode = 'InitiatorAndResponder';
  const dm = raw.diffusionMode;
  if (dm !== undefined && dm !== null) {
    if (typeof dm === 'string' && (DIFFUSION_MODES as readonly string[]).includes(dm))
      diffusionMode = dm as DiffusionMode;
    else
      c.add(
        'TOPOLOGY_BAD_DIFFUSION_MODE',
        'error',
        jsonPath(...path, 'diffusionMode'),
        `diffusionMode ${JSON.stringify(dm)} is not one the node knows: it refuses the file`,
        'use "InitiatorAndResponder" (the default) or "InitiatorOnly"',
      );
  }
  return {
    accessPoints: accessPointList(c, raw.accessPoints, [...path, 'accessPoints']),
    advertise: boolField(c, raw, 'advertise', path),
    hotValency,
    warmValency: warm ?? hotValency,
    warmValencySet: warm !== undefined,
    trustable: boolField(c, raw, 'trustable', path),
    behindFirewall: boolField(c, raw, 'behindFirewall', path),
    diffusionMode,
  };
}

function parsePublicGroup(c: Collector, value: unknown, path: Array<string | number>): PublicRootGroup | undefined {
  const example = '{"accessPoints": [...], "advertise": false}';
  const raw = groupObject(c, value, path, 'a public root group', PUBLIC_KEYS, example);
  if (raw === undefined) return undefined;
  return {
    accessPoints: accessPointList(c, raw.accessPoints, [...path, 'accessPoints']),
    advertise: boolField(c, raw, 'advertise', path),
  };
}

function groupList<T>(
  c: Collector,
  raw: unknown,
  key: string,
  parse: (c: Collector, raw: unknown, path: Array<string | number>) => T | undefined,
): T[] {
  if (!Array.isArray(raw)) {
    c.add(
      raw === undefined ? 'TOPOLOGY_MISSING_KEY' : 'TOPOLOGY_TYPE',
      'error',
      jsonPath(key),
      raw === undefined
        ? `no "${key}": the node refuses a P2P topology without it`
        : `"${key}" must be a list, not ${JSON.stringify(raw)}: the node refuses the file`,
      `add "${key}": [] (a list of groups, possibly empty)`,
    );
    return [];
  }
  const out: T[] = [];
  raw.forEach((g, i) => {
    const parsed = parse(c, g, [key, i]);
    if (parsed) out.push(parsed);
  });
  return out;
}

export function parseCurrent(c: Collector, doc: Json): Topology {
  unknownKeys(c, doc, TOP_KEYS, [], 'warning', 'the topology');
  const t: Topology = {
    localRoots: groupList(c, doc.localRoots, 'localRoots', parseLocalGroup),
    publicRoots: groupList(c, doc.publicRoots, 'publicRoots', parsePublicGroup),
    bootstrapPeers: null,
    ledgerPeers: { mode: 'never' },
  };
  const slot = doc.useLedgerAfterSlot;
  if (slot !== undefined && slot !== null) {
    if (isInt(slot)) {
      t.useLedgerAfterSlot = slot;
      t.ledgerPeers = ledgerPeersFromSlot(slot);
    } else if (typeof slot === 'number') {
      // The node accepts any JSON number here and floors it (only its sign and floor matter).
      const floored = Math.floor(slot);
      t.useLedgerAfterSlot = floored;
      t.ledgerPeers = slot > 0 ? { mode: 'after-slot', slot: floored } : ledgerPeersFromSlot(floored);
      c.add(
        'TOPOLOGY_SLOT_FRACTION',
        'warning',
        jsonPath('useLedgerAfterSlot'),
        `useLedgerAfterSlot ${slot} is not a whole slot: the node rounds it down to ${slot > 0 ? floored : 'never'}`,
        `write a whole slot number (e.g. ${Math.max(floored, 0)})`,
      );
    } else
      c.add(
        'TOPOLOGY_TYPE',
        'error',
        jsonPath('useLedgerAfterSlot'),
        `useLedgerAfterSlot must be an integer slot, not ${JSON.stringify(slot)}: the node refuses the file`,
        'write a slot number (0 = always use ledger peers, -1 = never)',
      );
  }
  const bp = doc.bootstrapPeers;
  if (bp !== undefined && bp !== null) {
    if (Array.isArray(bp)) {
      t.bootstrapPeers = [];
      bp.forEach((item, i) => {
        const ap = parseAccessPoint(c, item, ['bootstrapPeers', i]);
        if (ap) t.bootstrapPeers?.push(ap);
      });
    } else
      c.add(
        'TOPOLOGY_TYPE',
        'error',
        jsonPath('bootstrapPeers'),
        `bootstrapPeers must be a list of access points or null, not ${JSON.stringify(bp)}: the node refuses the file`,
        'write "bootstrapPeers": [{"address": ..., "port": ...}] or null to disable',
      );
  }
  const snap = doc.peerSnapshotFile;
  if (snap !== undefined && snap !== null) {
    if (typeof snap === 'string' && snap !== '') t.peerSnapshotFile = snap;
    else
      c.add(
        'TOPOLOGY_TYPE',
        'error',
        jsonPath('peerSnapshotFile'),
        `peerSnapshotFile must be a file path, not ${JSON.stringify(snap)}: the node refuses the file`,
        'write the path of the peer snapshot (relative to the topology file) or remove the key',
      );
  }
  return t;
}
