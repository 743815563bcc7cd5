/**
 * Migration of any older topology to the current format, keeping what the file meant to the node
 * that read it: `valency` becomes `hotValency`; the early grouped format is flattened; a legacy
 * `Producers` list becomes local roots (one group per producer: the legacy node kept them all
 * connected) or one public root group, as asked; an absent `useLedgerAfterSlot` (which meant
 * "never") is written as -1 so the file now says what it does. Pure; the command shows the diff.
 */
import type { NetworkName } from '../lib/networks.js';
import { counted } from '../lib/plural.js';
import { type Role, TOPOLOGY_PRESETS } from './generate.js';
import type { LegacyProducer, ParsedTopology, Topology } from './model.js';
import { ledgerPeersFromSlot } from './model.js';
import { isKnownPublicRelay } from './public-relays.js';
import { writeTopology } from './write.js';

export type LegacyAs = 'local-roots' | 'public-roots';

/** The role a legacy file was written for: a relay when it lists a known public relay. */
export function legacyRole(producers: readonly LegacyProducer[]): Role {
  return producers.some((p) => isKnownPublicRelay(p.address)) ? 'relay' : 'producer';
}

export interface MigrateResult {
  from: ParsedTopology['format'];
  topology: Topology;
  text: string;
  /** One line per change of form or meaning made explicit. */
  changes: string[];
  /** Legacy files: the role the file is migrated for (given, or told from its Producers). */
  role?: Role;
}

function legacyToPublic(producers: LegacyProducer[]): Topology {
  return {
    localRoots: [],
    publicRoots: [
      {
        accessPoints: producers.map((p) => ({
          address: p.address,
          port: p.port,
          kind: /^[\d.]+$/.test(p.address) ? 'ipv4' : p.address.includes(':') ? 'ipv6' : 'dns',
        })),
        advertise: false,
      },
    ],
    useLedgerAfterSlot: -1,
    ledgerPeers: { mode: 'never' },
    bootstrapPeers: null,
  };
}

function usedValencyKey(raw: unknown): boolean {
  const lr = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>).localRoots : undefined;
  return Array.isArray(lr) && lr.some((g) => typeof g === 'object' && g !== null && 'valency' in g);
}

export interface MigrateOptions {
  legacyAs?: LegacyAs;
  /** The JSON as read, to report what changed. */
  raw?: unknown;
  /** Legacy files: the role to migrate for (default: told from the Producers). */
  role?: Role | undefined;
  /** The network whose bootstrap peers and ledger-peer slot a legacy relay gets ('custom': none, slot 0). */
  network?: NetworkName | 'custom';
}

/**
 * A legacy relay's file as a working relay: the public relays it listed (IOG's 2020 names are gone)
 * give way to the network's bootstrap peers, and ledger peers are turned on, as in the network's
 * official topology; the pool's own machines stay local roots (or one public root group).
 */
function legacyRelay(parsed: ParsedTopology, options: MigrateOptions, changes: string[]): Topology {
  const producers = parsed.legacyProducers ?? [];
  const listed = producers.filter((p) => isKnownPublicRelay(p.address)).map((p) => p.address);
  const own = producers.filter((p) => !isKnownPublicRelay(p.address) && p.valency > 0);
  const network = options.network ?? 'mainnet';
  const preset = network === 'custom' ? undefined : TOPOLOGY_PRESETS[network];
  const slot = preset?.useLedgerAfterSlot ?? 0;
  let t: Topology;
  if ((options.legacyAs ?? 'local-roots') === 'public-roots') {
    t = own.length > 0 ? legacyToPublic(own) : { ...legacyToPublic([]), publicRoots: [] };
    if (own.length > 0)
      changes.push(`your ${counted(own.length, 'other producer')} -> one public root group (not advertised)`);
  } else {
    t = structuredClone(parsed.topology);
    t.localRoots = t.localRoots.filter((g) => !g.accessPoints.some((ap) => isKnownPublicRelay(ap.address)));
    if (own.length > 0)
      changes.push(
        `your ${counted(own.length, 'other producer')} -> one local root group each (hotValency = valency for names, 1 for IP addresses)`,
      );
  }
  t.useLedgerAfterSlot = slot;
  t.ledgerPeers = ledgerPeersFromSlot(slot);
  t.bootstrapPeers = preset ? preset.bootstrapPeers.map((b) => ({ ...b, kind: 'dns' as const })) : null;
  const source = listed.length > 0 ? `it lists ${listed.join(', ')}, a public relay` : 'as --role relay says';
  changes.unshift(
    `legacy relay file (${source}; --role producer if this is a block producer): migrated as a relay that finds its peers itself`,
  );
  changes.push(
    preset
      ? `ledger peers on (useLedgerAfterSlot ${slot}, as in ${network}'s official topology) and ${network}'s bootstrap peers (${preset.bootstrapPeers.map((b) => b.address).join(', ')})${listed.length > 0 ? ` in place of ${listed.join(', ')}` : ''}`
      : 'ledger peers on (useLedgerAfterSlot 0); no bootstrap peers for a custom network: add your own with bootstrapPeers',
  );
  return t;
}

