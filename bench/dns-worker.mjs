/**
 * One side of the DNS benchmark (bench/dns.bench.ts), run in its own process so that its memory is
 * measured alone and its JIT state is its own:
 *   node bench/dns-worker.mjs spo|cares|raw PORT COUNT CONCURRENCY WARMUP
 * resolves WARMUP names w0.bench.test... (not measured), then COUNT names n0.bench.test... (A records,
 * each asked once, so no cache can answer), COUNT/CONCURRENCY per worker, and prints one JSON line.
 * spo runs from dist/ (the code the CLI runs), so `npm run build` must come first.
 */

import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { DnsResolver } from '../dist/dns/index.js';
import { encodeQuery } from '../dist/dns/packet.js';

const [which, portText, countText, concText, warmText] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const concurrency = Number(concText);
const warm = Number(warmText ?? 0);
const names = Array.from({ length: count }, (_, i) => `n${i}.bench.test`);
const warmup = Array.from({ length: warm }, (_, i) => `w${i}.bench.test`);

/** `concurrency` workers taking names in turn: at most that many lookups in flight, as the resolver's limit. */
async function pool(list, task) {
  let next = 0;
  let ok = 0;
  let failed = 0;
  const worker = async () => {
    while (next < list.length) {
      const name = list[next++];
      try {
        const n = await task(name);
        if (n > 0) ok++;
        else failed++;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { ok, failed };
}

let task;
let cleanup = () => {};
if (which === 'spo') {
  const r = new DnsResolver({ servers: [{ host: '127.0.0.1', port }], concurrency, timeoutMs: 3000 });
  task = async (name) => (await r.resolveAddresses(name, { family: 'ipv4' })).addresses.length;
} else if (which === 'raw') {
  // The floor of any resolver on node:dgram: send the query, wait for a datagram with its id; no
  // decoding, checks, cache or limiter.
  const socket = createSocket('udp4');
  await new Promise((resolve) => socket.connect(port, '127.0.0.1', resolve));
  cleanup = () => socket.close();
  const waiting = new Map();
  let nextId = 0;
  socket.on('message', (msg) => {
    const id = msg.readUInt16BE(0);
    const done = waiting.get(id);
    waiting.delete(id);
    done?.(1);
  });
  task = (name) =>
    new Promise((resolve) => {
      const id = nextId++ & 0xffff;
      waiting.set(id, resolve);
      socket.send(encodeQuery(id, name, 'A'));
    });
} else {
  const r = new Resolver({ timeout: 3000, tries: 2 });
  r.setServers([`127.0.0.1:${port}`]);
  task = async (name) => (await r.resolve4(name, { ttl: true })).length;
}
if (warm > 0) await pool(warmup, task);
/**
 * CPU time (ns) of this process's main thread and of all its threads, from Linux's schedstat:
 * the other threads are V8's (compilation, GC), which compete with the DNS server for the CPUs.
 * undefined where /proc has no schedstat.
 */
function threadCpu() {
  try {
    const main = Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
    let all = 0;
    for (const t of readdirSync('/proc/self/task'))
      all += Number(readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    return { main, all };
  } catch {
    return undefined;
  }
}
const threadsBefore = threadCpu();
const heapBefore = process.memoryUsage().heapUsed;
let heapPeak = heapBefore;
const sampler = setInterval(() => {
  heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
}, 10);
const started = performance.now();
const cpuBefore = process.cpuUsage();
const result = await pool(names, task);
const ms = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
const threadsAfter = threadCpu();
clearInterval(sampler);
heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
process.stdout.write(
  `${JSON.stringify({
    which,
    cpuUsPerQuery: (cpu.user + cpu.system) / count,
    ms,
    ok: result.ok,
    failed: result.failed,
    qps: (count / ms) * 1000,
    heapGrowth: heapPeak - heapBefore,
    maxRss: process.resourceUsage().maxRSS * 1024,
    mainThreadMs: threadsBefore && threadsAfter ? (threadsAfter.main - threadsBefore.main) / 1e6 : null,
    otherThreadsMs:
      threadsBefore && threadsAfter
        ? (threadsAfter.all - threadsBefore.all - (threadsAfter.main - threadsBefore.main)) / 1e6
        : null,
  })}\n`,
);
cleanup();
