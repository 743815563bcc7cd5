/**
 * Test harness: loopback listeners that behave like relays, healthy or faulty, to probe at scale
 * (hundreds in one process). A healthy one answers the node-to-node handshake (after an optional
 * delay), keep-alive and chain-sync MsgFindIntersect (with its tip) just enough for a prober; the
 * faults are a listener that accepts and never answers, a wrong magic, a refused port.
 * Not a node: the real responder is src/net's startServer (spo serve).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { decode, encode } from 'cborg';

export type Behaviour =
  | {
      kind: 'ok';
      magic: number;
      delayMs?: number;
      tipSlot?: number;
      noKeepAlive?: boolean;
      noTip?: boolean;
      /** Called when the prober ends keep-alive (MsgDone): it has every sample it wanted. */
      onKeepAliveDone?: () => void;
    }
  /** Accepts the TCP connection and never says a word. */
  | { kind: 'silent' }
  /** Answers the handshake with a refusal: its magic differs. */
  | { kind: 'wrong-magic'; magic: number };

export interface FakeRelay {
  host: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

function frame(protocol: number, payload: Uint8Array): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(Number(BigInt(Math.round(performance.now() * 1000)) & 0xffffffffn), 0);
  h.writeUInt16BE(protocol | 0x8000, 4);
  h.writeUInt16BE(payload.length, 6);
  return Buffer.concat([h, payload]);
}

function serve(socket: Socket, b: Behaviour, sockets: Set<Socket>): void {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  socket.on('error', () => {});
  socket.setNoDelay(true);
  if (b.kind === 'silent') return;
  let buf = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 8) {
      const len = buf.readUInt16BE(6);
      if (buf.length < 8 + len) return;
      const protocol = buf.readUInt16BE(4) & 0x7fff;
      const payload = buf.subarray(8, 8 + len);
      buf = buf.subarray(8 + len);
      let msg: unknown;
      try {
        msg = decode(payload, { useMaps: true });
      } catch {
        socket.destroy();
        return;
      }
      answer(socket, b, protocol, msg);
    }
  });
}

function answer(socket: Socket, b: Behaviour, protocol: number, msg: unknown): void {
  if (!Array.isArray(msg)) return;
  const send = (m: unknown, delayMs = 0): void => {
    const bytes = frame(protocol, encode(m));
    if (delayMs > 0) setTimeout(() => socket.writable && socket.write(bytes), delayMs);
    else socket.write(bytes);
  };
  if (protocol === 0 && msg[0] === 0) {
    const table = msg[1] as Map<number, unknown>;
    const versions = [...table.keys()].filter((v) => v === 14 || v === 15 || v === 16).sort((x, y) => y - x);
    const v = versions[0];
    if (v === undefined) {
      send([2, [0, [14, 15]]]);
      return;
    }
    const data = table.get(v) as unknown[];
    const theirMagic = data[0] as number;
    if (b.kind === 'wrong-magic' || (b.kind === 'ok' && theirMagic !== b.magic)) {
      const mine = b.magic;
      send(
        [2, [2, v, `version data mismatch: magic ${mine} /= ${theirMagic}`]],
        b.kind === 'ok' ? (b.delayMs ?? 0) : 0,
      );
      return;
    }
    const agreed = v === 16 ? [theirMagic, true, 0, false, false] : [theirMagic, true, 0, false];
    send([1, v, agreed], b.kind === 'ok' ? (b.delayMs ?? 0) : 0);
    return;
  }
  if (b.kind !== 'ok') return;
  if (protocol === 8 && msg[0] === 0) {
    if (!b.noKeepAlive) send([1, msg[1]]);
    return;
  }
  if (protocol === 8 && msg[0] === 2) {
    b.onKeepAliveDone?.();
    return;
  }
  if (protocol === 2 && msg[0] === 4 && !b.noTip) {
    const slot = b.tipSlot ?? 1000;
    const hash = new Uint8Array(32).fill(slot & 0xff);
    send([6, [[slot, hash], Math.floor(slot / 20)]]);
  }
}

/** A listener on host (127.0.0.1 or ::1), on `port` (default: any free port). */
export async function startFakeRelay(host: string, behaviour: Behaviour, port = 0): Promise<FakeRelay> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => serve(s, behaviour, sockets));
  server.maxConnections = 100_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, backlog: 4096 }, () => resolve());
  });
  return {
    host,
    port: (server.address() as { port: number }).port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
