/**
 * Parser for every topology format cardano-node has accepted. It follows the node's decoding
 * rules (cardano-node `TopologyP2P.hs`, ouroboros-network `RelayAccessPoint.hs`), restated:
 * - top level: `localRoots` and `publicRoots` required arrays; `useLedgerAfterSlot` optional
 *   (absent = never); `bootstrapPeers` optional (absent/null = disabled, a list = enabled);
 *   `peerSnapshotFile` optional.
 * - local group: `valency` is read first, then `hotValency`; `warmValency` defaults to the hot value;
 *   `advertise`, `trustable`, `behindFirewall` default false; `diffusionMode` defaults to
 *   InitiatorAndResponder.
 * - access point: `address` required; a `port` that does not decode as an integer makes it an SRV
 *   name; an IP literal is an address, anything else a DNS name; 0.0.0.0 and :: are refused; the
 *   port is narrowed to 16 bits without a check (so 70000 silently becomes 4464).
 * - unknown keys are ignored by the node; here they are reported.
 * The parser never throws for content problems: it reports them as findings (severity `error` for
 * what the node refuses) and builds the best model it can, so lint can show every problem at once.
 * It throws only when the document is not a topology at all.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { isValidHostname } from '../lib/address.js';
import { SpoError } from '../lib/errors.js';
import { parseJsonText } from '../lib/read-input.js';
import {
  type AccessPoint,
  accessPointText,
  DIFFUSION_MODES,
  type DiffusionMode,
  type LegacyProducer,
  type LocalRootGroup,
  ledgerPeersFromSlot,
  type ParsedTopology,
  type PublicRootGroup,
  type Severity,
  type Topology,
  type TopologyFinding,
  type TopologyFormat,
} from './model.js';

type Json = Record<string, unknown>;

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

/** Builds a JSONPath: `$.localRoots[0].hotValency`. */
export function jsonPath(...parts: Array<string | number>): string {
  let p = '$';
  for (const part of parts) {
    if (typeof part === 'number') p += `[${part}]`;
    else p += /^[A-Za-z_$][\w$]*$/.test(part) ? `.${part}` : `[${JSON.stringify(part)}]`;
  }
  return p;
}

export class Collector {
  readonly findings: TopologyFinding[] = [];
  add(code: string, severity: Severity, path: string, message: string, fix: string): void {
    this.findings.push({ code, severity, path, message, fix });
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The node decodes ports and valencies as Int: an integral JSON number. */
function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

function levenshtein(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] as number;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j] as number;
      prev[j] = Math.min(up + 1, (prev[j - 1] as number) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length] as number;
}

function suggestion(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = k.toLowerCase() === key.toLowerCase() ? 0 : levenshtein(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== undefined && (bestD === 0 || (bestD === 1 && key.length >= 5)) ? best : undefined;
}

function unknownKeys(
  c: Collector,
  obj: Json,
  known: readonly string[],
  path: Array<string | number>,
  severity: Severity,
  what: string,
): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  for (const key of Object.keys(obj)) {
    if (known.includes(key)) continue;
    extra[key] = obj[key];
    const near = suggestion(key, known);
    c.add(
      'TOPOLOGY_UNKNOWN_KEY',
      near ? 'warning' : severity,
      jsonPath(...path, key),
      near
        ? `unknown key "${key}" in ${what}: the node ignores it (did you mean "${near}"?)`
        : `unknown key "${key}" in ${what}: the node ignores it`,
      near ? `rename "${key}" to "${near}"` : `remove "${key}" if it was meant to configure the node`,
    );
  }
  return extra;
}

function boolField(c: Collector, obj: Json, key: string, path: Array<string | number>): boolean {
  const v = obj[key];
  // The node reads optional keys with aeson's `.:?`, which takes null as absent: the default.
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') {
    c.add(
      'TOPOLOGY_TYPE',
      'error',
      jsonPath(...path, key),
      `"${key}" is ${JSON.stringify(v)}: the node expects true or false and refuses the file`,
      `write "${key}": true or false, without quotes`,
    );
    return v === 'true';
  }
  return v;
}

