/**
 * Acceptance-review findings (docs/json.md promises checked against the real bin/run.js): the usage
 * error of --json with --csv says what is wrong, --out into a missing folder fails before any probing,
 * and registered addresses that are not probed (UNUSABLE_ADDRESS) say so and name --include-unusable.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Chalk } from 'chalk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpoError } from '../../src/lib/errors.js';
import { startServer } from '../../src/net/serve.js';
import { compareWorstFirst, createStageFunction, ProbeCollector, toAddressResult } from '../../src/probe/index.js';
import { targetsFromPools } from '../../src/probe/targets.js';
import type { Pool } from '../../src/registry/model.js';
import { palette } from '../../src/ui/color.js';
import { renderProbeCsv, renderProbeTable } from '../../src/ui/probe-report.js';
import { parseJsonOutput, runCli } from '../lib/cli.js';
import { closedPort } from '../lib/ports.js';

const plain = palette(new Chalk({ level: 0 }));
let dir: string;
let silent: Server;
const sockets = new Set<Socket>();
let silentPort: number;
/** Connections the silent server accepted: a probe of it dials it first. */
let silentAccepted = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'spo-probe-review-'));
  // Accepts and never answers: a probe of it lasts a whole --timeout.
  silent = createServer((s) => {
    silentAccepted++;
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
  silentPort = (silent.address() as { port: number }).port;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe('registered addresses that are not probed', () => {
  it('say why, and that --include-unusable probes them (message, table note, summary, CSV)', () => {
    const pool: Pool = {
      id: '#1',
      status: 'registered',
      relays: [{ kind: 'ipv4', host: '127.0.0.1', port: 3001, flags: ['loopback'] }],
    };
    const [target] = [...targetsFromPools([pool])];
    expect(target?.skip).toMatch(/loopback/);
    expect(target?.skip).toMatch(/--include-unusable/);
    const col = new ProbeCollector();
    col.add({
      pool: '#1',
      relay: '127.0.0.1',
      relayKind: 'ipv4',
      address: '127.0.0.1',
      port: 3001,
      status: 'UNUSABLE_ADDRESS',
      stage: 'resolve',
      attempts: 0,
      message: `127.0.0.1: ${target?.skip}`,
    });
    const report = col.finish(1);
    const table = renderProbeTable(report, plain, false);
    const row = table.split('\n')[1] ?? '';
    expect(row).toMatch(/^UNUSABLE_ADDRESS/);
    expect(row).toMatch(/not probed \(loopback\)/);
    expect(table).toMatch(/1 registered address not probed.*--include-unusable/);
    expect(renderProbeCsv(report)).toMatch(/--include-unusable/);
  });
});

describe('an SRV relay whose targets listen on different ports (--whole-group)', () => {
  it('is one relay of its pool, reachable when one target answers', () => {
    const col = new ProbeCollector();
    col.expectPool('P');
    const srv = { pool: 'P', relay: '_cardano._tcp.multi.test', relayKind: 'srv' as const, family: 4 as const };
    col.add({ ...srv, address: '127.0.0.1', port: 4001, srvTarget: 'a.test', status: 'ok', attempts: 1 });
    col.add({
      ...srv,
      address: '127.0.0.2',
      port: 4002,
      srvTarget: 'b.test',
      status: 'CONNECT_REFUSED',
      stage: 'connect',
      attempts: 1,
    });
    const report = col.finish(1);
    expect(report.summary.relays).toBe(1);
    expect(report.summary.reachableRelays).toBe(1);
    expect(report.pools[0]?.summary).toBe('1 of 1 relay reachable');
    expect(report.pools[0]?.status).toBe('reachable');
    expect(report.pools[0]?.relays[0]).toMatchObject({ port: null, addresses: 2, reachableAddresses: 1 });
  });
});

describe('the tip of an address', () => {
  it('carries only slot, blockNo and hash, as docs/json.md says (src/net adds its own rttMs)', () => {
    const tipFromNet = { slot: 7, blockNo: 3, hash: 'ab'.repeat(32), rttMs: 3.565273999999988 };
    const r = toAddressResult(
      { pool: 'P', relay: { kind: 'ipv4', host: '192.0.2.1', port: 3001 } },
      { address: '192.0.2.1', port: 3001, family: 4 },
      { status: 'ok', tip: tipFromNet, tipMs: 3.6 },
      1,
    );
    expect(r.tip).toEqual({ slot: 7, blockNo: 3, hash: 'ab'.repeat(32) });
    expect(r.tipMs).toBe(3.6);
  });
});

describe('a peer that breaks the protocol during the handshake', () => {
  it('is a PROTOCOL_ERROR of the handshake stage (TCP had connected), sorted with the handshake failures', async () => {
    const stage = createStageFunction({
      connect: async () => {
        throw new SpoError('PROTOCOL_ERROR', '127.0.0.1:3001: the peer accepted version 99, which we did not propose');
      },
      magic: 764824073,
      stageTimeoutMs: 1000,
      samples: 1,
      tip: false,
    });
    const out = await stage(
      { address: '127.0.0.1', port: 3001, family: 4 },
      { signal: new AbortController().signal, stage: () => {} },
    );
    expect(out).toMatchObject({ status: 'PROTOCOL_ERROR', stage: 'handshake' });
    const base = { pool: 'P', relayKind: 'ipv4' as const, port: 3001, family: 4 as const, attempts: 1 };
    const rows = [
      { ...base, relay: 'a', address: 'a', status: 'KEEPALIVE_TIMEOUT' as const, stage: 'keepalive' as const },
      { ...base, relay: 'b', address: 'b', status: 'PROTOCOL_ERROR' as const, stage: 'handshake' as const },
      { ...base, relay: 'c', address: 'c', status: 'HANDSHAKE_TIMEOUT' as const, stage: 'handshake' as const },
    ];
    expect(rows.sort(compareWorstFirst).map((r) => r.stage)).toEqual(['handshake', 'handshake', 'keepalive']);
  });
});

describe('--tip when the tips disagree (no majority)', () => {
  it('says there is no reference tip instead of leaving every LAG empty without a word', () => {
    const col = new ProbeCollector();
    const base = { pool: '(args)', relayKind: 'ipv4' as const, port: 3001, family: 4 as const, attempts: 1 };
    col.add({ ...base, relay: 'a', address: '192.0.2.1', status: 'ok', tip: { slot: 1080, blockNo: 5, hash: 'aa' } });
    col.add({
      ...base,
      relay: 'b',
      address: '192.0.2.2',
      status: 'ok',
      tip: { slot: 60980, blockNo: 3000, hash: 'bb' },
    });
    const report = col.finish(1);
    expect(report.reference).toBeUndefined();
    expect(renderProbeTable(report, plain, true)).toMatch(/reference tip: none .*2 tips.*no majority/);
  });
});

describe('hostile registry text in the table', () => {
  it('shows control characters escaped: no terminal escapes, no forged rows', () => {
    const evil = 'evil\u001b[2J\u001b[31mname\r\nok      #2    fake';
    const col = new ProbeCollector();
    col.add({
      pool: 'P\u001b]0;title\u0007',
      ticker: 'T\u009b1m',
      relay: evil,
      relayKind: 'dns',
      address: evil,
      port: 3001,
      status: 'UNUSABLE_ADDRESS',
      stage: 'resolve',
      attempts: 0,
    });
    col.add({ pool: 'Q', relay: 'a', relayKind: 'dns', address: 'a', port: 3001, status: 'DNS_NXDOMAIN', attempts: 1 });
    const table = renderProbeTable(col.finish(1), plain, false);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters
    expect(table).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(table).toContain('evil\\u001b[2J');
    const rows = table.split('\n').filter((l) => /^(UNUSABLE_ADDRESS|DNS_NXDOMAIN|ok)\b/.test(l));
    expect(rows).toHaveLength(2);
  });
});

describe('the summary line', () => {
  it('is grammatical for one address, relay and pool', () => {
    const col = new ProbeCollector();
    col.add({ pool: 'P', relay: 'a', relayKind: 'dns', address: 'a', port: 3001, status: 'DNS_NXDOMAIN', attempts: 1 });
    expect(renderProbeTable(col.finish(1), plain, false)).toMatch(/probed 1 address of 1 relay in 1 pool in /);
  });
});

describe('spo probe usage errors (bin/run.js)', () => {
  it('--json with --csv: exit 2 and a message naming both flags', async () => {
    for (const args of [
      ['probe', '127.0.0.1:1', '--json', '--csv'],
      ['probe', '127.0.0.1:1', '--csv', '--json'],
    ]) {
      const res = await runCli(args);
      expect(res.code).toBe(2);
      const doc = parseJsonOutput<{ error: { code: string; message: string } }>(res);
      expect(doc.error.code).toBe('USAGE');
      expect(doc.error.message).toMatch(/--csv/);
      expect(doc.error.message).toMatch(/--json/);
    }
  });

  it('out-of-range numbers (--top 0, --concurrency 0, --samples 101): USAGE, one line naming the flag, exit 2', async () => {
    for (const [flag, value] of [
      ['--top', '0'],
      ['--concurrency', '0'],
      ['--samples', '101'],
      ['--samples', '-1'],
    ] as const) {
      const res = await runCli(['probe', '127.0.0.1:1', flag, value, '--json']);
      expect(res.code, `${flag} ${value}`).toBe(2);
      const doc = parseJsonOutput<{ error: { code: string; message: string; hint?: string } }>(res);
      expect(doc.error.code, `${flag} ${value}`).toBe('USAGE');
      expect(doc.error.message).toContain(flag);
      expect(doc.error.message).not.toContain('\n');
    }
  });

  it('--out into a missing folder fails at once (exit 2, WRITE_FAILED), before any probing', async () => {
    const out = join(dir, 'missing', 'folder', 'probe.json');
    // "Before any probing" is shown by the silent relay never being dialled (a probe of it would
    // connect and wait out the timeout), not by a wall-clock bound a loaded machine can exceed.
    const acceptedBefore = silentAccepted;
    const res = await runCli([
      'probe',
      `127.0.0.1:${silentPort}`,
      '--timeout',
      '5s',
      '--retry',
      'never',
      '--json',
      '--out',
      out,
    ]);
    expect(res.code).toBe(2);
    const doc = parseJsonOutput<{ error: { code: string; message: string } }>(res);
    expect(doc.error.code).toBe('WRITE_FAILED');
    expect(doc.error.message).toContain(join(dir, 'missing', 'folder'));
    expect(existsSync(join(dir, 'missing'))).toBe(false);
    // --out naming a folder: the same, up front
    const folder = await runCli(['probe', `127.0.0.1:${silentPort}`, '--timeout', '5s', '--out', dir]);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toMatch(/is a folder/);
    expect(silentAccepted).toBe(acceptedBefore);
  });

  it('--pool with one unknown id among known ones is an error naming it (not silently dropped, exit 0)', async () => {
    const registry = join(dir, 'two-pools.json');
    writeFileSync(
      registry,
      JSON.stringify({
        version: 2,
        slotNo: 1,
        bigLedgerPools: [
          { accumulatedStake: 0.5, relativeStake: 0.5, relays: [{ address: '127.0.0.1', port: 1 }] },
          { accumulatedStake: 1, relativeStake: 0.5, relays: [{ address: '127.0.0.1', port: 2 }] },
        ],
      }),
    );
    const res = await runCli(['probe', '--source', registry, '--pool', '#1', '--pool', '#9', '--json']);
    expect(res.code).toBe(1);
    const doc = parseJsonOutput<{ error: { code: string; message: string } }>(res);
    expect(doc.error.code).toBe('POOL_NOT_FOUND');
    expect(doc.error.message).toContain('#9');
    expect(doc.error.message).not.toContain('#1');
    const ticker = await runCli(['probe', '--source', registry, '--pool', '#2', '--ticker', 'NOPE']);
    expect(ticker.code).toBe(1);
    expect(ticker.stderr).toMatch(/NOPE/);
  });

  it('--reference koios unreachable after the probe: results kept, peers reference, a warning (not exit 1 and nothing)', async () => {
    const relay = await startServer({ host: '127.0.0.1', port: 0, magic: 764824073 });
    try {
      const args = ['probe', `127.0.0.1:${relay.port}`, '--tip', '--samples', '0', '--reference', 'koios'];
      const koios = ['--koios-url', 'http://127.0.0.1:1'];
      const text = await runCli([...args, ...koios]);
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toMatch(/^ok /m);
      expect(text.stderr).toMatch(/warning: .*127\.0\.0\.1:1\/tip.*peers/);
      const json = await runCli([...args, ...koios, '--json']);
      expect(json.code).toBe(0);
      const doc = parseJsonOutput<{ reference?: { source: string }; addresses: Array<{ status: string }> }>(json);
      expect(doc.addresses.map((a) => a.status)).toEqual(['ok']);
      expect(doc.reference?.source).toBe('peers');
    } finally {
      await relay.close();
    }
  });

  it('a registry relay on loopback is reported UNUSABLE_ADDRESS with the hint, and probed with --include-unusable', async () => {
    const registry = join(dir, 'snapshot.json');
    const port = await closedPort('127.0.0.1'); // not 1: on a shared machine something may listen there
    writeFileSync(
      registry,
      JSON.stringify({
        version: 2,
        slotNo: 1,
        bigLedgerPools: [{ accumulatedStake: 1, relativeStake: 1, relays: [{ address: '127.0.0.1', port }] }],
      }),
    );
    const skipped = await runCli(['probe', '--source', registry]);
    expect(skipped.code).toBe(0);
    expect(skipped.stdout).toMatch(/^UNUSABLE_ADDRESS .*not probed \(loopback\)/m);
    expect(skipped.stdout).toMatch(/--include-unusable/);
    const probed = await runCli(['probe', '--source', registry, '--include-unusable', '--json']);
    const doc = parseJsonOutput<{ addresses: Array<{ status: string }> }>(probed);
    expect(doc.addresses.map((a) => a.status)).toEqual(['CONNECT_REFUSED']);
  });
});
