/**
 * A node-to-client handshake responder on a Unix socket, for the tests of `spo ping --unix`: it
 * reads the proposal in mux segments (protocol 0), decides as the node does (acceptN2CProposal:
 * highest common version, magic checked, query answered with its table) and answers in one
 * segment with the responder bit set. Faults: `silent` never answers, `close` hangs up, `garbage`
 * answers bytes that are not a handshake message.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex } from '../../src/net/cbor.js';
import { acceptN2CProposal, decodeN2CHandshake, encodeN2CHandshake } from '../../src/net/handshake-n2c.js';
import { decodeSegmentHeader, encodeSegment, SEGMENT_HEADER_SIZE } from '../../src/net/mux/segment.js';

export interface N2CResponderOptions {
  magic: number;
  versions: number[];
  fault?: 'silent' | 'close' | 'garbage';
}

export interface N2CResponder {
  path: string;
  /** Proposals received, decoded (what spo sent). */
  proposals: Array<ReturnType<typeof decodeN2CHandshake>>;
  close(): Promise<void>;
}

export async function startN2CResponder(o: N2CResponderOptions): Promise<N2CResponder> {
  const dir = mkdtempSync(join(tmpdir(), 'spo-n2c-'));
  const path = join(dir, 'node.socket');
  const sockets = new Set<Socket>();
  const proposals: N2CResponder['proposals'] = [];
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < SEGMENT_HEADER_SIZE) return;
      const h = decodeSegmentHeader(buf);
      if (buf.length < SEGMENT_HEADER_SIZE + h.length) return;
      const m = decodeN2CHandshake(buf.subarray(SEGMENT_HEADER_SIZE, SEGMENT_HEADER_SIZE + h.length));
      proposals.push(m);
      if (o.fault === 'silent') return;
      if (o.fault === 'close') {
        s.destroy();
        return;
      }
      const answer =
        o.fault === 'garbage'
          ? fromHex('8209f6') // [9, null]: CBOR, but no handshake message
          : m.type === 'ProposeVersions'
            ? encodeN2CHandshake(acceptN2CProposal(m.versions, { versions: o.versions, networkMagic: o.magic }))
            : fromHex('8200a0');
      s.write(encodeSegment({ timestamp: 0, fromResponder: true, protocol: 0, payload: answer }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return {
    path,
    proposals,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
