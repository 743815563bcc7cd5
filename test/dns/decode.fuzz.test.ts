/** Property tests of the safe decoder: any bytes give a DnsResponse or a DnsError, never another exception. */
import dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DnsError } from '../../src/dns/errors.js';
import { decodeResponse, MAX_RECORDS } from '../../src/dns/packet.js';

function outcome(buf: Buffer): 'ok' | 'malformed' {
  try {
    const r = decodeResponse(buf);
    expect(r.answers.length).toBeLessThanOrEqual(MAX_RECORDS);
    return 'ok';
  } catch (error) {
    if (!(error instanceof DnsError) || error.code !== 'DNS_MALFORMED') throw error;
    return 'malformed';
  }
}

const valid = dnsPacket.encode({
  type: 'response',
  id: 4242,
  flags: dnsPacket.RECURSION_AVAILABLE,
  questions: [{ type: 'SRV', name: '_cardano._tcp.pool.test', class: 'IN' }],
  answers: [
    {
      type: 'SRV',
      name: '_cardano._tcp.pool.test',
      ttl: 60,
      data: { priority: 1, weight: 5, port: 3001, target: 'r1.pool.test' },
    },
    { type: 'CNAME', name: 'r1.pool.test', ttl: 60, data: 'r2.pool.test' },
    { type: 'A', name: 'r2.pool.test', ttl: 60, data: '192.0.2.1' },
    { type: 'AAAA', name: 'r2.pool.test', ttl: 60, data: '2001:db8::1' },
  ],
  authorities: [
    {
      type: 'SOA',
      name: 'pool.test',
      ttl: 60,
      data: { mname: 'ns.pool.test', rname: 'h.pool.test', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 30 },
    },
  ],
});

describe('decodeResponse (fuzz)', () => {
  it('decodes the valid packet', () => {
    const r = decodeResponse(valid);
    expect(r.answers).toHaveLength(4);
    expect(r.negativeTtl).toBe(30);
  });

  it('never throws anything but DNS_MALFORMED on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), (bytes) => {
        outcome(Buffer.from(bytes));
      }),
      { seed: 3, numRuns: 20_000 },
    );
  });

  it('never throws anything but DNS_MALFORMED on mutated valid packets', () => {
    const mutation = fc.array(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })), {
      minLength: 1,
      maxLength: 8,
    });
    let ok = 0;
    fc.assert(
      fc.property(mutation, fc.nat({ max: valid.length }), (edits, cut) => {
        const buf = Buffer.from(valid);
        for (const [i, v] of edits) buf[i] = v;
        if (outcome(buf.subarray(0, Math.max(cut, 12))) === 'ok') ok++;
      }),
      { seed: 7, numRuns: 20_000 },
    );
    // the generator is useful only if some mutants still decode
    expect(ok).toBeGreaterThan(0);
  });

  it('rejects every truncation of a valid packet without crashing', () => {
    for (let n = 0; n < valid.length; n++) expect(outcome(valid.subarray(0, n))).toBe('malformed');
  });
});

describe('encodeQuery', () => {
  it('writes exactly what dns-packet writes for the same query', async () => {
    const { encodeQuery, queryPacket } = await import('../../src/dns/packet.js');
    const label = fc.stringMatching(/^[a-z0-9_-]{1,20}$/);
    fc.assert(
      fc.property(
        fc.nat({ max: 0xffff }),
        fc.array(label, { minLength: 1, maxLength: 5 }),
        fc.constantFrom('A' as const, 'AAAA' as const, 'SRV' as const, 'CNAME' as const),
        fc.boolean(),
        (id, labels, type, edns) => {
          const name = labels.join('.');
          expect(encodeQuery(id, name, type, edns).equals(dnsPacket.encode(queryPacket(id, name, type, edns)))).toBe(
            true,
          );
        },
      ),
      { seed: 11, numRuns: 2000 },
    );
  });

  it('refuses empty and over-long labels, and encodes non-ASCII names as dns-packet does', async () => {
    const { encodeQuery, queryPacket } = await import('../../src/dns/packet.js');
    for (const bad of ['a..b', '.a', `${'x'.repeat(64)}.test`, 'a.b..', 'ü..x']) {
      expect(() => encodeQuery(1, bad, 'A')).toThrow(/not a valid DNS name/);
    }
    for (const name of ['relay.example.com.', 'bücher.example', `${'x'.repeat(63)}.test`, '_cardano._tcp.pool.io']) {
      expect(encodeQuery(7, name, 'SRV').equals(dnsPacket.encode(queryPacket(7, name, 'SRV')))).toBe(true);
    }
  });
});

