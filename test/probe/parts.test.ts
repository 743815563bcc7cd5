import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { SpoError } from '../../src/lib/errors.js';
import { classifyError } from '../../src/probe/index.js';
import { koiosTip } from '../../src/probe/koios-tip.js';
import { effectiveConcurrency } from '../../src/probe/limits.js';

describe('classifyError', () => {
  it('keeps the stage codes of src/dns and src/net and maps socket errors', () => {
    expect(classifyError(new SpoError('HANDSHAKE_REFUSED_MAGIC', 'x'), 'ERROR')).toMatchObject({
      status: 'HANDSHAKE_REFUSED_MAGIC',
      stage: 'handshake',
    });
    expect(classifyError(new SpoError('DNS_NXDOMAIN', 'x'), 'ERROR')).toMatchObject({
      status: 'DNS_NXDOMAIN',
      stage: 'resolve',
    });
    expect(classifyError(new SpoError('DNS_SOMETHING_NEW', 'x'), 'ERROR').status).toBe('DNS_ERROR');
    expect(classifyError(new SpoError('MUX_BAD_SEGMENT', 'x'), 'ERROR').status).toBe('PROTOCOL_ERROR');
    expect(classifyError(new SpoError('CONNECT_FAILED', 'x', { details: { errno: 'EMFILE' } }), 'ERROR')).toMatchObject(
      { status: 'LOCAL_RESOURCES', stage: 'connect' },
    );
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(classifyError(refused, 'ERROR').status).toBe('CONNECT_REFUSED');
    expect(classifyError(new Error('odd'), 'KEEPALIVE_ERROR')).toMatchObject({
      status: 'KEEPALIVE_ERROR',
      stage: 'keepalive',
    });
  });
});

describe('effectiveConcurrency', () => {
  it('caps the concurrency by the open-file limit', () => {
    expect(effectiveConcurrency(undefined, 1024)).toEqual({ value: 1024 - 128, capped: true });
    expect(effectiveConcurrency(100, 1024)).toEqual({ value: 100, capped: false });
    expect(effectiveConcurrency(undefined, 1_048_576)).toEqual({ value: 2000, capped: false });
    expect(effectiveConcurrency(50, undefined)).toEqual({ value: 50, capped: false });
  });
});

describe('koiosTip', () => {
  it('reads /tip from a Koios-shaped server on loopback, and fails with a hint otherwise', async () => {
    let path = '';
    const server = createServer((req, res) => {
      path = req.url ?? '';
      if (req.url === '/api/v1/tip') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify([{ hash: 'ab'.repeat(32), epoch_no: 500, abs_slot: 123456, block_no: 9999 }]));
      } else {
        res.statusCode = 404;
        res.end('[]');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as AddressInfo;
    try {
      const tip = await koiosTip(`http://127.0.0.1:${port}/api/v1/`, { timeoutMs: 2000 });
      expect(path).toBe('/api/v1/tip');
      expect(tip).toEqual({ slot: 123456, blockNo: 9999, hash: 'ab'.repeat(32), source: 'koios', from: 1 });
      await expect(koiosTip(`http://127.0.0.1:${port}/nope`, { timeoutMs: 2000 })).rejects.toMatchObject({
        code: 'KOIOS_TIP',
      });
    } finally {
      server.close();
    }
  });
});

describe('koiosTip against a hostile server (issue 16)', () => {
  it('an endless /tip body is cut at 1 MiB with the URL named, not read to the end of the timeout', async () => {
    // The server stops by itself at 64 MiB (bounded); a client that reads without a cap takes it all.
    const CAP = 64 * 1024 * 1024;
    let sent = 0;
    let done!: () => void;
    const finished = new Promise<void>((r) => {
      done = r;
    });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.write('[');
      const pump = (): void => {
        while (sent < CAP) {
          sent += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end(']');
      };
      res.on('close', () => done());
      pump();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as AddressInfo;
    try {
      const url = `http://127.0.0.1:${port}/api/v1`;
      const err = await koiosTip(url, { timeoutMs: 60_000 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'KOIOS_TIP', details: { cause: 'HTTP_TOO_LARGE' } });
      expect((err as Error).message).toContain(`${url}/tip`);
      expect((err as Error).message).toMatch(/larger than 1 MiB/);
      await finished;
      expect(sent).toBeLessThan(16 * 1024 * 1024);
    } finally {
      server.close();
    }
  });
});

describe('renderProbeTable colours', () => {
  it('colours by meaning (red failure, green ok) without changing the text', async () => {
    const { Chalk } = await import('chalk');
    const { palette } = await import('../../src/ui/color.js');
    const { ProbeCollector } = await import('../../src/probe/index.js');
    const { renderProbeTable } = await import('../../src/ui/probe-report.js');
    const col = new ProbeCollector();
    col.add({
      pool: 'A',
      relay: '1.2.3.4',
      relayKind: 'ipv4',
      address: '1.2.3.4',
      port: 3001,
      family: 4,
      status: 'ok',
      attempts: 1,
      handshakeMs: 5,
    });
    col.add({
      pool: 'A',
      relay: '1.2.3.5',
      relayKind: 'ipv4',
      address: '1.2.3.5',
      port: 3001,
      family: 4,
      status: 'CONNECT_REFUSED',
      stage: 'connect',
      attempts: 1,
    });
    const report = col.finish(10);
    const coloured = renderProbeTable(report, palette(new Chalk({ level: 1 })), false);
    const plain = renderProbeTable(report, palette(new Chalk({ level: 0 })), false);
    expect(coloured).toContain('\u001b[31mCONNECT_REFUSED');
    expect(coloured).toContain('\u001b[32mok');
    expect(plain).not.toContain('\u001b[');
    const { stripVTControlCharacters } = await import('node:util');
    expect(stripVTControlCharacters(coloured)).toBe(plain);
    expect(plain.split('\n')[1]).toMatch(/^CONNECT_REFUSED/); // worst first
  });
});

describe('ProbeCollector.finish', () => {
  it('shows a pool without results as unreachable, except in an interrupted run (probedOnly)', async () => {
    const { ProbeCollector } = await import('../../src/probe/index.js');
    const col = new ProbeCollector();
    col.expectPool('A', 'AAA');
    col.expectPool('B', 'BBB'); // its relays were not reached before Ctrl-C
    col.add({
      pool: 'A',
      relay: '1.2.3.4',
      relayKind: 'ipv4',
      address: '1.2.3.4',
      port: 3001,
      family: 4,
      status: 'ok',
      attempts: 1,
      handshakeMs: 5,
    });
    const full = col.finish(10);
    expect(full.pools.map((p) => [p.id, p.status])).toEqual([
      ['B', 'unreachable'],
      ['A', 'reachable'],
    ]);
    const partial = col.finish(10, undefined, { probedOnly: true });
    expect(partial.pools.map((p) => p.id)).toEqual(['A']);
    expect(partial.summary).toMatchObject({ pools: 1, reachablePools: 1, unreachablePools: 0, addresses: 1 });
  });
});
