/** The server's accept rate limiting and accept-error policy (governor.md §9). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  acceptErrorPolicy,
  acceptGate,
  DEFAULT_ACCEPTED_CONNECTIONS_LIMIT as L,
  remainingPause,
} from '../../src/node/server/rate-limit.js';

describe('acceptGate', () => {
  it('no delay below the soft limit, a linear ramp to the delay at the hard limit, a block at and above it', () => {
    expect(acceptGate(0, L)).toEqual({ kind: 'delay', delay: 0 });
    expect(acceptGate(383, L)).toEqual({ kind: 'delay', delay: 0 });
    expect(acceptGate(384, L)).toEqual({ kind: 'delay', delay: 0 });
    expect(acceptGate(448, L)).toEqual({ kind: 'delay', delay: 2_500 });
    expect(acceptGate(511, L)).toEqual({ kind: 'delay', delay: (127 * 5_000) / 128 });
    expect(acceptGate(512, L)).toEqual({ kind: 'block', minPause: 5_000 });
    expect(acceptGate(2_000, L)).toEqual({ kind: 'block', minPause: 5_000 });
  });

  it('the ramp never decreases and stays within [0, delay], for any limits', () => {
    fc.assert(
      fc.property(fc.nat(1_000), fc.nat(1_000), fc.nat(60_000), fc.nat(1_200), (soft, extra, delay, n) => {
        const lim = { soft, hard: soft + extra, delay };
        const g = acceptGate(n, lim);
        const h = acceptGate(n + 1, lim);
        if (g.kind === 'delay') {
          expect(g.delay).toBeGreaterThanOrEqual(0);
          expect(g.delay).toBeLessThanOrEqual(delay);
          if (h.kind === 'delay') expect(h.delay).toBeGreaterThanOrEqual(g.delay);
        } else {
          expect(h.kind).toBe('block');
        }
      }),
      { seed: 12, numRuns: 500 },
    );
  });

  it('after a block the total pause is at least the delay', () => {
    expect(remainingPause(1_000, 2_000, L)).toBe(4_000);
    expect(remainingPause(1_000, 9_000, L)).toBe(0);
  });
});

describe('acceptErrorPolicy', () => {
  it('survives ECONNABORTED (0.5 s pause) and EMFILE/ENFILE (logged), stops on anything else', () => {
    expect(acceptErrorPolicy('ECONNABORTED')).toEqual({ kind: 'pause', delay: 500, log: false });
    expect(acceptErrorPolicy('EMFILE')).toEqual({ kind: 'pause', delay: 500, log: true });
    expect(acceptErrorPolicy('ENFILE')).toEqual({ kind: 'pause', delay: 500, log: true });
    expect(acceptErrorPolicy('EINVAL')).toEqual({ kind: 'stop', code: 'EINVAL' });
    expect(acceptErrorPolicy(undefined)).toEqual({ kind: 'stop', code: 'UNKNOWN' });
  });
});
