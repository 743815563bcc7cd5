/**
 * A cardano-node configuration as spo reads it: the peer-to-peer keys with the node's decoding
 * rules (cardano-node `POM.hs`, ouroboros-network's JSON instances) and their defaults. Pure: the
 * text comes in, a typed `NodeConfig` or a `ConfigError` naming the file and the key comes out.
 * Keys spo does not interpret are kept in `document`, never refused (the node ignores unknown keys).
 */
import { isAbsolute, join } from 'node:path';
import { parseDocument } from 'yaml';
import type { Millis } from '../lib/clock.js';
import { parseJsonText } from '../lib/read-input.js';
import {
  type AcceptedConnectionsLimit,
  type ConsensusMode,
  DEFAULT_ACCEPTED_CONNECTIONS_LIMIT,
  DEFAULT_CHAIN_SYNC_IDLE_TIMEOUT_MS,
  DEFAULT_CONSENSUS_MODE,
  DEFAULT_DEADLINE_TARGETS,
  DEFAULT_DIFFUSION_MODE,
  DEFAULT_MIN_BIG_LEDGER_PEERS_FOR_TRUSTED_STATE,
  DEFAULT_PEER_SHARING,
  DEFAULT_PROTOCOL_IDLE_TIMEOUT_MS,
  DEFAULT_SYNC_TARGETS,
  DEFAULT_TIME_WAIT_TIMEOUT_MS,
  type DiffusionMode,
  type NodeRole,
  type PeerTargets,
  targetRuleBroken,
} from './defaults.js';
import { ConfigError } from './errors.js';

/** The configuration keys of the deadline targets (`TargetNumberOf*`), in the node's order. */
export const TARGET_KEYS = {
  root: 'TargetNumberOfRootPeers',
  known: 'TargetNumberOfKnownPeers',
  established: 'TargetNumberOfEstablishedPeers',
  active: 'TargetNumberOfActivePeers',
  knownBigLedger: 'TargetNumberOfKnownBigLedgerPeers',
  establishedBigLedger: 'TargetNumberOfEstablishedBigLedgerPeers',
  activeBigLedger: 'TargetNumberOfActiveBigLedgerPeers',
} as const satisfies Record<keyof PeerTargets, string>;

/** The configuration keys of the Genesis sync targets (`SyncTargetNumberOf*`). */
export const SYNC_TARGET_KEYS = {
  root: 'SyncTargetNumberOfRootPeers',
  known: 'SyncTargetNumberOfKnownPeers',
  established: 'SyncTargetNumberOfEstablishedPeers',
  active: 'SyncTargetNumberOfActivePeers',
  knownBigLedger: 'SyncTargetNumberOfKnownBigLedgerPeers',
  establishedBigLedger: 'SyncTargetNumberOfEstablishedBigLedgerPeers',
  activeBigLedger: 'SyncTargetNumberOfActiveBigLedgerPeers',
} as const satisfies Record<keyof PeerTargets, string>;

/** The other peer-to-peer keys spo reads. */
export const P2P_KEYS = {
  acceptedConnectionsLimit: 'AcceptedConnectionsLimit',
  peerSharing: 'PeerSharing',
  diffusionMode: 'DiffusionMode',
  consensusMode: 'ConsensusMode',
  protocolIdleTimeout: 'ProtocolIdleTimeout',
  timeWaitTimeout: 'TimeWaitTimeout',
  chainSyncIdleTimeout: 'ChainSyncIdleTimeout',
  enableP2P: 'EnableP2P',
  minBigLedgerPeersForTrustedState: 'MinBigLedgerPeersForTrustedState',
} as const;

/** Genesis files and the network-magic flag (`RequiresNetworkMagic`), as the file gives them. */
export const GENESIS_KEYS = {
  byron: 'ByronGenesisFile',
  shelley: 'ShelleyGenesisFile',
  alonzo: 'AlonzoGenesisFile',
  conway: 'ConwayGenesisFile',
  dijkstra: 'DijkstraGenesisFile',
} as const;

export type NodeConfigKey =
  | (typeof TARGET_KEYS)[keyof typeof TARGET_KEYS]
  | (typeof SYNC_TARGET_KEYS)[keyof typeof SYNC_TARGET_KEYS]
  | (typeof P2P_KEYS)[keyof typeof P2P_KEYS];

/** Every key `NodeConfig` interprets (the peer-to-peer ones), for "is this a node config at all?" checks. */
export const NODE_CONFIG_KEYS: readonly NodeConfigKey[] = [
  ...Object.values(TARGET_KEYS),
  ...Object.values(SYNC_TARGET_KEYS),
  ...Object.values(P2P_KEYS),
];

