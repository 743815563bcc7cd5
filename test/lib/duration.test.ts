import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/lib/duration.js';

describe('parseDuration', () => {
  it.each([
    ['3', 3000],
    ['1.5', 1500],
    ['250ms', 250],
    ['3s', 3000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    [' 10s ', 10_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'abc', '5x', '3s garbage', '-1', 's'])('rejects %j with BAD_DURATION', (text) => {
    expect(() => parseDuration(text, '--timeout')).toThrowError(expect.objectContaining({ code: 'BAD_DURATION' }));
  });
});

describe('formatDuration', () => {
  it('picks a readable unit', () => {
    expect(formatDuration(850)).toBe('850ms');
    expect(formatDuration(3200)).toBe('3.2s');
    expect(formatDuration(310_000)).toBe('5m 10s');
    expect(formatDuration(7_500_000)).toBe('2h 5m');
  });
});
