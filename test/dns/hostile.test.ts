/**
 * A hostile DNS server of the test's own: wrong ids, wrong questions, wrong source ports, compression
 * loops, lengths past the end, oversized answers and out-of-chain records. spo must not crash, must
 * give a clear error, and must never use anything from a mismatched answer.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsError, DnsResolver } from '../../src/dns/index.js';
import { runCli } from '../lib/cli.js';

type Query = { id: number; name: string; type: string; raw: Buffer };
type Behaviour = (q: Query, reply: (buf: Buffer) => void, replyFromElsewhere: (buf: Buffer) => void) => void;

const EVIL = '203.0.113.66';
const GOOD = '192.0.2.1';

function answer(
  q: Query,
  opts: { id?: number; name?: string; data?: string; flags?: number; answers?: number } = {},
): Buffer {
  const name = opts.name ?? q.name;
  const count = opts.answers ?? 1;
  return dnsPacket.encode({
    type: 'response',
    id: opts.id ?? q.id,
    flags: opts.flags ?? dnsPacket.RECURSION_AVAILABLE,
    questions: [{ type: q.type as 'A', name, class: 'IN' }],
    answers: Array.from({ length: count }, () => ({
      type: 'A' as const,
      name,
      ttl: 300,
      data: opts.data ?? GOOD,
    })),
  });
}

/** A response whose answer name is a compression pointer to itself. */
function compressionLoop(q: Query): Buffer {
  const good = answer(q);
  const qEnd = 12 + q.name.split('.').reduce((n, l) => n + l.length + 1, 1) + 4;
  const buf = Buffer.from(good);
  // the answer's name starts at qEnd (dns-packet writes it in full): point it at itself
  buf.writeUInt16BE(0xc000 | qEnd, qEnd);
  return buf;
}

/** A response whose A record claims more data than the packet holds. */
function lengthPastEnd(q: Query): Buffer {
  const good = answer(q);
  const buf = Buffer.from(good);
  buf.writeUInt16BE(400, buf.length - 6); // rdlength of the last (only) record
  return buf;
}

/**
 * The answer as dnsmasq and most servers write it (dns-packet does not compress names): the question
 * copied from the query (spo's queries end with an 11-byte OPT record) and records owned by the
 * pointer 0xC00C. This is the shape spo's hot path reads without decoding.
 */
function plain(q: Query, addresses: string[], opts: { flags?: number; type?: number; cls?: number } = {}): Buffer {
  const question = q.raw.subarray(12, q.raw.length - 11);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.id, 0);
  header.writeUInt16BE(0x8180 | (opts.flags ?? 0), 2); // response, RD, RA
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(addresses.length, 6);
  const records = addresses.map((a) => {
    const r = Buffer.alloc(16);
    r.writeUInt16BE(0xc00c, 0);
    r.writeUInt16BE(opts.type ?? 1, 2);
    r.writeUInt16BE(opts.cls ?? 1, 4);
    r.writeUInt32BE(300, 6);
    r.writeUInt16BE(4, 10);
    Buffer.from(a.split('.').map(Number)).copy(r, 12);
    return r;
  });
  return Buffer.concat([header, question, ...records]);
}

let behaviour: Behaviour = () => {};
let udp: Socket;
let other: Socket;
let tcp: Server;
let port = 0;
let tcpBehaviour: (q: Query) => Buffer | undefined = () => undefined;

beforeAll(async () => {
  udp = createSocket('udp4');
  other = createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  await new Promise<void>((r) => other.bind(0, '127.0.0.1', () => r()));
  port = (udp.address() as { port: number }).port;
  udp.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
    const p = dnsPacket.decode(msg);
    const q0 = p.questions?.[0];
    const q: Query = { id: p.id ?? 0, name: q0?.name ?? '', type: q0?.type ?? 'A', raw: msg };
    behaviour(
      q,
      (buf) => udp.send(buf, rinfo.port, rinfo.address),
      (buf) => other.send(buf, rinfo.port, rinfo.address),
    );
  });
  // The same port over TCP, for the truncation path.
  tcp = createServer((sock) => {
    let buf = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 2 || buf.length < buf.readUInt16BE(0) + 2) return;
      const p = dnsPacket.decode(buf.subarray(2));
      const q0 = p.questions?.[0];
      const out = tcpBehaviour({ id: p.id ?? 0, name: q0?.name ?? '', type: q0?.type ?? 'A', raw: buf });
      if (out) sock.end(out);
      else sock.end();
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((r, j) => {
    tcp.once('error', j);
    tcp.listen(port, '127.0.0.1', () => r());
  });
});
afterAll(() => {
  udp?.close();
  other?.close();
  tcp?.close();
});

