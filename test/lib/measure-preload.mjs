// Loaded into a CLI child with `node --import` by runCli({ measure: true }) (test/lib/cli.ts).
// Reports the child's own peak RSS (KiB) into SPO_TEST_RSS_FILE when it exits, and with
// SPO_TEST_GC_EVERY_MS (and --expose-gc) runs a full garbage collection that often, so that a bug
// which needs a collection to show (a collected timeout signal) shows in every run, not by luck.
import { writeFileSync } from 'node:fs';

const every = Number(process.env.SPO_TEST_GC_EVERY_MS ?? 0);
if (every > 0 && typeof globalThis.gc === 'function') setInterval(() => globalThis.gc(), every).unref();
const file = process.env.SPO_TEST_RSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