describe('isQueryableName', () => {
  it('accepts exactly the names of 1-63-byte labels of letters, digits, - and _, at most 253 bytes', async () => {
    const { isQueryableName } = await import('../../src/dns/packet.js');
    const reference = (name: string): boolean =>
      name.length > 0 &&
      name.length <= 253 &&
      name.split('.').every((l) => l.length >= 1 && l.length <= 63 && /^[a-z0-9_-]+$/.test(l));
    const part = fc.oneof(fc.stringMatching(/^[a-z0-9_-]{0,70}$/), fc.constantFrom('', 'A', 'ü', ' ', '*', '..'));
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 6 }), (parts) => {
        const name = parts.join('.');
        expect(isQueryableName(name)).toBe(reference(name));
      }),
      { seed: 5, numRuns: 3000 },
    );
    expect(isQueryableName(Array.from({ length: 4 }, () => 'a'.repeat(63)).join('.'))).toBe(false); // 255 bytes
    expect(isQueryableName(`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`)).toBe(true); // 253
  });
});

describe('plainAnswer (the hot path read in place)', () => {
  /** A plain answer to `query` as servers write it: the question copied, records owned by 0xC00C. */
  function plainFor(query: Buffer, records: Array<{ type: number; ttl: number; data: number[] }>): Buffer {
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2);
    header.writeUInt16BE(0x8180, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(records.length, 6);
    const parts = records.map((r) => {
      const b = Buffer.alloc(12 + r.data.length);
      b.writeUInt16BE(0xc00c, 0);
      b.writeUInt16BE(r.type, 2);
      b.writeUInt16BE(1, 4);
      b.writeUInt32BE(r.ttl, 6);
      b.writeUInt16BE(r.data.length, 10);
      Buffer.from(r.data).copy(b, 12);
      return b;
    });
    return Buffer.concat([header, query.subarray(12, query.length - 11), ...parts]);
  }

  it('accepts only what the full decoder accepts for the same query, with the same addresses', async () => {
    const { encodeQuery, matchesQuery, plainAddress, plainAnswer, plainTtl } = await import('../../src/dns/packet.js');
    const label = fc.stringMatching(/^[a-z0-9-]{1,12}$/);
    const record = fc.record({
      type: fc.constantFrom(1, 28, 5, 16),
      ttl: fc.nat(),
      data: fc.oneof(
        fc.array(fc.nat({ max: 255 }), { minLength: 4, maxLength: 4 }),
        fc.array(fc.nat({ max: 255 }), { minLength: 16, maxLength: 16 }),
        fc.array(fc.nat({ max: 255 }), { minLength: 0, maxLength: 20 }),
      ),
    });
    const mutation = fc.oneof(fc.constant([]), fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { maxLength: 3 }));
    let accepted = 0;
    fc.assert(
      fc.property(
        fc.nat({ max: 0xffff }),
        fc.array(label, { minLength: 1, maxLength: 4 }),
        fc.constantFrom('A' as const, 'AAAA' as const),
        fc.array(record, { minLength: 0, maxLength: 4 }),
        mutation,
        fc.nat({ max: 40 }),
        fc.boolean(),
        (id, labels, type, randomRecords, flips, cut, wellFormed) => {
          const name = labels.join('.');
          const query = encodeQuery(id, name, type);
          // half the cases: records of the asked type and size, as a server would answer
          const records = wellFormed
            ? randomRecords.map((r) => ({
                type: type === 'A' ? 1 : 28,
                ttl: r.ttl,
                data: Array.from({ length: type === 'A' ? 4 : 16 }, (_, i) => r.data[i] ?? i),
              }))
            : randomRecords;
          const msg = plainFor(query, records);
          for (const [at, byte] of flips) msg[at % msg.length] = byte;
          const buf = cut > 30 ? msg.subarray(0, Math.max(0, msg.length - (cut - 30))) : msg;
          let plain: number[] | undefined;
          try {
            plain = plainAnswer(buf, query, query.length - 11);
          } catch (error) {
            // broken for the hot path: broken for the full decoder too
            expect((error as DnsError).code).toBe('DNS_MALFORMED');
            expect(outcome(buf)).toBe('malformed');
            return;
          }
          if (plain === undefined) return; // the general path decides
          accepted++;
          const full = decodeResponse(buf);
          // (the id is the transport's to match: it finds the waiting query by it)
          expect(matchesQuery(full, full.id, name, type)).toBe(true);
          expect(full.rcode).toBe('NOERROR');
          expect(full.truncated).toBe(false);
          const fromPlain = [];
          for (let i = 1; i < plain.length; i += 2) {
            const nameEnd = plain[i] as number;
            fromPlain.push({ name, type, ttl: plainTtl(buf, nameEnd), data: plainAddress(buf, type, nameEnd) });
          }
          expect(fromPlain).toEqual(full.answers);
          expect(fromPlain.length).toBeGreaterThan(0);
        },
      ),
      { seed: 3, numRuns: 4000 },
    );
    expect(accepted).toBeGreaterThan(100); // the property did exercise accepted answers
  });
});
