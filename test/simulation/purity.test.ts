/**
 * src/simulation is a pure core (ARCHITECTURE.md): no node: imports, clock, timers, process or
 * global randomness; it imports only itself, the governor, the event kernel and src/lib.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = fileURLToPath(new URL('../../src', import.meta.url));
const dir = join(src, 'simulation');
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

describe('purity of src/simulation', () => {
  it('uses no clock, timer, process or Math.random and imports only the governor, the event kernel and lib', () => {
    const out: string[] = [];
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.ts'))) {
      const path = join(dir, f);
      const text = readFileSync(path, 'utf8');
      for (const bad of FORBIDDEN) if (bad.test(text)) out.push(`${f}: ${bad}`);
      for (const m of text.matchAll(/from '([^']+)'/g)) {
        const spec = m[1] as string;
        const target = resolve(dirname(path), spec);
        const ok =
          spec.startsWith('.') &&
          (target.startsWith(`${dir}/`) ||
            target.startsWith(join(src, 'governor/')) ||
            target.startsWith(join(src, 'lib/')) ||
            target === join(src, 'sim/scheduler.js'));
        if (!ok) out.push(`${f}: imports ${spec}`);
      }
    }
    expect(out).toEqual([]);
  });
});
