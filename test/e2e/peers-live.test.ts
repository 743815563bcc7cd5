/**
 * `spo peers` and `spo top --control` against a live `spo run` (bin/run.js, a real process) on
 * loopback: one `spo serve` producer as its only local root, the control socket at its default place
 * next to the topology file. Synchronised on the JSON lines spo run prints, never on sleeps; SIGTERM
 * ends it and the socket file goes with it.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NodeSnapshot } from '../../src/node/snapshot.js';
import { parseJsonOutput, runCli } from '../lib/cli.js';
import { type JsonLine, JsonLinesProcess } from '../lib/json-lines.js';
import { spoRunArgs } from '../lib/run-args.js';
import { writeOneLocalRootFiles } from '../lib/run-files.js';

const MAGIC = 42;

/** A running bin/run.js printing JSON lines. */
const proc = (name: string, args: string[]): JsonLinesProcess =>
  new JsonLinesProcess(name, args, { timeoutMs: 60_000 });

describe('spo peers against a live spo run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spo-peers-live-'));
  const procs: JsonLinesProcess[] = [];
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the running node through its control socket (next to its topology), which goes when the node stops', async () => {
    const producer = proc('producer', ['serve', '--port', '0', '--magic', String(MAGIC), '--json']);
    procs.push(producer);
    const port = Number((await producer.until('listening', (l) => l.event === 'listening')).port);
    const root = `127.0.0.1:${port}`;
    const { topology } = writeOneLocalRootFiles(dir, port);
    const run = proc(
      'spo run',
      spoRunArgs({
        topology,
        magic: MAGIC,
        source: join(dir, 'registry.json'),
        allowEmpty: true,
        snapshotInterval: '200ms',
        seed: 1,
        metricsPort: 0,
      }),
    );
    procs.push(run);
    const metricsUrl = String((await run.until('started', (l) => l.event === 'started')).metrics);
    const hot = (await run.until('the local root hot', (l) => {
      if (l.event !== 'snapshot') return false;
      return (l as unknown as NodeSnapshot).peers.some((p) => p.peer === root && p.temperature === 'hot');
    })) as unknown as NodeSnapshot;
    const socket = `${topology}.spo.sock`;
    expect(statSync(socket).mode & 0o777).toBe(0o600);

    // --json: the node's own snapshot, made at the request (seq counts the node's snapshots)
    const j = await runCli(['peers', '--topology', topology, '--json']);
    expect(j.code, j.stderr).toBe(0);
    const answered = parseJsonOutput<NodeSnapshot>(j);
    expect(answered.pid).toBe(run.pid);
    expect(answered.listening).toEqual(hot.listening);
    const row = answered.peers.find((p) => p.peer === root);
    expect(row).toMatchObject({ source: 'local-root', temperature: 'hot' });
    expect(['out', 'duplex']).toContain(row?.direction); // we dialled it; duplex when both ends run both sides
    expect(answered.counters.peerSelection?.localRoots?.active).toBe(1);

    // the table
    const table = await runCli(['peers', '--control', socket]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`^${root.replace(/\./g, '\\.')} +(out|duplex) +local-root #0 +hot `, 'm'));
    expect(table.stdout).toContain(`pid ${run.pid}`);

    // spo top --control reads the same
    const top = await runCli(['top', '--control', socket, '--count', '1', '--json']);
    expect(top.code, top.stderr).toBe(0);
    const [snap, stopped] = top.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as JsonLine);
    expect(snap).toMatchObject({ event: 'snapshot', pid: run.pid });
    expect(stopped).toEqual({ event: 'stopped', refreshes: 1, failed: 0 });

    // spo top --metrics reads the node's Prometheus page as it reads a cardano-node's (new names)
    const page = await runCli(['top', '--metrics', metricsUrl, '--count', '1', '--json']);
    expect(page.code, page.stderr).toBe(0);
    const scraped = JSON.parse(page.stdout.trim().split('\n')[0] as string) as {
      event: string;
      generation: string;
      peerSelection: { active: number | null; localRoots: { active: number | null } };
    };
    expect(scraped.event).toBe('snapshot');
    expect(scraped.generation).toBe('new');
    expect(scraped.peerSelection.active).toBe(1);
    expect(scraped.peerSelection.localRoots.active).toBe(1);

    // a second spo run asking for the same socket is refused (exit 1) before it listens or dials: the socket is live
    const second = await runCli(
      spoRunArgs({ topology, control: socket, magic: MAGIC, source: join(dir, 'registry.json'), allowEmpty: true }),
      { timeoutMs: 30_000 },
    );
    expect(second.code).toBe(1);
    expect(parseJsonOutput(second)).toEqual({ error: expect.objectContaining({ code: 'CONTROL_IN_USE' }) });
    expect((await runCli(['peers', '--control', socket, '--json'])).code).toBe(0); // the first one still answers

    run.kill('SIGTERM');
    const r = await run.done;
    expect(r.code, r.stderr).toBe(0);
    expect(() => statSync(socket)).toThrow(/ENOENT/);
    const after = await runCli(['peers', '--topology', topology]);
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/no spo run is listening there/);
  });
});