/** 0.0.0.0 or :: (any spelling): the addresses the node refuses as a destination. */
export function isUnspecifiedAddress(address: string): boolean {
  return (isIPv4(address) && /^0+\.0+\.0+\.0+$/.test(address)) || (isIPv6(address) && /^[0:]+$/.test(address));
}

/** Decodes one access point with the node's rules; undefined when the node would refuse it. */
export function parseAccessPoint(
  c: Collector,
  raw: unknown,
  path: Array<string | number>,
  keys: { address: string; port: string } = { address: 'address', port: 'port' },
  reportUnknown: Severity = 'info',
): AccessPoint | undefined {
  if (!isObject(raw)) {
    c.add(
      'TOPOLOGY_TYPE',
      'error',
      jsonPath(...path),
      `an access point must be an object {"address", "port"}, not ${JSON.stringify(raw)}`,
      'write the access point as {"address": "relay.example.com", "port": 3001}',
    );
    return undefined;
  }
  const extra = unknownKeys(c, raw, [keys.address, keys.port], path, reportUnknown, 'an access point');
  const address = raw[keys.address];
  if (typeof address !== 'string' || address.trim() === '') {
    c.add(
      'TOPOLOGY_MISSING_ADDRESS',
      'error',
      jsonPath(...path, keys.address),
      address === undefined
        ? `access point without "${keys.address}": the node refuses the file`
        : `"${keys.address}" must be a non-empty string, not ${JSON.stringify(address)}: the node refuses the file`,
      `give the relay's IP address or DNS name as "${keys.address}"`,
    );
    return undefined;
  }
  const ap: AccessPoint = { address, kind: 'dns' };
  if (Object.keys(extra).length > 0) ap.extra = extra;
  const port = raw[keys.port];
  if (!isInt(port)) {
    // The node reads anything that is not an integer port as "no port": an SRV name.
    ap.kind = 'srv';
    if (port !== undefined) {
      c.add(
        'TOPOLOGY_BAD_PORT',
        'error',
        jsonPath(...path, keys.port),
        `port ${JSON.stringify(port)} is not an integer: the node silently treats "${address}" as an SRV name and ignores the port`,
        `write the port as a number without quotes, e.g. "${keys.port}": 3001`,
      );
    }
  } else {
    ap.port = port;
    if (port < 1 || port > 65535) {
      const wrapped = ((port % 65536) + 65536) % 65536;
      c.add(
        'TOPOLOGY_BAD_PORT',
        'error',
        jsonPath(...path, keys.port),
        `port ${port} is outside 1-65535: the node narrows it to ${wrapped} without telling you`,
        'use the port the relay listens on (1-65535)',
      );
    }
  }
  if (isIPv6(address) && address.includes('%')) {
    // node:net accepts a zone id; the node's IP reader (Data.IP) does not, so it takes the text
    // for a DNS name, which never resolves.
    c.add(
      'TOPOLOGY_BAD_HOST',
      'error',
      jsonPath(...path, keys.address),
      `"${address}" has an IPv6 zone id: the node does not read it as an IP address, looks it up as a name and never connects`,
      'use a global IPv6 address (or an IPv4 address / DNS name) without %zone',
    );
    return ap;
  }
  if (isIPv4(address) || isIPv6(address)) {
    ap.kind = isIPv4(address) ? 'ipv4' : 'ipv6';
    if (ap.port === undefined) {
      // The node would look the literal up as an SRV name, which never answers.
      c.add(
        'TOPOLOGY_MISSING_PORT',
        'error',
        jsonPath(...path),
        `IP address ${address} has no port: the node takes it for an SRV name and never connects`,
        `add the relay's port, e.g. "${keys.port}": 3001`,
      );
    }
    if (isUnspecifiedAddress(address)) {
      c.add(
        'TOPOLOGY_UNSPECIFIED_ADDRESS',
        'error',
        jsonPath(...path, keys.address),
        `${address} is not a destination address: the node refuses to start`,
        "put the relay's reachable IP address or DNS name here (0.0.0.0 is a listening address)",
      );
      return undefined;
    }
  } else if (!isValidHostname(address)) {
    c.add(
      'TOPOLOGY_BAD_HOST',
      'error',
      jsonPath(...path, keys.address),
      `"${address}" is neither an IP address nor a valid DNS name: the node will never reach it`,
      'write an IP address or a DNS name, without scheme, port or spaces',
    );
  } else if (ap.kind === 'dns' && address.startsWith('_')) {
    c.add(
      'TOPOLOGY_SRV_WITH_PORT',
      'warning',
      jsonPath(...path, keys.port),
      `"${address}" looks like an SRV name but has a port: the node looks it up as an ordinary name (A/AAAA), which SRV names rarely have`,
      `remove "${keys.port}" so that the node reads the SRV records, or give the relay's own name`,
    );
  } else if (ap.kind === 'srv' && port === undefined && !address.startsWith('_')) {
    c.add(
      'TOPOLOGY_SRV_NO_PREFIX',
      'warning',
      jsonPath(...path),
      `"${address}" has no port, so the node looks it up as an SRV name as written (topology SRV names are not prefixed)`,
      `add "port" if this is an ordinary relay name, or write the full SRV name (_cardano._tcp.${address})`,
    );
  }
  return ap;
}

