/**
 * Child process of bench/probe.bench.ts: hosts the loopback endpoints so that their work does not
 * share the prober's event loop. argv: count, magic, seed. Prints one JSON line
 * `{ ok: [ports], silent: [ports], refused: [ports] }` once every listener is up, then runs until killed.
 * 5% never answer (accept and stay silent), 5% refuse (closed ports), the rest answer the
 * handshake after a random 20-200 ms.
 */
import { closedPort } from '../test/lib/ports.js';
import { startFakeRelay } from '../test/probe/responder.js';

const count = Number(process.argv[2] ?? 2000);
const magic = Number(process.argv[3] ?? 764824073);
let seed = Number(process.argv[4] ?? 42) >>> 0;
const rand = (): number => {
  // mulberry32: a seeded, reproducible choice of delays
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const ok: number[] = [];
const silent: number[] = [];
const refused: number[] = [];
const delays: number[] = [];
const fivePercent = Math.round(count * 0.05);
for (let i = 0; i < count; i++) {
  if (i % 20 === 7 && silent.length < fivePercent) {
    silent.push((await startFakeRelay('127.0.0.1', { kind: 'silent' })).port);
  } else if (i % 20 === 13 && refused.length < fivePercent) {
    refused.push(0); // picked once every listener is up, so no listener can take the port afterwards
  } else {
    const delayMs = 20 + Math.floor(rand() * 181);
    delays.push(delayMs);
    ok.push((await startFakeRelay('127.0.0.1', { kind: 'ok', magic, delayMs })).port);
  }
}
for (let i = 0; i < refused.length; i++) refused[i] = await closedPort('127.0.0.1');
process.stdout.write(`${JSON.stringify({ ok, silent, refused, delays })}\n`);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