/** The peer-to-peer settings a node runs with: what the file says, the node's default otherwise. */
export interface NodeP2PSettings {
  /** Deadline targets (`TargetNumberOf*`); defaults depend on the role. */
  targets: PeerTargets;
  /** Genesis sync targets (`SyncTargetNumberOf*`), used in GenesisMode while the ledger state is too old. */
  syncTargets: PeerTargets;
  acceptedConnectionsLimit: AcceptedConnectionsLimit;
  /** `PeerSharing`; default on for a relay, off for a block producer. */
  peerSharing: boolean;
  diffusionMode: DiffusionMode;
  consensusMode: ConsensusMode;
  /** `ProtocolIdleTimeout` (the file gives seconds). */
  protocolIdleTimeoutMs: Millis;
  /** `TimeWaitTimeout` (the file gives seconds). */
  timeWaitTimeoutMs: Millis;
  /** `ChainSyncIdleTimeout` (the file gives seconds). */
  chainSyncIdleTimeoutMs: Millis;
  /** `MinBigLedgerPeersForTrustedState` (Genesis). */
  minBigLedgerPeersForTrustedState: number;
}

export interface GenesisFiles {
  byron?: string;
  shelley?: string;
  alonzo?: string;
  conway?: string;
  dijkstra?: string;
}

export interface NodeConfig extends NodeP2PSettings {
  /** The file it was read from (`-` for standard input). */
  file: string;
  /** The role whose defaults apply. */
  role: NodeRole;
  /** `EnableP2P` as written; undefined when absent. cardano-node 10.6 and later ignore it (always P2P). */
  enableP2P: boolean | undefined;
  /** Genesis file paths, relative ones joined to the configuration's folder as the node does. */
  genesis: GenesisFiles;
  /** `RequiresNetworkMagic`, when given. */
  requiresNetworkMagic: 'RequiresMagic' | 'RequiresNoMagic' | undefined;
  /** The keys of NODE_CONFIG_KEYS present in the file (the others took the defaults). */
  given: ReadonlySet<NodeConfigKey>;
  /** The whole document as parsed (for keys spo does not interpret). */
  document: Readonly<Record<string, unknown>>;
}

export interface NodeConfigOptions {
  /** Whose defaults apply where the file is silent (default relay). */
  role?: NodeRole | undefined;
  /** The folder relative genesis paths start from (default: none, they are kept as written). */
  baseDir?: string | undefined;
}

/** The node's settings when the configuration says nothing. */
export function defaultNodeSettings(role: NodeRole = 'relay'): NodeP2PSettings {
  return {
    targets: { ...DEFAULT_DEADLINE_TARGETS[role] },
    syncTargets: { ...DEFAULT_SYNC_TARGETS },
    acceptedConnectionsLimit: { ...DEFAULT_ACCEPTED_CONNECTIONS_LIMIT },
    peerSharing: DEFAULT_PEER_SHARING[role],
    diffusionMode: DEFAULT_DIFFUSION_MODE,
    consensusMode: DEFAULT_CONSENSUS_MODE,
    protocolIdleTimeoutMs: DEFAULT_PROTOCOL_IDLE_TIMEOUT_MS,
    timeWaitTimeoutMs: DEFAULT_TIME_WAIT_TIMEOUT_MS,
    chainSyncIdleTimeoutMs: DEFAULT_CHAIN_SYNC_IDLE_TIMEOUT_MS,
    minBigLedgerPeersForTrustedState: DEFAULT_MIN_BIG_LEDGER_PEERS_FOR_TRUSTED_STATE,
  };
}

/**
 * Parses the text of a node configuration: JSON when it starts with `{`, YAML otherwise (YAML 1.1
 * scalars, so `yes`/`no`/`on`/`off` are booleans). Throws INVALID_JSON / INVALID_YAML with the
 * position, CONFIG_FORMAT when the document is not a mapping.
 */
