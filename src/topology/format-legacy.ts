/**
 * The legacy non-P2P format (`{"Producers": [{"addr", "port", "valency"}]}`), refused by node 10.6
 * and later; read so that lint can say so and migrate can rewrite it.
 */

import { Collector, isObject, type Json, jsonPath, parseAccessPoint, unknownKeys, valencyField } from './decode.js';
import { accessPointText, type LegacyProducer, type Topology } from './model.js';

/** Non-P2P `Producers`: mapped to one local root group per producer (the legacy node kept them all connected). */
export function parseLegacy(
  c: Collector,
  doc: Json,
): { topology: Topology; producers: LegacyProducer[]; sources: number[] } {
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
