/**
 * The geographic model of `spo simulate` (docs/simulation.md): where nodes are, and how long a
 * header takes over a link between two of them.
 *
 * No offline data set of relay locations was available (/work/shared/fixtures has none, and the
 * registry holds addresses, not places), so nodes are placed by a **stated continental mix**: a
 * share of nodes per region, spread over that region's data-centre hubs by weight, each node at a
 * uniformly random point within `HUB_RADIUS_KM` of its hub. The mix is an assumption, not a
 * measurement (docs/simulation.md says so).
 *
 * Link delay = great-circle distance / speed of light in fibre (2/3 c) + a per-hop processing delay.
 */
import type { Rng } from '../governor/rng.js';

export interface Hub {
  name: string;
  lat: number;
  lon: number;
  weight: number;
}

export interface Region {
  name: string;
  /** Share of all nodes (the shares sum to 1). */
  share: number;
  hubs: readonly Hub[];
}

/**
 * The continental mix (an assumption, see the module comment): Europe and North America hold most
 * public Cardano relays, with smaller shares in Asia, Oceania, South America and Africa.
 */
export const REGIONS: readonly Region[] = [
  {
    name: 'Europe',
    share: 0.45,
    hubs: [
      { name: 'Frankfurt', lat: 50.11, lon: 8.68, weight: 3 },
      { name: 'Amsterdam', lat: 52.37, lon: 4.9, weight: 2 },
      { name: 'London', lat: 51.51, lon: -0.13, weight: 2 },
      { name: 'Paris', lat: 48.86, lon: 2.35, weight: 1 },
      { name: 'Helsinki', lat: 60.17, lon: 24.94, weight: 1 },
      { name: 'Warsaw', lat: 52.23, lon: 21.01, weight: 1 },
      { name: 'Madrid', lat: 40.42, lon: -3.7, weight: 1 },
    ],
  },
  {
    name: 'North America',
    share: 0.3,
    hubs: [
      { name: 'Ashburn', lat: 39.04, lon: -77.49, weight: 3 },
      { name: 'New York', lat: 40.71, lon: -74.01, weight: 1 },
      { name: 'Chicago', lat: 41.88, lon: -87.63, weight: 1 },
      { name: 'Dallas', lat: 32.78, lon: -96.8, weight: 1 },
      { name: 'San Jose', lat: 37.34, lon: -121.89, weight: 2 },
      { name: 'Seattle', lat: 47.61, lon: -122.33, weight: 1 },
      { name: 'Toronto', lat: 43.65, lon: -79.38, weight: 1 },
    ],
  },
  {
    name: 'Asia',
    share: 0.15,
    hubs: [
      { name: 'Singapore', lat: 1.35, lon: 103.82, weight: 3 },
      { name: 'Tokyo', lat: 35.68, lon: 139.69, weight: 2 },
      { name: 'Seoul', lat: 37.57, lon: 126.98, weight: 1 },
      { name: 'Hong Kong', lat: 22.32, lon: 114.17, weight: 1 },
      { name: 'Mumbai', lat: 19.08, lon: 72.88, weight: 1 },
    ],
  },
  {
    name: 'Oceania',
    share: 0.04,
    hubs: [
      { name: 'Sydney', lat: -33.87, lon: 151.21, weight: 2 },
      { name: 'Melbourne', lat: -37.81, lon: 144.96, weight: 1 },
    ],
  },
  {
    name: 'South America',
    share: 0.03,
    hubs: [
      { name: 'Sao Paulo', lat: -23.55, lon: -46.63, weight: 2 },
      { name: 'Buenos Aires', lat: -34.6, lon: -58.38, weight: 1 },
    ],
  },
  {
    name: 'Africa',
    share: 0.03,
    hubs: [
      { name: 'Johannesburg', lat: -26.2, lon: 28.05, weight: 2 },
      { name: 'Lagos', lat: 6.52, lon: 3.38, weight: 1 },
      { name: 'Cairo', lat: 30.04, lon: 31.24, weight: 1 },
    ],
  },
];

/** Nodes are spread uniformly over a disc of this radius around their hub. */
export const HUB_RADIUS_KM = 300;
export const EARTH_RADIUS_KM = 6371;
/** Light in fibre travels at about 2/3 c: 299,792 km/s × 2/3 ≈ 199.9 km per millisecond. */
export const FIBRE_KM_PER_MS = (299_792.458 * 2) / 3 / 1000;

/** Node positions: latitude/longitude in degrees and unit vectors (for distances). */
export interface Placement {
  readonly n: number;
  readonly lat: Float64Array;
  readonly lon: Float64Array;
  /** Index into REGIONS. */
  readonly region: Uint8Array;
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly z: Float64Array;
}

function pickWeighted<T>(items: readonly T[], weight: (t: T) => number, rng: Rng): T {
  const total = items.reduce((s, t) => s + weight(t), 0);
  let r = rng.next() * total;
  for (const t of items) {
    r -= weight(t);
    if (r < 0) return t;
  }
  return items[items.length - 1] as T;
}

/** Places `n` nodes by the continental mix. */
export function placeNodes(n: number, rng: Rng): Placement {
  const lat = new Float64Array(n);
  const lon = new Float64Array(n);
  const region = new Uint8Array(n);
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = pickWeighted(REGIONS, (g) => g.share, rng);
    const hub = pickWeighted(r.hubs, (h) => h.weight, rng);
    // Uniform over the disc's area: radius ∝ sqrt(u).
    const d = HUB_RADIUS_KM * Math.sqrt(rng.next());
    const theta = rng.uniform(0, 2 * Math.PI);
    const la = hub.lat + ((d * Math.cos(theta)) / EARTH_RADIUS_KM) * (180 / Math.PI);
    const lo =
      hub.lon + ((d * Math.sin(theta)) / (EARTH_RADIUS_KM * Math.cos((hub.lat * Math.PI) / 180))) * (180 / Math.PI);
    lat[i] = la;
    lon[i] = lo;
    region[i] = REGIONS.indexOf(r);
    const phi = (la * Math.PI) / 180;
    const lam = (lo * Math.PI) / 180;
    x[i] = Math.cos(phi) * Math.cos(lam);
    y[i] = Math.cos(phi) * Math.sin(lam);
    z[i] = Math.sin(phi);
  }
  return { n, lat, lon, region, x, y, z };
}

/** Great-circle distance between nodes `a` and `b`, in km. */
export function greatCircleKm(p: Placement, a: number, b: number): number {
  const dot =
    (p.x[a] as number) * (p.x[b] as number) +
    (p.y[a] as number) * (p.y[b] as number) +
    (p.z[a] as number) * (p.z[b] as number);
  return EARTH_RADIUS_KM * Math.acos(Math.min(1, Math.max(-1, dot)));
}

/** One-way delay of a header from `a` to `b`: propagation in fibre plus the processing delay. */
export function linkDelayMs(p: Placement, a: number, b: number, processingMs: number): number {
  return greatCircleKm(p, a, b) / FIBRE_KM_PER_MS + processingMs;
}
