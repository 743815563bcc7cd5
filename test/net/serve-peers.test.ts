import { describe, expect, it } from 'vitest';
import { parsePeersText } from '../../src/commands/serve.js';
import { parseFault } from '../../src/net/serve.js';

describe('spo serve --peers file', () => {
  it('reads IP:PORT lines with comments, and JSON arrays', () => {
    expect(parsePeersText('# relays\n1.2.3.4:3001\n\n[2001:db8::1]:6000  # v6\n', 'p.txt')).toEqual([
      { family: 4, address: '1.2.3.4', port: 3001 },
      { family: 6, address: '2001:db8::1', port: 6000 },
    ]);
    expect(parsePeersText('["10.0.0.1:1"]', 'p.json')).toEqual([{ family: 4, address: '10.0.0.1', port: 1 }]);
  });
  it('names the file and entry of a bad line (names are not allowed: peer sharing carries IPs)', () => {
    expect(() => parsePeersText('1.2.3.4:3001\nrelay.example.com:3001\n', 'p.txt')).toThrow(
      'p.txt: entry 2 "relay.example.com:3001" is not an IP address',
    );
    expect(() => parsePeersText('1.2.3.4', 'p.txt')).toThrow(/p\.txt: entry 1/);
    expect(() => parsePeersText('[1', 'p.json')).toThrow(/not valid JSON/);
  });
  it('parses the test-only faults', () => {
    expect(parseFault('slow=250')).toEqual({ kind: 'slow', ms: 250 });
    expect(parseFault('never-answer')).toEqual({ kind: 'never-answer' });
    expect(() => parseFault('explode')).toThrow(/unknown fault/);
  });
});