function accessPointList(
  c: Collector,
  raw: unknown,
  path: Array<string | number>,
  keys?: { address: string; port: string },
): AccessPoint[] {
  if (!Array.isArray(raw)) {
    c.add(
      raw === undefined ? 'TOPOLOGY_MISSING_ACCESS_POINTS' : 'TOPOLOGY_TYPE',
      'error',
      jsonPath(...path),
      raw === undefined
        ? 'group without "accessPoints": the node refuses the file'
        : `"accessPoints" must be a list, not ${JSON.stringify(raw)}: the node refuses the file`,
      'give the group an "accessPoints" list (it may be empty)',
    );
    return [];
  }
  const out: AccessPoint[] = [];
  raw.forEach((item, i) => {
    const ap = parseAccessPoint(c, item, [...path, i], keys);
    if (ap) out.push(ap);
  });
  return out;
}

/** An optional integer key (`.:?`: absent or null is the default); a wrong type is refused. */
function valencyField(c: Collector, obj: Json, key: string, path: Array<string | number>): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (!isInt(v)) {
    c.add(
      'TOPOLOGY_TYPE',
      'error',
      jsonPath(...path, key),
      `"${key}" must be an integer, not ${JSON.stringify(v)}: the node refuses the file`,
      `write "${key}" as a whole number without quotes`,
    );
    return bestEffortInt(v);
  }
  return v;
}

function bestEffortInt(v: unknown): number | undefined {
  return typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;
}

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

