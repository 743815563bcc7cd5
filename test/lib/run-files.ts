/**
 * The files of a `spo run` whose one peer is a `spo serve` on loopback, as several e2e tests start
 * it: a topology with that producer as the only local root, and an empty registry.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { JsonLinesProcess } from './json-lines.js';

/**
 * Writes DIR/topology.json (127.0.0.1:PORT the one local root: trustable, hot valency 1, not
 * advertised; no public roots; useLedgerAfterSlot -1, so no ledger peers) and DIR/registry.json (no
 * pools: pass --allow-empty); returns their paths.
 */
export function writeOneLocalRootFiles(dir: string, port: number): { topology: string; registry: string } {
  const topology = join(dir, 'topology.json');
  const registry = join(dir, 'registry.json');
  writeFileSync(
    topology,
    JSON.stringify({
      localRoots: [
        { accessPoints: [{ address: '127.0.0.1', port }], advertise: false, trustable: true, hotValency: 1 },
      ],
      publicRoots: [],
      useLedgerAfterSlot: -1,
    }),
  );
  writeFileSync(registry, JSON.stringify({ pools: [] }));
  return { topology, registry };
}

/** A running `spo serve` producer and the files of a `spo run` that has it as its one local root. */
export interface LocalRootProducer {
  producer: JsonLinesProcess;
  port: number;
  /** `127.0.0.1:PORT`, as the node names the peer. */
  root: string;
  topology: string;
  registry: string;
}

/** Starts `spo serve` on a free loopback port (network MAGIC) and writes `writeOneLocalRootFiles` for it. */
export async function startLocalRootProducer(dir: string, magic: number): Promise<LocalRootProducer> {
  const producer = new JsonLinesProcess('producer', ['serve', '--port', '0', '--magic', String(magic), '--json']);
  const port = Number((await producer.until('listening', (l) => l.event === 'listening')).port);
  return { producer, port, root: `127.0.0.1:${port}`, ...writeOneLocalRootFiles(dir, port) };
}

/**
 * For a describe block whose tests run `spo run` against one `spo serve` local root: a temporary
 * folder (`dir`), and the producer with its files (`startLocalRootProducer`) filled in before the
 * block's tests. After them the producer is resumed (a test may have stopped it with SIGSTOP) and
 * stopped, and the folder removed. Call it before the block's own hooks: its beforeAll runs first
 * and, as vitest runs after-hooks last-registered first, its afterAll last (the nodes of the block
 * stop before their producer).
 */
export function localRootProducerForSuite(prefix: string, magic: number): { dir: string } & LocalRootProducer {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const suite = { dir } as { dir: string } & LocalRootProducer;
  beforeAll(async () => {
    Object.assign(suite, await startLocalRootProducer(dir, magic));
  });
  afterAll(async () => {
    suite.producer?.kill('SIGCONT');
    await suite.producer?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return suite;
}
