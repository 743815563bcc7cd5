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
