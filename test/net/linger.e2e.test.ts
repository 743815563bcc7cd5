/**
 * `spo ping` and `spo probe` exit once their result is known (issue 16): a peer that answers and
 * then never closes its side, nor reads, must not hold the process until --timeout. The hostile
 * server records when it sent its last answer; the command must be gone soon after, far below the
 * 20 s timeout. Bounded: each run has a hard limit, the server is closed at the end.
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

let server: Server;
let port = 0;
const sockets = new Set<Socket>();
/** performance.now() of the last answer written. */
let lastAnswer = 0;

beforeAll(async () => {
  // allowHalfOpen: our FIN does not end its side; it keeps the connection and stops reading after
  // the last keep-alive, so a close that waits for the peer waits for ever.
  server = createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
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
        lastAnswer = performance.now();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});

async function exitGap(args: string[]): Promise<{ code: number | null; gapMs: number; stdout: string }> {
  lastAnswer = 0;
  let exitedAt = 0;
  const r = await runCli(args, {
    timeoutMs: 30_000,
    onSpawn: (child) => child.on('exit', () => (exitedAt = performance.now())),
  });
  expect(lastAnswer).toBeGreaterThan(0);
  return { code: r.code, gapMs: exitedAt - lastAnswer, stdout: r.stdout };
}

describe('commands exit once the result is known, whatever the peer does after', () => {
  it('spo ping: exits right after its last answer, not at --timeout', async () => {
    const r = await exitGap(['ping', `127.0.0.1:${port}`, '--count', '3', '--interval', '10ms', '--timeout', '20s']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('1/1 address(es) answered');
    expect(r.gapMs).toBeLessThan(1500);
  }, 40_000);

  it('spo probe: exits right after its last answer, not at --timeout', async () => {
    const r = await exitGap(['probe', `127.0.0.1:${port}`, '--samples', '3', '--timeout', '20s', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).summary.ok).toBe(1);
    expect(r.gapMs).toBeLessThan(1500);
  }, 40_000);
});