export function migrateTopology(parsed: ParsedTopology, options: MigrateOptions = {}): MigrateResult {
  const changes: string[] = [];
  let t: Topology = structuredClone(parsed.topology);
  let role: Role | undefined;
  if (parsed.format === 'legacy-producers' && (options.role ?? legacyRole(parsed.legacyProducers ?? [])) === 'relay') {
    role = 'relay';
    t = legacyRelay(parsed, options, changes);
    const skipped = parsed.findings.filter((f) => f.code === 'TOPOLOGY_VALENCY_ZERO').length;
    if (skipped > 0)
      changes.push(`${counted(skipped, 'producer')} with valency 0 left out (the legacy node never connected to them)`);
  } else if (parsed.format === 'legacy-producers') {
    role = 'producer';
    const producers = parsed.legacyProducers ?? [];
    changes.push(
      `legacy block producer file (no known public relay among its Producers; --role relay if this is a relay): it keeps to the producers it lists`,
    );
    if ((options.legacyAs ?? 'local-roots') === 'public-roots') {
      t = legacyToPublic(producers);
      changes.push(`legacy Producers (${producers.length}) -> one public root group (not advertised)`);
    } else {
      changes.push(
        `legacy Producers (${producers.length}) -> one local root group each (hotValency = valency for names, 1 for IP addresses)`,
      );
    }
    const skipped = parsed.findings.filter((f) => f.code === 'TOPOLOGY_VALENCY_ZERO').length;
    if (skipped > 0)
      changes.push(`${counted(skipped, 'producer')} with valency 0 left out (the legacy node never connected to them)`);
    changes.push('useLedgerAfterSlot -1 written: the legacy node never used ledger peers');
  } else if (parsed.format === 'early-p2p') {
    changes.push('early grouped format (LocalRoots.groups / PublicRoots) -> flat localRoots / publicRoots');
    changes.push('"valency" -> "hotValency"; "addrs"/"addr" -> "accessPoints"/"address"');
  }
  if (t.useLedgerAfterSlot === undefined) {
    t.useLedgerAfterSlot = -1;
    t.ledgerPeers = ledgerPeersFromSlot(-1);
    if (parsed.format !== 'legacy-producers')
      changes.push('useLedgerAfterSlot -1 written: an absent key means the node never uses ledger peers');
  }
  if (parsed.format === 'p2p' && usedValencyKey(options.raw))
    changes.push('"valency" written as "hotValency" (same meaning; the node reads either)');
  return { from: parsed.format, topology: t, text: writeTopology(t), changes, ...(role ? { role } : {}) };
}

/**
 * A line diff (longest common subsequence) in unified style without hunks: ` ` kept, `-` removed,
 * `+` added. Topology files are small; past 4000 lines each side it falls back to remove-all/add-all.
 */
export function lineDiff(before: string, after: string): string {
  const a = before.replace(/\n$/, '').split('\n');
  const b = after.replace(/\n$/, '').split('\n');
  if (before === after) return '';
  if (a.length > 4000 || b.length > 4000)
    return [...a.map((l) => `-${l}`), ...b.map((l) => `+${l}`)].join('\n').concat('\n');
  const n = a.length;
  const m = b.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    const row = lcs[i] as Uint32Array;
    const next = lcs[i + 1] as Uint32Array;
    for (let j = m - 1; j >= 0; j--)
      row[j] = a[i] === b[j] ? (next[j + 1] as number) + 1 : Math.max(next[j] as number, row[j + 1] as number);
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push(` ${a[i]}`);
      i++;
      j++;
    } else if (((lcs[i + 1] as Uint32Array)[j] as number) >= ((lcs[i] as Uint32Array)[j + 1] as number)) {
      out.push(`-${a[i]}`);
      i++;
    } else {
      out.push(`+${b[j]}`);
      j++;
    }
  }
  while (i < n) out.push(`-${a[i++]}`);
  while (j < m) out.push(`+${b[j++]}`);
  return `${out.join('\n')}\n`;
}
