/** src/governor is pure: no I/O imports, no clock, no timers, no global randomness (ARCHITECTURE.md). */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as governor from '../../src/governor/index.js';

const dir = fileURLToPath(new URL('../../src/governor', import.meta.url));

function files(d: string): string[] {
  return readdirSync(d).flatMap((f) => {
    const p = join(d, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('src/governor purity', () => {
  it('imports no node: module and uses no clock, timer or Math.random', () => {
    const offenders: string[] = [];
    for (const f of files(dir)) {
      const text = readFileSync(f, 'utf8');
      for (const bad of [
        /from 'node:/,
        /Math\.random/,
        /Date\.now/,
        /new Date\(/,
        /setTimeout|setInterval|setImmediate/,
        /performance\.now/,
        /process\./,
      ]) {
        if (bad.test(text)) offenders.push(`${f}: ${bad}`);
      }
      for (const m of text.matchAll(/from '([^']+)'/g)) {
        const spec = m[1] as string;
        if (!spec.startsWith('.')) {
          offenders.push(`${f}: imports package ${spec}`);
          continue;
        }
        // inside src/governor, or the registry's pure model and stake arithmetic
        const target = resolve(dirname(f), spec);
        const ok = target.startsWith(dir) || /src\/registry\/(model|stake)\.js$/.test(target);
        if (!ok) offenders.push(`${f}: imports ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('the library exports the types, the step function and the mock environment', () => {
    expect(typeof governor.step).toBe('function');
    expect(typeof governor.MockEnvironment).toBe('function');
    expect(typeof governor.checkInvariants).toBe('function');
    expect(typeof governor.churnStep).toBe('function');
    expect(governor.RELAY_DEFAULT_TARGETS.known).toBe(150);
  });
});