export function parseNodeConfigText(text: string, file: string): Record<string, unknown> {
  let doc: unknown;
  if (text.trimStart().startsWith('{')) doc = parseJsonText(text, file);
  else {
    const parsed = parseDocument(text, { version: '1.1' });
    const first = parsed.errors[0];
    if (first) {
      const pos = first.linePos?.[0];
      const why = (first.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
      throw new ConfigError(
        'INVALID_YAML',
        `${file}: invalid YAML${pos ? ` at line ${pos.line}, column ${pos.col}` : ''}: ${why}`,
        {
          hint: 'the node configuration must be valid JSON or YAML; check the indentation and quoting at that line',
          details: { file, ...(pos ? { line: pos.line, column: pos.col } : {}) },
        },
      );
    }
    doc = parsed.toJS({ maxAliasCount: 100 });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new ConfigError('CONFIG_FORMAT', `${file}: not a node configuration (expected an object of keys)`, {
      hint: 'pass the cardano-node configuration file (config.json or config.yaml), not a topology or genesis file',
      details: { file },
    });
  }
  return doc as Record<string, unknown>;
}

/**
 * Reads the peer-to-peer settings of a parsed configuration with the node's rules: absent or null
 * keys take the defaults of the role; a value of the wrong type is a CONFIG_VALUE error (the node
 * refuses it too); targets must be non-negative integers and sane (CONFIG_TARGETS), as the node
 * checks at start-up.
 */
export function nodeConfigFromDocument(
  document: Record<string, unknown>,
  file: string,
  options: NodeConfigOptions = {},
): NodeConfig {
  const role = options.role ?? 'relay';
  const settings = defaultNodeSettings(role);
  const given = new Set<NodeConfigKey>();
  const has = (key: NodeConfigKey): boolean => {
    const present = document[key] !== undefined && document[key] !== null;
    if (present) given.add(key);
    return present;
  };
  const bad = (key: string, expected: string, hint: string): ConfigError =>
    new ConfigError('CONFIG_VALUE', `${file}: ${key}: ${show(document[key])} is not ${expected}`, {
      hint,
      details: { file, key, value: document[key] },
    });

  settings.targets = readTargets(document, file, TARGET_KEYS, settings.targets, has);
  settings.syncTargets = readTargets(document, file, SYNC_TARGET_KEYS, settings.syncTargets, has);
  checkSane(file, settings.targets, TARGET_KEYS, given, role);
  checkSane(file, settings.syncTargets, SYNC_TARGET_KEYS, given, role);

  const K = P2P_KEYS;
  if (has(K.peerSharing)) {
    const v = document[K.peerSharing];
    // Older spo versions and configs spelled the flag out; the node reads a boolean.
    if (typeof v === 'boolean') settings.peerSharing = v;
    else if (v === 'PeerSharingEnabled') settings.peerSharing = true;
    else if (v === 'PeerSharingDisabled') settings.peerSharing = false;
    else throw bad(K.peerSharing, 'true or false', `write "${K.peerSharing}": true (relay) or false (block producer)`);
  }
  if (has(K.diffusionMode)) {
    const v = document[K.diffusionMode];
    if (v !== 'InitiatorOnly' && v !== 'InitiatorAndResponder')
      throw bad(K.diffusionMode, '"InitiatorOnly" or "InitiatorAndResponder"', 'use one of the two modes');
    settings.diffusionMode = v;
  }
  if (has(K.consensusMode)) {
    const v = document[K.consensusMode];
    if (v !== 'PraosMode' && v !== 'GenesisMode')
      throw bad(K.consensusMode, '"PraosMode" or "GenesisMode"', 'use "PraosMode" or "GenesisMode"');
    settings.consensusMode = v === 'GenesisMode' ? 'genesis' : 'praos';
  }
  const seconds = (key: NodeConfigKey, fallback: Millis): Millis => {
    if (!has(key)) return fallback;
    const v = document[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw bad(key, 'a number of seconds (0 or more)', `write the time in seconds, e.g. "${key}": ${fallback / 1000}`);
    return v * 1000;
  };
  settings.protocolIdleTimeoutMs = seconds(K.protocolIdleTimeout, settings.protocolIdleTimeoutMs);
  settings.timeWaitTimeoutMs = seconds(K.timeWaitTimeout, settings.timeWaitTimeoutMs);
  settings.chainSyncIdleTimeoutMs = seconds(K.chainSyncIdleTimeout, settings.chainSyncIdleTimeoutMs);
  if (has(K.minBigLedgerPeersForTrustedState)) {
    const v = document[K.minBigLedgerPeersForTrustedState];
    if (!isCount(v)) throw bad(K.minBigLedgerPeersForTrustedState, 'a non-negative integer', 'e.g. 5 (the default)');
    settings.minBigLedgerPeersForTrustedState = v;
  }
  if (has(K.acceptedConnectionsLimit))
    settings.acceptedConnectionsLimit = readAcceptedConnectionsLimit(document[K.acceptedConnectionsLimit], file);
  let enableP2P: boolean | undefined;
  if (has(K.enableP2P)) {
    const v = document[K.enableP2P];
    if (typeof v !== 'boolean') throw bad(K.enableP2P, 'true or false', `write "${K.enableP2P}": true`);
    enableP2P = v;
  }

  const genesis: GenesisFiles = {};
  for (const [era, key] of Object.entries(GENESIS_KEYS) as Array<[keyof GenesisFiles, string]>) {
    const v = document[key] ?? (era === 'byron' || era === 'shelley' ? document.GenesisFile : undefined);
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' || v === '')
      throw new ConfigError('CONFIG_VALUE', `${file}: ${key}: ${show(v)} is not a file path`, {
        hint: 'give the path of the genesis file, relative to the configuration file or absolute',
        details: { file, key, value: v },
      });
    genesis[era] = options.baseDir !== undefined && !isAbsolute(v) ? join(options.baseDir, v) : v;
  }
  const rnm = document.RequiresNetworkMagic;
  const requiresNetworkMagic = rnm === 'RequiresMagic' || rnm === 'RequiresNoMagic' ? rnm : undefined;

  return { ...settings, file, role, enableP2P, genesis, requiresNetworkMagic, given, document };
}

/** The configuration keys for settings, in the node's spelling and a stable order (for generated files). */
export function toNodeConfigKeys(settings: {
  peerSharing: boolean;
  targets: PeerTargets;
}): Record<string, number | boolean> {
  const out: Record<string, number | boolean> = { [P2P_KEYS.peerSharing]: settings.peerSharing };
  for (const [field, key] of Object.entries(TARGET_KEYS) as Array<[keyof PeerTargets, string]>)
    out[key] = settings.targets[field];
  return out;
}

function readTargets(
  document: Record<string, unknown>,
  file: string,
  keys: Record<keyof PeerTargets, NodeConfigKey>,
  defaults: PeerTargets,
  has: (key: NodeConfigKey) => boolean,
): PeerTargets {
  const t = { ...defaults };
  const invalid: string[] = [];
  for (const [field, key] of Object.entries(keys) as Array<[keyof PeerTargets, NodeConfigKey]>) {
    if (!has(key)) continue;
    const v = document[key];
    if (isCount(v)) t[field] = v;
    else invalid.push(key);
  }
  if (invalid.length > 0)
    throw new ConfigError(
      'CONFIG_TARGETS',
      `${file}: ${invalid.join(', ')}: not a non-negative integer (${invalid.map((k) => show(document[k])).join(', ')})`,
      { hint: 'write each target as a whole number, e.g. 20', details: { file, fields: invalid } },
    );
  return t;
}

function checkSane(
  file: string,
  t: PeerTargets,
  keys: Record<keyof PeerTargets, string>,
  given: ReadonlySet<string>,
  role: NodeRole,
): void {
  const broken = targetRuleBroken(t);
  if (!broken) return;
  const [a, rel, b] = broken;
  const side = (f: keyof PeerTargets): string =>
    `${keys[f]} ${t[f]}${given.has(keys[f]) ? '' : ` (the ${role === 'producer' ? 'block producer' : 'relay'} default)`}`;
  const other = typeof b === 'number' ? String(b) : side(b);
  throw new ConfigError(
    'CONFIG_TARGETS',
    `${file}: ${side(a)} is ${rel === '>' ? 'above' : 'below'} ${other}: the node refuses these targets`,
    {
      hint: 'targets need 0 <= active <= established <= known and root <= known (the same for big ledger peers), active <= 100, established <= 1000, known <= 10000',
      details: { file, key: keys[a], targets: t },
    },
  );
}

function readAcceptedConnectionsLimit(v: unknown, file: string): AcceptedConnectionsLimit {
  const key = P2P_KEYS.acceptedConnectionsLimit;
  const fail = (why: string): ConfigError =>
    new ConfigError('CONFIG_VALUE', `${file}: ${key}: ${why}`, {
      hint: `write "${key}": {"hardLimit": 512, "softLimit": 384, "delay": 5} (delay in seconds)`,
      details: { file, key, value: v },
    });
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw fail(`${show(v)} is not an object`);
  const o = v as Record<string, unknown>;
  for (const k of ['hardLimit', 'softLimit', 'delay']) if (o[k] === undefined || o[k] === null) throw fail(`no "${k}"`);
  if (!isCount(o.hardLimit) || o.hardLimit > 0xffffffff)
    throw fail(`hardLimit ${show(o.hardLimit)} is not a non-negative integer`);
  if (!isCount(o.softLimit) || o.softLimit > 0xffffffff)
    throw fail(`softLimit ${show(o.softLimit)} is not a non-negative integer`);
  if (typeof o.delay !== 'number' || !Number.isFinite(o.delay) || o.delay < 0)
    throw fail(`delay ${show(o.delay)} is not a number of seconds (0 or more)`);
  return { hardLimit: o.hardLimit, softLimit: o.softLimit, delayMs: o.delay * 1000 };
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}
