/**
 * The early grouped P2P format of nodes 1.33-1.35 (`LocalRoots.groups[].localRoots`,
 * `PublicRoots[].publicRoots`, access points as {addr, port} or later {address, port}, one
 * `valency` per group). Current nodes refuse it; it is read so that lint can say so and migrate
 * can rewrite it.
 */

import {
  accessPointList,
  boolField,
  type Collector,
  isInt,
  isObject,
  type Json,
  jsonPath,
  unknownKeys,
  valencyField,
} from './decode.js';
import { ledgerPeersFromSlot, type Topology } from './model.js';

/** The 1.33-1.35 grouped format; access points as {addr, port} (or later {address, port}). */
export function parseEarly(c: Collector, doc: Json, sources: number[]): Topology {
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
