/**
 * src/governor and src/driver are pure of I/O: no node: imports, no clock, no timers, no global
 * randomness (ARCHITECTURE.md). The governor imports nothing outside itself (it takes peers as
 * data) but the targets' definitions it shares with src/config (lib/peer-targets.ts, pure); the driver imports the governor and the `Clock` interface only, and reaches time and
 * timers through the injected clock.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as driver from '../../src/driver/index.js';
import * as governor from '../../src/governor/index.js';

const src = fileURLToPath(new URL('../../src', import.meta.url));
const governorDir = join(src, 'governor');
const driverDir = join(src, 'driver');

function files(d: string): string[] {
  return readdirSync(d).flatMap((f) => {
    const p = join(d, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const FORBIDDEN = [
  /from 'node:/,
  /import\('node:/,
  /Math\.random/,
  /Date\.now/,
  /new Date\(/,
  /setTimeout|setInterval|setImmediate|queueMicrotask/,
  /performance\.now/,
  /process\./,
];

/** Offending lines of the files under `dir`; `allowed` says which relative imports may leave it. */
function offenders(dir: string, allowed: (target: string) => boolean): string[] {
  const out: string[] = [];
  for (const f of files(dir)) {
    const text = readFileSync(f, 'utf8');
    for (const bad of FORBIDDEN) if (bad.test(text)) out.push(`${f}: ${bad}`);
    for (const m of text.matchAll(/from '([^']+)'/g)) {
      const spec = m[1] as string;
      if (!spec.startsWith('.')) {
        out.push(`${f}: imports package ${spec}`);
        continue;
      }
      const target = resolve(dirname(f), spec);
      if (!allowed(target)) out.push(`${f}: imports ${spec}`);
    }
  }
  return out;
}

describe('purity of the governor and its driver', () => {
  it('src/governor imports nothing outside itself (but the shared targets) and uses no clock, timer or Math.random', () => {
    const ok = (t: string) => t.startsWith(`${governorDir}/`) || t === join(src, 'lib/peer-targets.js');
    expect(offenders(governorDir, ok)).toEqual([]);
    // and what it shares is as pure
    expect(
      offenders(join(src, 'lib'), (t) => t.startsWith(join(src, 'lib/'))).filter((o) => o.includes('peer-targets')),
    ).toEqual([]);
  });

  it('src/driver imports only the governor, itself and the Clock interface; no clock, timer or Math.random', () => {
    const ok = (t: string) =>
      t.startsWith(`${governorDir}/`) ||
      t.startsWith(`${driverDir}/`) ||
      t === join(src, 'lib/clock.js') ||
      t === join(src, 'lib/peer-targets.js') ||
      // the types of a parsed topology, mapped to governor inputs by node-inputs.ts
      t === join(src, 'topology/model.js');
    expect(offenders(driverDir, ok)).toEqual([]);
  });

  it('the libraries export the step function, the driver and its job rules', () => {
    expect(typeof governor.step).toBe('function');
    expect(typeof governor.checkInvariants).toBe('function');
    expect(typeof governor.churnStep).toBe('function');
    expect(governor.RELAY_DEFAULT_TARGETS.known).toBe(150);
    expect(typeof driver.GovernorDriver).toBe('function');
    expect(driver.ACTIVATE_FAILURE_PAUSE_MS).toBe(1000);
  });
});
