/**
 * `spo ping` and `spo probe` exit once their result is known (issue 16): a peer that answers and
 * then never closes its side must not hold the process (until --timeout, or the 2 s a close waits
 * for the peer). Each server records when it sent its last answer; the command must be gone as soon
 * after it as against a peer that closes at once, and far below the 20 s timeout. Bounded: each run
 * has a hard limit, the servers are closed at the end.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../lib/cli.js';

function segment(protocol: number, payloadHex: string): Buffer {
  const payload = Buffer.from(payloadHex, 'hex');
  const h = Buffer.alloc(8);
  h.writeUInt16BE(protocol | 0x8000, 4);
  h.writeUInt16BE(payload.length, 6);
  return Buffer.concat([h, payload]);
}

interface Peer {
  server: Server;
  port: number;
  sockets: Set<Socket>;
  /** performance.now() of the last answer written. */
  lastAnswer: number;
}

/**
 * A peer that answers the handshake and keep-alive. The hostile one (allowHalfOpen) does not end its
 * side on our FIN and keeps the connection, so a close that waits for the peer waits for ever; the
 * polite one closes at once, as a node does. Both take the same time to answer.
 */
async function peer(hostile: boolean): Promise<Peer> {
  const p: Peer = { server: createServer({ allowHalfOpen: hostile }), port: 0, sockets: new Set(), lastAnswer: 0 };
  p.server.on('connection', (s) => {
    p.sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => p.sockets.delete(s));
    let buf = Buffer.alloc(0);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 8) {
        const len = buf.readUInt16BE(6);
        if (buf.length < 8 + len) break;
        const protocol = buf.readUInt16BE(4) & 0x7fff;
        const payload = buf.subarray(8, 8 + len);
        buf = buf.subarray(8 + len);
        // MsgAcceptVersion 15 with mainnet's magic, initiator-only, no peer sharing
        if (protocol === 0) s.write(segment(0, '83010f841a2d964a09f500f4'));
        else if (protocol === 8 && payload[1] === 0x00)
          s.write(segment(8, `8201${payload.subarray(2).toString('hex')}`));
        else continue;
        p.lastAnswer = performance.now();
      }
    });
  });
  await new Promise<void>((r) => p.server.listen(0, '127.0.0.1', r));
  p.port = (p.server.address() as { port: number }).port;
  return p;
}

let hostile: Peer;
let polite: Peer;

beforeAll(async () => {
  [hostile, polite] = await Promise.all([peer(true), peer(false)]);
});

afterAll(async () => {
  for (const p of [hostile, polite]) {
    for (const s of p.sockets) s.destroy();
    await new Promise<void>((r) => p.server.close(() => r()));
  }
});

/** Runs the command against `p` and returns how long after the peer's last answer the process was gone. */
async function exitGap(p: Peer, args: string[]): Promise<{ code: number | null; gapMs: number; stdout: string }> {
  p.lastAnswer = 0;
  let exitedAt = 0;
  const r = await runCli(
    args.map((a) => a.replace('PEER', `127.0.0.1:${p.port}`)),
    { timeoutMs: 30_000, onSpawn: (child) => child.on('exit', () => (exitedAt = performance.now())) },
  );
  expect(p.lastAnswer).toBeGreaterThan(0);
  return { code: r.code, gapMs: exitedAt - p.lastAnswer, stdout: r.stdout };
}

// The measure is relative: the same command against a peer that closes at once, in the same test,
// so a loaded machine slows both alike; waiting for the hostile peer's close would add its 2 s.
describe('commands exit once the result is known, whatever the peer does after', () => {
  it('spo ping: exits as soon against a peer that never closes as against one that does, far below --timeout', async () => {
    const args = ['ping', 'PEER', '--count', '3', '--interval', '10ms', '--timeout', '20s'];
    const bad = await exitGap(hostile, args);
    const good = await exitGap(polite, args);
    expect(bad.code).toBe(0);
    expect(bad.stdout).toContain('1 of 1 address answered');
    expect(bad.gapMs - good.gapMs).toBeLessThan(1000);
    expect(bad.gapMs).toBeLessThan(10_000);
  }, 60_000);

  it('spo probe: exits as soon against a peer that never closes as against one that does, far below --timeout', async () => {
    const args = ['probe', 'PEER', '--samples', '3', '--timeout', '20s', '--json'];
    const bad = await exitGap(hostile, args);
    const good = await exitGap(polite, args);
    expect(bad.code).toBe(0);
    expect(JSON.parse(bad.stdout).summary.ok).toBe(1);
    expect(bad.gapMs - good.gapMs).toBeLessThan(1000);
    expect(bad.gapMs).toBeLessThan(10_000);
  }, 60_000);
});