function parseCurrent(c: Collector, doc: Json): Topology {
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

/** The 1.33-1.35 grouped format; access points as {addr, port} (or later {address, port}). */
function parseEarly(c: Collector, doc: Json, sources: number[]): Topology {
  c.add(
    'TOPOLOGY_EARLY_P2P_FORMAT',
    'error',
    '$',
    'early P2P format ("LocalRoots"/"PublicRoots" groups): current nodes refuse it',
    'run `spo topology migrate FILE` to rewrite it in the current format',
  );
  unknownKeys(c, doc, ['LocalRoots', 'PublicRoots', 'useLedgerAfterSlot'], [], 'warning', 'the topology');
  const t: Topology = { localRoots: [], publicRoots: [], bootstrapPeers: null, ledgerPeers: { mode: 'never' } };
  const apKeys = (o: Json): { list: unknown; keys: { address: string; port: string }; key: string } =>
    o.accessPoints !== undefined
      ? { list: o.accessPoints, keys: { address: 'address', port: 'port' }, key: 'accessPoints' }
      : { list: o.addrs, keys: { address: 'addr', port: 'port' }, key: 'addrs' };
  const lr = doc.LocalRoots;
  const groups = isObject(lr) ? lr.groups : undefined;
  if (Array.isArray(groups)) {
    groups.forEach((g, i) => {
      const path: Array<string | number> = ['LocalRoots', 'groups', i];
      if (!isObject(g) || !isObject(g.localRoots)) {
        c.add('TOPOLOGY_TYPE', 'error', jsonPath(...path), 'group without "localRoots"', 'check the group');
        return;
      }
      const inner = g.localRoots;
      const { list, keys, key } = apKeys(inner);
      const valency = valencyField(c, g, 'valency', path) ?? 1;
      sources.push(i);
      t.localRoots.push({
        accessPoints: accessPointList(c, list, [...path, 'localRoots', key], keys),
        advertise: boolField(c, inner, 'advertise', [...path, 'localRoots']),
        hotValency: valency,
        warmValency: valency,
        warmValencySet: false,
        trustable: false,
        behindFirewall: false,
        diffusionMode: 'InitiatorAndResponder',
      });
    });
  } else if (lr !== undefined)
    c.add('TOPOLOGY_TYPE', 'error', jsonPath('LocalRoots'), '"LocalRoots" must hold "groups"', 'check the file');
  const pr = doc.PublicRoots;
  if (Array.isArray(pr)) {
    pr.forEach((g, i) => {
      const path: Array<string | number> = ['PublicRoots', i];
      const inner = isObject(g) && isObject(g.publicRoots) ? g.publicRoots : undefined;
      if (!inner) {
        c.add('TOPOLOGY_TYPE', 'error', jsonPath(...path), 'entry without "publicRoots"', 'check the file');
        return;
      }
      const { list, keys, key } = apKeys(inner);
      t.publicRoots.push({
        accessPoints: accessPointList(c, list, [...path, 'publicRoots', key], keys),
        advertise: boolField(c, inner, 'advertise', [...path, 'publicRoots']),
      });
    });
  }
  const slot = doc.useLedgerAfterSlot;
  if (isInt(slot)) {
    t.useLedgerAfterSlot = slot;
    t.ledgerPeers = ledgerPeersFromSlot(slot);
  }
  return t;
}

/** Non-P2P `Producers`: mapped to one local root group per producer (the legacy node kept them all connected). */
function parseLegacy(c: Collector, doc: Json): { topology: Topology; producers: LegacyProducer[]; sources: number[] } {
  c.add(
    'TOPOLOGY_LEGACY_FORMAT',
    'error',
    '$',
    'legacy non-P2P format ("Producers"): node 10.6 and later refuse it',
    'run `spo topology migrate FILE` (choose --legacy-as local-roots or public-roots)',
  );
  unknownKeys(c, doc, ['Producers'], [], 'warning', 'the topology');
  const t: Topology = { localRoots: [], publicRoots: [], bootstrapPeers: null, ledgerPeers: { mode: 'never' } };
  const producers: LegacyProducer[] = [];
  const sources: number[] = [];
  const list = doc.Producers;
  if (!Array.isArray(list)) {
    c.add('TOPOLOGY_TYPE', 'error', jsonPath('Producers'), '"Producers" must be a list', 'check the file');
    return { topology: t, producers, sources };
  }
  list.forEach((p, i) => {
    const path: Array<string | number> = ['Producers', i];
    if (isObject(p)) unknownKeys(c, p, ['addr', 'port', 'valency'], path, 'info', 'a producer');
    const withoutValency = isObject(p) ? Object.fromEntries(Object.entries(p).filter(([k]) => k !== 'valency')) : p;
    const sub = new Collector();
    const ap = parseAccessPoint(sub, withoutValency, path, { address: 'addr', port: 'port' });
    // Unknown keys of a producer were reported above (with valency known).
    c.findings.push(...sub.findings.filter((f) => f.code !== 'TOPOLOGY_UNKNOWN_KEY'));
    if (!ap || ap.port === undefined) return;
    let valency = isObject(p) ? valencyField(c, p, 'valency', path) : 1;
    if (valency === undefined) {
      // The legacy parser reads it with `.:` (required): the node refused such a file.
      c.add(
        'TOPOLOGY_MISSING_VALENCY',
        'error',
        jsonPath(...path),
        `producer ${accessPointText(ap)} without "valency": the node refuses the file`,
        'add "valency": 1 (the number of connections to keep to it)',
      );
      valency = 1;
    }
    if (valency === 0) {
      // The legacy node skipped a producer with valency 0 (remoteAddressToNodeAddress): no connection.
      c.add(
        'TOPOLOGY_VALENCY_ZERO',
        'warning',
        jsonPath(...path, 'valency'),
        `producer ${accessPointText(ap)} has valency 0: the legacy node never connected to it, so it is left out`,
        'remove the entry, or give it valency 1 if the node should connect to it',
      );
      return;
    }
    delete ap.extra;
    producers.push({ address: ap.address, port: ap.port, valency });
    sources.push(i);
    const hot = ap.kind === 'dns' ? Math.max(1, valency) : 1;
    t.localRoots.push({
      accessPoints: [ap],
      advertise: false,
      hotValency: hot,
      warmValency: hot,
      warmValencySet: false,
      trustable: false,
      behindFirewall: false,
      diffusionMode: 'InitiatorAndResponder',
    });
  });
  return { topology: t, producers, sources };
}

/** Which format a document is written in; undefined when it is not a topology. */
export function detectFormat(doc: unknown): TopologyFormat | undefined {
  if (!isObject(doc)) return undefined;
  if ('localRoots' in doc || 'publicRoots' in doc) return 'p2p';
  if ('LocalRoots' in doc || 'PublicRoots' in doc) return 'early-p2p';
  if ('Producers' in doc) return 'legacy-producers';
  return undefined;
}

/**
 * Parses a topology document (already JSON-decoded) in any format. `file` names it in errors.
 * Throws TOPOLOGY_FORMAT only when the document is not a topology; everything else is a finding.
 */
export function parseTopology(json: unknown, file: string): ParsedTopology {
  const format = detectFormat(json);
  if (format === undefined || !isObject(json)) {
    throw new SpoError(
      'TOPOLOGY_FORMAT',
      `${file}: not a topology file (expected an object with "localRoots" and "publicRoots", or the older "LocalRoots"/"Producers")`,
      { hint: 'give a cardano-node topology.json', details: { file } },
    );
  }
  const c = new Collector();
  if (format === 'p2p') return { topology: parseCurrent(c, json), format, findings: c.findings };
  if (format === 'early-p2p') {
    const sources: number[] = [];
    return { topology: parseEarly(c, json, sources), format, findings: c.findings, localRootSources: sources };
  }
  const { topology, producers, sources } = parseLegacy(c, json);
  return { topology, format, findings: c.findings, legacyProducers: producers, localRootSources: sources };
}

/**
 * Parses and refuses what the node would refuse: throws TOPOLOGY_INVALID naming the first error
 * (the format findings for legacy/early files are left to the caller when `allowOldFormats`).
 */
export function parseTopologyStrict(
  json: unknown,
  file: string,
  options: { allowOldFormats?: boolean } = {},
): ParsedTopology {
  const parsed = parseTopology(json, file);
  const oldFormat = new Set(['TOPOLOGY_LEGACY_FORMAT', 'TOPOLOGY_EARLY_P2P_FORMAT']);
  const error = parsed.findings.find(
    (f) => f.severity === 'error' && !(options.allowOldFormats && oldFormat.has(f.code)),
  );
  if (error) {
    throw new SpoError(error.code, `${file}: ${error.path}: ${error.message}`, {
      hint: error.fix,
      details: { file, path: error.path },
    });
  }
  return parsed;
}

/**
 * Decodes the text of a topology file as JSON, naming the mistakes editors make: a UTF-8
 * byte-order mark (which cardano-node's JSON decoder refuses as well) gets its own message.
 */
export function parseTopologyText(text: string, file: string): unknown {
  if (text.startsWith('\uFEFF')) {
    throw new SpoError(
      'INVALID_JSON',
      `${file}: invalid JSON: the file starts with a UTF-8 byte-order mark (BOM), which cardano-node refuses too`,
      {
        hint: 'save the file as UTF-8 without BOM (e.g. `sed -i "1s/^\\xEF\\xBB\\xBF//" FILE`)',
        details: { file },
      },
    );
  }
  return parseJsonText(text, file);
}
