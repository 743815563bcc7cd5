/**
 * A fixed node snapshot, as a running `spo run` would answer it: the control endpoint's tests, the
 * `spo peers` / `spo top --control` end-to-end tests and the live table's tests share it.
 */
import type { NodeSnapshot, PeerRow } from '../../src/node/snapshot.js';

export const SNAPSHOT_TIME = '2026-12-05T12:00:00.000Z';

/** `ms` before the snapshot's time, ISO. */
export const before = (ms: number): string => new Date(Date.parse(SNAPSHOT_TIME) - ms).toISOString();

export const PEERS: PeerRow[] = [
  { peer: '10.0.0.10:3001', source: 'ledger', temperature: 'cold', since: before(5_000), failCount: 2 },
  {
    peer: '10.0.0.2:3001',
    name: 'relay1.example.com',
    direction: 'out',
    source: 'local-root',
    temperature: 'hot',
    since: before(192_000),
    rttMs: 1.25,
    upstreamness: 0.5,
    headersFirst: 12,
    headers: 40,
    failCount: 0,
    group: 0,
  },
  {
    peer: '[2001:db8::1]:3001',
    direction: 'duplex',
    source: 'peer-share',
    temperature: 'warm',
    since: before(61_000),
    rttMs: 20.04,
    failCount: 0,
  },
  {
    peer: '10.0.0.3:3001',
    name: 'a-very-long-relay-name-that-does-not-fit.relays.example-operator.com',
    direction: 'out',
    source: 'public-root',
    temperature: 'hot',
    since: before(3_725_000),
    rttMs: 80,
    upstreamness: 0.25,
    headersFirst: 3,
    headers: 40,
    failCount: 1,
  },
  {
    peer: '127.0.0.1:40001',
    direction: 'in',
    source: 'inbound',
    temperature: 'cooling',
    since: before(2_000),
    failCount: 0,
  },
];

export function fixedSnapshot(seq = 1): NodeSnapshot {
  return {
    event: 'snapshot',
    seq,
    time: SNAPSHOT_TIME,
    pid: 4242,
    listening: ['127.0.0.1:3001'],
    uptimeMs: 3_900_000,
    counters: {
      peerSelection: {
        known: 5,
        established: 3,
        active: 2,
        cold: 2,
        warm: 1,
        hot: 2,
        root: 2,
        bigLedger: { known: 1, established: 0, active: 0 },
        localRoots: { known: 1, established: 1, active: 1 },
      },
      connectionManager: { inbound: 2, outbound: 3, duplex: 1, unidirectional: 4, fullDuplex: 0 },
      inboundGovernor: { idle: 1, cold: 0, warm: 1, hot: 0 },
    },
    tip: { blockNo: 1234, slot: 98765, hash: 'ab'.repeat(32) },
    peers: PEERS.map((p) => ({ ...p })),
  };
}
