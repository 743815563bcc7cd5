import { describe, expect, it } from 'vitest';
import { counted } from '../../src/lib/plural.js';
import { round3 } from '../../src/lib/round.js';

describe('round3 (figures in --json)', () => {
  it('keeps three decimals of a measured float, integers and non-finite values as they are', () => {
    expect(round3(4.046294999999986)).toBe(4.046);
    expect(round3(0.048196500000017295)).toBe(0.048);
    expect(round3(1.7435834999999997)).toBe(1.744);
    expect(round3(5000)).toBe(5000);
    expect(round3(-0.0001)).toBe(0);
    expect(Object.is(round3(-0.0001), 0)).toBe(true);
    expect(round3(Number.NaN)).toBeNaN();
    expect(round3(2.00049)).toBe(2);
  });
});

describe('counted (singular/plural)', () => {
  it('says "1 relay", "2 relays", "0 relays" and takes an irregular plural', () => {
    expect(counted(1, 'relay')).toBe('1 relay');
    expect(counted(2, 'relay')).toBe('2 relays');
    expect(counted(0, 'relay')).toBe('0 relays');
    expect(counted(1, 'address', 'addresses')).toBe('1 address');
    expect(counted(3, 'address', 'addresses')).toBe('3 addresses');
  });
});
