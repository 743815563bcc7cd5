/**
 * What the three topology formats share in decoding: JSONPaths, the findings collector, access
 * points with the node's rules (ouroboros-network `RelayAccessPoint.hs`, restated: `address`
 * required; a `port` that does not decode as an integer makes it an SRV name; an IP literal is an
 * address, anything else a DNS name; 0.0.0.0 and :: are refused; the port is narrowed to 16 bits
 * without a check), optional booleans and integers read as aeson's `.:?` (null = absent), and
 * unknown keys (ignored by the node, reported here).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { isValidHostname } from '../lib/address.js';
import type { AccessPoint, Severity, TopologyFinding } from './model.js';

export type Json = Record<string, unknown>;

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

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The node decodes ports and valencies as Int: an integral JSON number. */
export function isInt(v: unknown): v is number {
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

export function unknownKeys(
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

export function boolField(c: Collector, obj: Json, key: string, path: Array<string | number>): boolean {
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

export function accessPointList(
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
export function valencyField(c: Collector, obj: Json, key: string, path: Array<string | number>): number | undefined {
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

export function bestEffortInt(v: unknown): number | undefined {
  return typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;
}
