/**
 * Peer metrics (governor.md §5): the boards and the registry against a plain model of the
 * reference's rules, and the simulator's batch (`addHeaderRun`) against recording slot by slot.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addFetchMetric,
  addHeaderMetric,
  addHeaderRun,
  emptyMetrics,
  fetchynessBlocks,
  fetchynessBytes,
  joinedAt,
  metricScores,
  notePeer,
  type PeerMetrics,
  upstreamyness,
} from '../../src/governor/peer-metrics.js';

const MAX = 180;

/** The rules written as plainly as possible: a board is a map from slot to its earliest delivery. */
class Model {
  headers = new Map<number, { peer: string; time: number; bytes: number }>();
  fetches = new Map<number, { peer: string; time: number; bytes: number }>();
  registry = new Map<string, { joined: number; lastSeen: number }>();

  private insert(
    board: Map<number, { peer: string; time: number; bytes: number }>,
    slot: number,
    peer: string,
    time: number,
    bytes: number,
  ) {
    const old = board.get(slot);
    if (old) {
      if (time < old.time) board.set(slot, { peer, time, bytes });
      return;
    }
    const slots = [...board.keys()].sort((a, b) => a - b);
    if (slots.length >= MAX && slot < (slots[0] as number)) return;
    board.set(slot, { peer, time, bytes });
    const all = [...board.keys()].sort((a, b) => a - b);
    while (board.size > MAX) board.delete(all.shift() as number);
  }

  register(peer: string, slot: number) {
    const r = this.registry.get(peer);
    if (!r || r.lastSeen < slot - MAX) this.registry.set(peer, { joined: slot, lastSeen: slot });
    else if (slot > r.lastSeen) r.lastSeen = slot;
  }

  header(slot: number, peer: string, time: number) {
    this.insert(this.headers, slot, peer, time, 0);
    this.register(peer, slot);
  }

  fetch(slot: number, peer: string, bytes: number, time: number) {
    this.insert(this.fetches, slot, peer, time, bytes);
    this.register(peer, slot);
  }

  wins(board: Map<number, { peer: string; bytes: number }>, weight: boolean): Map<string, number> {
    const out = new Map<string, number>();
    for (const e of board.values()) out.set(e.peer, (out.get(e.peer) ?? 0) + (weight ? e.bytes : 1));
    return out;
  }
}

const sorted = (m: Map<string, number>) => [...m].sort(([a], [b]) => (a < b ? -1 : 1));

function expectSame(m: PeerMetrics, model: Model): void {
  expect(sorted(upstreamyness(m))).toEqual(sorted(model.wins(model.headers, false)));
  expect(sorted(fetchynessBlocks(m))).toEqual(sorted(model.wins(model.fetches, false)));
  expect(sorted(fetchynessBytes(m))).toEqual(sorted(model.wins(model.fetches, true)));
  const bySlot = (b: ReadonlyMap<number, { peer: string; time: number }>) =>
    [...b].map(([s, e]) => [s, e.peer, e.time]).sort((x, y) => (x[0] as number) - (y[0] as number));
  expect(bySlot(m.headers)).toEqual(bySlot(model.headers));
  expect(bySlot(m.fetches)).toEqual(bySlot(model.fetches));
  expect([...joinedAt(m)]).toEqual([...model.registry].map(([p, r]) => [p, r.joined]));
}

const peer = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
const op = fc.oneof(
  fc.record({ kind: fc.constant('header' as const), slot: fc.nat(400), peer, time: fc.nat(30) }),
  fc.record({
    kind: fc.constant('fetch' as const),
    slot: fc.nat(400),
    peer,
    time: fc.nat(30),
    bytes: fc.nat(90_000),
  }),
  fc.record({ kind: fc.constant('note' as const), slot: fc.nat(400), peer }),
);

interface Op {
  kind: 'header' | 'fetch' | 'note';
  slot: number;
  peer: string;
  time?: number;
  bytes?: number;
}

function apply(m: PeerMetrics, model: Model, ops: readonly Op[]): void {
  for (const o of ops) {
    const time = o.time ?? 0;
    const bytes = o.bytes ?? 0;
    if (o.kind === 'header') {
      addHeaderMetric(m, o.slot, o.peer, time);
      model.header(o.slot, o.peer, time);
    } else if (o.kind === 'fetch') {
      addFetchMetric(m, o.slot, o.peer, bytes, time);
      model.fetch(o.slot, o.peer, bytes, time);
    } else {
      notePeer(m, o.slot, o.peer);
      model.register(o.peer, o.slot);
    }
  }
}

describe('peer metrics', () => {
  it('boards, counts and join slots follow the rules for any order of deliveries', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 100, maxLength: 600, size: 'max' }), (ops) => {
        const m = emptyMetrics();
        const model = new Model();
        apply(m, model, ops);
        expectSame(m, model);
      }),
      { numRuns: 100 },
    );
  });

  it('a mostly ascending stream (as a node sees it) keeps the board at 180 slots', () => {
    const m = emptyMetrics();
    const model = new Model();
    const ops: Op[] = [];
    for (let s = 0; s < 2_000; s++)
      ops.push({ kind: 'header', slot: s, peer: 'abcdef'.charAt(s % 6), time: s * 1000 + (s % 7) });
    for (let s = 1_990; s > 1_700; s -= 3) ops.push({ kind: 'header', slot: s, peer: 'z', time: 0 });
    apply(m, model, ops);
    expect(m.headers.size).toBe(MAX);
    expectSame(m, model);
    expect(metricScores(m).score.get('z')).toBe(upstreamyness(m).get('z'));
  });

  it('addHeaderRun records exactly what the same slots recorded one by one would', () => {
    const run = fc.record({
      start: fc.nat(2_000),
      gaps: fc.array(
        fc.oneof(
          fc.integer({ min: 0, max: 40 }),
          fc.integer({ min: 170, max: 400 }),
          fc.constantFrom(179, 180, 181, 182),
        ),
        {
          minLength: 1,
          maxLength: 300,
          size: 'max',
        },
      ),
      peers: fc.uniqueArray(peer, { minLength: 1, maxLength: 6 }),
      winners: fc.array(fc.nat(), { minLength: 300, maxLength: 300 }),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200, size: 'max' }), run, (history, r) => {
        const batch = emptyMetrics();
        const one = emptyMetrics();
        const model = new Model();
        apply(batch, new Model(), history);
        apply(one, model, history);
        const slots: number[] = [];
        let s = r.start;
        for (const g of r.gaps) {
          s += g;
          slots.push(s);
        }
        const winners = slots.map((_, j) => (r.winners[j] as number) % r.peers.length);
        const times = slots.map((x, j) => x * 1000 + j);
        addHeaderRun(batch, r.peers, slots, winners, times, slots.length);
        slots.forEach((slot, j) => {
          const w = r.peers[winners[j] as number] as string;
          addHeaderMetric(one, slot, w, times[j] as number);
          model.header(slot, w, times[j] as number);
          for (const p of r.peers)
            if (p !== w) {
              notePeer(one, slot, p);
              model.register(p, slot);
            }
        });
        expectSame(one, model);
        expectSame(batch, model);
      }),
      { numRuns: 150 },
    );
  });
});
