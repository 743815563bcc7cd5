/**
 * Writes a Topology as JSON in the current format (what cardano-node 10.6+ reads), or in the
 * legacy `Producers` format on request. Defaults are written out explicitly where an omitted key
 * has surprised operators (`advertise`, `trustable`, `useLedgerAfterSlot`), and left out where the
 * key is recent and its default is what everyone wants (`diffusionMode`, `behindFirewall`).
 */
import { type AtomicWriteOptions, type WriteResult, writeFileAtomic } from '../lib/atomic-write.js';
import { SpoError } from '../lib/errors.js';
import { type AccessPoint, accessPointText, type Topology } from './model.js';
import { parseTopology } from './parse.js';

export type WriteFormat = 'p2p' | 'legacy-producers';

function accessPointJson(ap: AccessPoint): Record<string, unknown> {
  const o: Record<string, unknown> = { address: ap.address };
  if (ap.port !== undefined) o.port = ap.port;
  // Annotations the node ignores (Guild's description/pool/location) survive a rewrite.
  if (ap.extra) for (const [k, v] of Object.entries(ap.extra)) if (!(k in o)) o[k] = v;
  return o;
}

/** The document in the current format; keys in a stable order (the official files' order). */
export function topologyToJson(t: Topology): Record<string, unknown> {
  const doc: Record<string, unknown> = {};
  if (t.bootstrapPeers !== null) doc.bootstrapPeers = t.bootstrapPeers.map(accessPointJson);
  doc.localRoots = t.localRoots.map((g) => {
    const o: Record<string, unknown> = {
      accessPoints: g.accessPoints.map(accessPointJson),
      advertise: g.advertise,
      trustable: g.trustable,
      hotValency: g.hotValency,
    };
    if (g.warmValencySet || g.warmValency !== g.hotValency) o.warmValency = g.warmValency;
    if (g.diffusionMode !== 'InitiatorAndResponder') o.diffusionMode = g.diffusionMode;
    if (g.behindFirewall) o.behindFirewall = true;
    return o;
  });
  if (t.peerSnapshotFile !== undefined) doc.peerSnapshotFile = t.peerSnapshotFile;
  doc.publicRoots = t.publicRoots.map((g) => ({
    accessPoints: g.accessPoints.map(accessPointJson),
    advertise: g.advertise,
  }));
  // Absent means "never" to the node, which surprises people: always write it.
  doc.useLedgerAfterSlot =
    t.useLedgerAfterSlot ??
    (t.ledgerPeers.mode === 'never' ? -1 : t.ledgerPeers.mode === 'always' ? 0 : t.ledgerPeers.slot);
  return doc;
}

/**
 * The legacy non-P2P document: every access point of the local and public roots as a producer.
 * Valency is the group's hot valency for DNS names (legacy valency counted a name's addresses), 1
 * otherwise. SRV names cannot be written (the legacy node had no SRV support).
 */
export function topologyToLegacyJson(t: Topology): Record<string, unknown> {
  const producers: Array<Record<string, unknown>> = [];
  const add = (ap: AccessPoint, valency: number): void => {
    if (ap.port === undefined) {
      throw new SpoError(
        'TOPOLOGY_LEGACY_SRV',
        `${accessPointText(ap)} is an SRV name: the legacy format cannot express it`,
        {
          hint: 'write the current format, or replace the SRV name by the relay names it points to',
        },
      );
    }
    producers.push({ addr: ap.address, port: ap.port, valency: ap.kind === 'dns' ? Math.max(1, valency) : 1 });
  };
  for (const g of t.localRoots) for (const ap of g.accessPoints) add(ap, g.hotValency);
  for (const g of t.publicRoots) for (const ap of g.accessPoints) add(ap, 1);
  return { Producers: producers };
}

/** The file's text: two-space JSON and a final newline. */
export function writeTopology(t: Topology, format: WriteFormat = 'p2p'): string {
  const doc = format === 'legacy-producers' ? topologyToLegacyJson(t) : topologyToJson(t);
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/**
 * The meaning of a topology as the node sees it, for comparing two files: defaults applied, names
 * lower-cased, annotations dropped. Two topologies mean the same when their meanings are deep-equal.
 */
export function topologyMeaning(t: Topology): unknown {
  const ap = (a: AccessPoint): unknown => ({
    kind: a.kind,
    address: a.kind === 'dns' || a.kind === 'srv' ? a.address.toLowerCase().replace(/\.$/, '') : a.address,
    port: a.port ?? null,
  });
  return {
    localRoots: t.localRoots.map((g) => ({
      accessPoints: g.accessPoints.map(ap),
      advertise: g.advertise,
      hotValency: g.hotValency,
      warmValency: g.warmValency,
      trustable: g.trustable,
      behindFirewall: g.behindFirewall,
      diffusionMode: g.diffusionMode,
    })),
    publicRoots: t.publicRoots.map((g) => ({ accessPoints: g.accessPoints.map(ap), advertise: g.advertise })),
    ledgerPeers: t.ledgerPeers,
    bootstrapPeers: t.bootstrapPeers === null ? null : t.bootstrapPeers.map(ap),
    peerSnapshotFile: t.peerSnapshotFile ?? null,
  };
}

/**
 * Writes topology text to a file atomically (FILE.bak keeps the previous one), after checking that
 * the text reads back as a topology without node-refused errors: nothing is written otherwise.
 */
export async function saveTopology(
  path: string,
  text: string,
  options: { beforeStep?: AtomicWriteOptions['beforeStep'] } = {},
): Promise<WriteResult> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new SpoError('TOPOLOGY_WRITE_INVALID', `refusing to write ${path}: the content is not JSON`);
  }
  const parsed = parseTopology(doc, path);
  const error = parsed.findings.find((f) => f.severity === 'error' && f.code !== 'TOPOLOGY_LEGACY_FORMAT');
  if (error)
    throw new SpoError('TOPOLOGY_WRITE_INVALID', `refusing to write ${path}: ${error.path}: ${error.message}`, {
      hint: error.fix,
    });
  return writeFileAtomic(path, text, options.beforeStep ? { beforeStep: options.beforeStep } : {});
}
