/**
 * Header diffusion: one Dijkstra per block gives exactly the first arrivals (and first deliverers)
 * of simulating every header message on the event kernel (src/sim/scheduler.ts), where a node
 * forwards a header to its downstreams as soon as it first receives it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/governor/rng.js';
import { Scheduler } from '../../src/sim/scheduler.js';
import { HotGraph, kthSmallest, timeToShare } from '../../src/simulation/diffusion.js';
import { FIBRE_KM_PER_MS, greatCircleKm, placeNodes } from '../../src/simulation/geo.js';

function messageSimulation(g: HotGraph, source: number): { arrival: number[]; winner: number[] } {
  const clock = new Scheduler(0);
  const arrival = new Array<number>(g.n).fill(Number.POSITIVE_INFINITY);
  const winner = new Array<number>(g.n).fill(-1);
  const receive = (v: number, from: number) => {
    if (arrival[v] !== Number.POSITIVE_INFINITY) return; // only the first copy is forwarded
    arrival[v] = clock.now();
    winner[v] = from;
    for (let d = 0; d < g.n; d++) {
      for (let k = 0; k < (g.count[d] as number); k++) {
        if (g.up[d * g.maxHot + k] !== v) continue;
        clock.setTimer(g.upDelay[d * g.maxHot + k] as number, () => receive(d, k));
      }
    }
  };
  clock.at(0, () => receive(source, -1));
  clock.run();
  return { arrival, winner };
}

describe('header diffusion over hot links', () => {
  it('Dijkstra equals message-by-message simulation: first arrival and first deliverer at every node', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 40 }), fc.integer({ min: 1, max: 5 }), fc.nat(), (n, maxHot, seed) => {
        const rng = createRng(seed);
        const g = new HotGraph(n, maxHot);
        for (let v = 0; v < n; v++) {
          const peers = [...new Set(Array.from({ length: maxHot }, () => rng.int(n)))].filter((u) => u !== v);
          g.setHot(
            v,
            peers,
            peers.map(() => 1 + rng.int(200)),
          );
        }
        const source = rng.int(n);
        const arrival = new Float64Array(n);
        const winner = new Int32Array(n);
        const reached = g.diffuse(source, arrival, winner);
        const sim = messageSimulation(g, source);
        expect([...arrival]).toEqual(sim.arrival);
        expect(reached).toBe(sim.arrival.filter(Number.isFinite).length);
        // Integer delays can tie: the deliverer must then be one of the tied earliest.
        for (let v = 0; v < n; v++) {
          const w = winner[v] as number;
          if (w < 0) continue;
          const u = g.up[v * maxHot + w] as number;
          expect((arrival[u] as number) + (g.upDelay[v * maxHot + w] as number)).toBe(arrival[v]);
        }
      }),
      { seed: 20261205, numRuns: 60 },
    );
  });

  it('time to 95 % of nodes is the nearest-rank order statistic', () => {
    const rng = createRng(1);
    const xs = Float64Array.from({ length: 1001 }, () => rng.next() * 1000);
    const sorted = [...xs].sort((a, b) => a - b);
    const scratch = new Float64Array(xs.length);
    for (const k of [0, 1, 500, 950, 1000]) expect(kthSmallest(xs, k, scratch)).toBe(sorted[k]);
    expect(timeToShare(xs, 0.95, scratch)).toBe(sorted[Math.ceil(0.95 * 1001) - 1]);
    xs[3] = Number.POSITIVE_INFINITY;
    expect(timeToShare(xs, 1, scratch)).toBe(Number.POSITIVE_INFINITY);
  });

  it('link delay: great-circle distance at 2/3 c (Frankfurt-Ashburn about 6,500 km, 33 ms)', () => {
    const p = placeNodes(2, createRng(1));
    // Put the two nodes exactly on the hubs.
    const set = (i: number, lat: number, lon: number) => {
      const phi = (lat * Math.PI) / 180;
      const lam = (lon * Math.PI) / 180;
      p.x[i] = Math.cos(phi) * Math.cos(lam);
      p.y[i] = Math.cos(phi) * Math.sin(lam);
      p.z[i] = Math.sin(phi);
    };
    set(0, 50.11, 8.68);
    set(1, 39.04, -77.49);
    const km = greatCircleKm(p, 0, 1);
    expect(km).toBeGreaterThan(6400);
    expect(km).toBeLessThan(6600);
    expect(km / FIBRE_KM_PER_MS).toBeCloseTo(km / 199.86, 1);
  });
});
