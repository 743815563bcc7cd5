/**
 * `spo run` against what a public relay meets (issue 13: "a crash of one connection never ends the
 * process"; "close every connection, RST-free where the protocol allows"), with real processes on
 * loopback: garbage, an oversized mux segment, a reset before any byte and a handshake with the
 * wrong network each end only their own connection, the node keeps its hot local root and accepts a
 * good connection after them; on SIGTERM a negotiated inbound connection is closed cleanly (FIN,
 * not a reset) and the node exits 0.
 */
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPeer } from '../../src/net/client.js';
import type { NodeEvent, NodeSnapshot } from '../../src/node/snapshot.js';
import type { CliResult } from '../lib/cli.js';
import { JsonLinesProcess } from '../lib/json-lines.js';
import { spoRunArgs } from '../lib/run-args.js';
import { localRootProducerForSuite } from '../lib/run-files.js';

const MAGIC = 42;

type Line = (NodeEvent | NodeSnapshot | Record<string, unknown>) & { event: string };
const isSnapshot = (l: Line): l is NodeSnapshot => l.event === 'snapshot';

/** Connects, writes `bytes` (or resets at once), resolves when the node has closed the connection. */
function hostile(port: number, bytes: Buffer | 'reset'): Promise<void> {
  return new Promise((resolve, reject) => {
    const s: Socket = connect({ host: '127.0.0.1', port }, () => {
      if (bytes === 'reset') s.resetAndDestroy();
      else s.write(bytes);
    });
    s.on('error', () => undefined); // the node may reset a connection that broke the protocol
    s.once('close', () => resolve());
    s.resume();
    s.setTimeout(20_000, () => reject(new Error('the node kept a hostile connection open for 20 s')));
  });
}

describe('spo run: hostile inbound connections, and a clean close', () => {
  const lr = localRootProducerForSuite('spo-run-hostile-', MAGIC);
  const { dir } = lr;
  let node: JsonLinesProcess<Line>;
  let port = 0;

  beforeAll(async () => {
    node = new JsonLinesProcess<Line>(
      'node',
      spoRunArgs({
        topology: lr.topology,
        control: join(dir, 'node.sock'),
        host: '127.0.0.1',
        magic: MAGIC,
        source: lr.registry,
        allowEmpty: true,
        snapshotInterval: '200ms',
        seed: 1,
      }),
    );
    const hot = await node.until(
      'the producer hot',
      (l): l is NodeSnapshot => isSnapshot(l) && l.peers.some((x) => x.peer === lr.root && x.temperature === 'hot'),
    );
    port = Number((hot.listening[0] as string).replace(/^.*:/, ''));
  });

  afterAll(async () => {
    await node?.stop();
  });

  it('garbage, an oversized segment, a reset and a wrong network end only their own connection', async () => {
    // not a mux segment at all
    await hostile(port, Buffer.from('GET / HTTP/1.1\r\nHost: relay\r\n\r\n'.repeat(4)));
    // a handshake segment (protocol 0) announcing 65,535 bytes, followed by far fewer
    const seg = Buffer.alloc(8 + 16, 0xff);
    seg.writeUInt32BE(0, 0);
    seg.writeUInt16BE(0, 4);
    seg.writeUInt16BE(0xffff, 6);
    await hostile(port, seg);
    // a segment for a mini-protocol nobody runs before the handshake
    const odd = Buffer.alloc(8 + 4, 0);
    odd.writeUInt16BE(0x7fff, 4);
    odd.writeUInt16BE(4, 6);
    await hostile(port, odd);
    // a reset before any byte
    await hostile(port, 'reset');
    // a proper handshake for another network
    await expect(
      connectPeer({ host: '127.0.0.1', port, magic: MAGIC + 1, connectTimeoutMs: 5_000, handshakeTimeoutMs: 5_000 }),
    ).rejects.toThrow();

    const after = node.lines.length;
    expect(node.running).toBe(true);
    // still running its governor: a fresh snapshot with the local root hot
    await node.until(
      'a snapshot after the attacks with the producer hot',
      (l): l is NodeSnapshot => isSnapshot(l) && l.peers.some((x) => x.peer === lr.root && x.temperature === 'hot'),
      { from: after },
    );
    // and still accepting: a good handshake succeeds
    const good = await connectPeer({
      host: '127.0.0.1',
      port,
      magic: MAGIC,
      connectTimeoutMs: 5_000,
      handshakeTimeoutMs: 5_000,
    });
    expect(good.version).toBeGreaterThan(0);
    await good.close();
  });

  it('SIGTERM closes a negotiated inbound connection with a FIN, not a reset, and exits 0', async () => {
    const conn = await connectPeer({
      host: '127.0.0.1',
      port,
      magic: MAGIC,
      connectTimeoutMs: 5_000,
      handshakeTimeoutMs: 5_000,
    });
    node.kill('SIGTERM');
    const [how, r] = await Promise.all([conn.closed, node.done as Promise<CliResult>]);
    // our mux saw the node's FIN ('end': "the peer closed the connection"); a reset would be CONNECTION_RESET
    expect(how).toMatchObject({ code: 'CONNECTION_CLOSED', message: 'the peer closed the connection' });
    expect(r.code, r.stderr).toBe(0);
  });
});