const resolver = (): DnsResolver =>
  new DnsResolver({ servers: [{ host: '127.0.0.1', port }], timeoutMs: 300, attempts: 1, cacheSize: 0 });

async function fails(r: DnsResolver, name = 'a.test'): Promise<DnsError> {
  const e = await r.resolveAddresses(name, { family: 'ipv4' }).then(
    (ok) => {
      throw new Error(`expected a failure, got ${JSON.stringify(ok.addresses)}`);
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DnsError);
  return e as DnsError;
}

describe('hostile DNS server', () => {
  it('drops answers with a wrong id and uses the genuine one that follows', async () => {
    behaviour = (q, reply) => {
      reply(answer(q, { id: (q.id + 1) & 0xffff, data: EVIL }));
      setTimeout(() => reply(answer(q)), 20);
    };
    const r = resolver();
    const res = await r.resolveAddresses('a.test', { family: 'ipv4' });
    expect(res.addresses.map((a) => a.address)).toEqual([GOOD]);
    expect(r.stats.mismatched).toBe(1);
  });

  it('times out, using nothing, when only wrong ids come back', async () => {
    behaviour = (q, reply) => {
      for (let i = 1; i <= 5; i++) reply(answer(q, { id: (q.id + i) & 0xffff, data: EVIL }));
    };
    const r = resolver();
    const e = await fails(r);
    expect(e.code).toBe('DNS_TIMEOUT');
    expect(r.stats.mismatched).toBe(5);
    expect(JSON.stringify(e)).not.toContain(EVIL);
  });

  it('drops answers to another question (same id)', async () => {
    behaviour = (q, reply) => {
      reply(answer(q, { name: 'evil.test', data: EVIL }));
      setTimeout(() => reply(answer(q)), 20);
    };
    const r = resolver();
    const res = await r.resolveAddresses('a.test', { family: 'ipv4' });
    expect(res.addresses.map((a) => a.address)).toEqual([GOOD]);
    expect(r.stats.mismatched).toBe(1);
  });

  it('drops answers for another type', async () => {
    behaviour = (q, reply) => {
      const wrong = dnsPacket.encode({
        type: 'response',
        id: q.id,
        questions: [{ type: 'AAAA', name: q.name, class: 'IN' }],
        answers: [{ type: 'AAAA', name: q.name, ttl: 300, data: '2001:db8::66' }],
      });
      reply(wrong);
    };
    const e = await fails(resolver());
    expect(e.code).toBe('DNS_TIMEOUT');
  });

  it('drops answers from another source port', async () => {
    behaviour = (q, _reply, fromElsewhere) => fromElsewhere(answer(q, { data: EVIL }));
    const e = await fails(resolver());
    expect(e.code).toBe('DNS_TIMEOUT');
  });

  it('reports a compression loop as malformed, without crashing', async () => {
    behaviour = (q, reply) => reply(compressionLoop(q));
    const e = await fails(resolver());
    expect(e.code).toBe('DNS_MALFORMED');
    expect(e.message).toMatch(/compression pointer/);
  });

  it('reports a record length past the end of the packet as malformed', async () => {
    behaviour = (q, reply) => reply(lengthPastEnd(q));
    const e = await fails(resolver());
    expect(e.code).toBe('DNS_MALFORMED');
    expect(e.message).toMatch(/past the end/);
  });

  it('refuses an oversized answer', async () => {
    behaviour = (q, reply) => reply(answer(q, { answers: 2000, data: EVIL }));
    const e = await fails(resolver());
    expect(e.code).toBe('DNS_MALFORMED');
    expect(e.message).toMatch(/oversized/);
  });

  it('still takes the genuine answer after a malformed one', async () => {
    behaviour = (q, reply) => {
      reply(lengthPastEnd(q));
      reply(Buffer.from([1, 2, 3]));
      setTimeout(() => reply(answer(q)), 20);
    };
    const r = resolver();
    const res = await r.resolveAddresses('a.test', { family: 'ipv4' });
    expect(res.addresses.map((a) => a.address)).toEqual([GOOD]);
    expect(r.stats.malformed).toBe(1);
    expect(r.stats.mismatched).toBe(1); // the 3-byte datagram: its "id" matches no query
  });

  it('ignores records that are not on the chain from the queried name', async () => {
    behaviour = (q, reply) => {
      reply(
        dnsPacket.encode({
          type: 'response',
          id: q.id,
          questions: [{ type: 'A', name: q.name, class: 'IN' }],
          answers: [
            { type: 'A', name: 'evil.test', ttl: 300, data: EVIL },
            { type: 'A', name: q.name, ttl: 300, data: GOOD },
          ],
        }),
      );
    };
    const res = await resolver().resolveAddresses('a.test', { family: 'ipv4' });
    expect(res.addresses.map((a) => a.address)).toEqual([GOOD]);
  });

  it('reports a CNAME loop clearly', async () => {
    behaviour = (q, reply) => {
      reply(
        dnsPacket.encode({
          type: 'response',
          id: q.id,
          questions: [{ type: 'A', name: q.name, class: 'IN' }],
          answers: [
            { type: 'CNAME', name: q.name, ttl: 300, data: 'loop.test' },
            { type: 'CNAME', name: 'loop.test', ttl: 300, data: q.name },
          ],
        }),
      );
    };
    const e = await fails(resolver());
    expect(e.code).toBe('DNS_CNAME_LIMIT');
  });

  it('over TCP, refuses an answer to another query and a cut answer', async () => {
    behaviour = (q, reply) => reply(answer(q, { flags: dnsPacket.TRUNCATED_RESPONSE }));
    tcpBehaviour = (q) =>
      dnsPacket.streamEncode({
        type: 'response',
        id: (q.id + 1) & 0xffff,
        questions: [{ type: 'A', name: q.name, class: 'IN' }],
        answers: [{ type: 'A', name: q.name, ttl: 300, data: EVIL }],
      });
    const e1 = await fails(resolver());
    expect(e1.code).toBe('DNS_MALFORMED');
    expect(e1.message).toMatch(/another query/);
    tcpBehaviour = (q) =>
      dnsPacket
        .streamEncode({
          type: 'response',
          id: q.id,
          questions: [{ type: 'A', name: q.name, class: 'IN' }],
          answers: [{ type: 'A', name: q.name, ttl: 300, data: EVIL }],
        })
        .subarray(0, 20);
    const e2 = await fails(resolver());
    expect(e2.code).toBe('DNS_MALFORMED');
    expect(e2.message).toMatch(/closed the TCP connection/);
  });

  it('both families: succeeds when only one fails, fails only when both fail', async () => {
    behaviour = (q, reply) => {
      if (q.type === 'A') reply(answer(q)); // AAAA: silence
    };
    const r = resolver();
    const res = await r.resolveAddresses('a.test');
    expect(res.addresses.map((a) => a.address)).toEqual([GOOD]);
    expect(res.partialErrors).toEqual([expect.objectContaining({ recordType: 'AAAA', code: 'DNS_TIMEOUT' })]);
    behaviour = () => {};
    const e = await r.resolveAddresses('b.test').catch((err: unknown) => err);
    expect((e as DnsError).code).toBe('DNS_TIMEOUT');
    expect((e as DnsError).details.errors).toEqual([
      { recordType: 'A', code: 'DNS_TIMEOUT' },
      { recordType: 'AAAA', code: 'DNS_TIMEOUT' },
    ]);
  });

  it('maps SERVFAIL to its own code', async () => {
    behaviour = (q, reply) => reply(answer(q, { flags: 2, answers: 0 }));
    const e = await fails(resolver());
    expect(e.code).toBe('DNS_SERVFAIL');
  });

  // The hot path reads a plain answer (the question repeated byte for byte, records owned by the
  // question name through the pointer 0xC00C) without decoding it: these check that it is as strict.
  it('hot path: takes the plain answer, every address of it', async () => {
    behaviour = (q, reply) => reply(plain(q, [GOOD, '192.0.2.2']));
    const r = resolver();
    const res = await r.resolveAddresses('a.test', { family: 'ipv4' });
    expect(res.addresses.map((a) => a.address)).toEqual([GOOD, '192.0.2.2']);
    expect(res.addresses[0]).toMatchObject({ recordType: 'A', family: 4, rawTtlSec: 300, ttlSec: 300 });
  });

  it('hot path: an answer whose question differs by one byte is dropped, whatever its records', async () => {
    behaviour = (q, reply) => {
      const forged = plain(q, [EVIL]);
      forged[13] = 'b'.charCodeAt(0); // the question's first letter: a.test -> b.test, records still 0xC00C
      reply(forged);
      setTimeout(() => reply(plain(q, [GOOD])), 20);
    };
    const r = resolver();
    const res = await r.resolveAddresses('a.test', { family: 'ipv4' });
    expect(res.addresses.map((a) => a.address)).toEqual([GOOD]);
    expect(r.stats.mismatched).toBe(1);
  });

  it('hot path: a question echoed in other case (0x20) is still the same question', async () => {
    behaviour = (q, reply) => {
      const echoed = plain(q, [GOOD]);
      echoed[13] = 'A'.charCodeAt(0);
      reply(echoed);
    };
    const res = await resolver().resolveAddresses('a.test', { family: 'ipv4' });
    expect(res.addresses.map((a) => a.address)).toEqual([GOOD]);
  });

  it('hot path: garbage after valid records makes the datagram malformed; the genuine answer is waited for', async () => {
    behaviour = (q, reply) => {
      const bad = plain(q, [EVIL]);
      bad.writeUInt16BE(1, 10); // one additional record that is not there
      reply(bad);
      setTimeout(() => reply(plain(q, [GOOD])), 20);
    };
    const r = resolver();
    const res = await r.resolveAddresses('a.test', { family: 'ipv4' });
    expect(res.addresses.map((a) => a.address)).toEqual([GOOD]);
    expect(r.stats.malformed).toBe(1);
  });

  it('hot path: records of another type under the question name are not addresses', async () => {
    behaviour = (q, reply) => reply(plain(q, [EVIL], { type: 16 })); // TXT
    const e = await fails(resolver());
    expect(e.code).toBe('DNS_NO_DATA');
    expect(JSON.stringify(e)).not.toContain(EVIL);
  });

  it('records of another class than IN (CHAOS, HESIOD) are not addresses', async () => {
    for (const cls of [3, 4]) {
      behaviour = (q, reply) => reply(plain(q, [EVIL], { cls }));
      const e = await fails(resolver());
      expect(e.code).toBe('DNS_NO_DATA');
      expect(JSON.stringify(e)).not.toContain(EVIL);
    }
    // beside an IN record, only the IN record counts
    behaviour = (q, reply) => {
      const buf = plain(q, [EVIL, GOOD]);
      buf.writeUInt16BE(3, buf.length - 32 + 4); // the first record's class: CH
      reply(buf);
    };
    const res = await resolver().resolveAddresses('a.test', { family: 'ipv4' });
    expect(res.addresses.map((a) => a.address)).toEqual([GOOD]);
  });

  it('spo resolve shows an SRV target carrying terminal escapes escaped, never raw (needs a build)', async () => {
    const evil = 'x\u001b]0;pwned\u0007\u001b[2J.example';
    behaviour = (q, reply) =>
      reply(
        dnsPacket.encode({
          type: 'response',
          id: q.id,
          flags: dnsPacket.RECURSION_AVAILABLE,
          questions: [{ type: 'SRV', name: q.name, class: 'IN' }],
          answers:
            q.type === 'SRV'
              ? [{ type: 'SRV', name: q.name, ttl: 300, data: { priority: 0, weight: 1, port: 3001, target: evil } }]
              : [],
        }),
      );
    const r = await runCli(['resolve', '_cardano._tcp.a.test', '--dns-server', `127.0.0.1:${port}`, '--timeout', '2s']);
    expect(r.code).toBe(1);
    const shown = r.stdout + r.stderr;
    expect(shown).toContain('x\\u001b]0;pwned\\u0007\\u001b[2j.example'); // names are compared lower-cased
    // biome-ignore lint/suspicious/noControlCharactersInRegex: what must not reach the terminal
    expect(shown).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
  });

  it('hot path: a truncated plain answer goes to TCP', async () => {
    behaviour = (q, reply) => reply(plain(q, [EVIL], { flags: 0x0200 })); // TC
    tcpBehaviour = (q) => {
      const body = answer({ ...q, type: 'A' });
      const framed = Buffer.alloc(body.length + 2);
      framed.writeUInt16BE(body.length, 0);
      body.copy(framed, 2);
      return framed;
    };
    const r = resolver();
    const res = await r.resolveAddresses('a.test', { family: 'ipv4' });
    expect(res.addresses.map((a) => a.address)).toEqual([GOOD]);
    expect(res.transport).toBe('tcp');
    expect(r.stats.tcp).toBe(1);
  });

  it('hot path: a plain answer with an error code is not taken as addresses', async () => {
    behaviour = (q, reply) => reply(plain(q, [EVIL], { flags: 2 })); // SERVFAIL with records
    const e = await fails(resolver());
    expect(e.code).toBe('DNS_SERVFAIL');
  });

  it('sends from a fresh random source port every queriesPerSocket queries, and answers still match', async () => {
    const ports: number[] = [];
    behaviour = (q, reply) => reply(plain(q, [GOOD]));
    const seen = (_msg: Buffer, rinfo: RemoteInfo): void => {
      ports.push(rinfo.port);
    };
    udp.on('message', seen);
    try {
      const r = new DnsResolver({
        servers: [{ host: '127.0.0.1', port }],
        timeoutMs: 1000,
        cacheSize: 0,
        queriesPerSocket: 3,
      });
      for (let i = 0; i < 7; i++) {
        const res = await r.resolveAddresses(`n${i}.test`, { family: 'ipv4' });
        expect(res.addresses[0]?.address).toBe(GOOD);
      }
      expect(ports).toHaveLength(7);
      expect(new Set(ports.slice(0, 3)).size).toBe(1);
      expect(new Set(ports).size).toBe(3);
      r.close();
    } finally {
      udp.off('message', seen);
    }
  });
});
