/** src/node is pure: no I/O imports, no clock, no timers, no global randomness (docs/ARCHITECTURE.md). */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as node from '../../src/node/index.js';

const dir = fileURLToPath(new URL('../../src/node', import.meta.url));
const lib = fileURLToPath(new URL('../../src/lib/clock.ts', import.meta.url));

/**
 * The shells (sockets, timers, the clock) live beside the cores they drive; every other file of
 * src/node is pure. Each engineer adds the shell files they write here.
 */
const SHELLS = [
  'connection-manager/shell.ts',
  'inbound-governor/shell.ts',
  'server/accept-loop.ts',
  'peer-state-actions.ts',
  'outbound.ts',
  'control.ts',
  // pure (no clock, timers or I/O) but built on src/net's header codec (hashes, header bytes)
  'header-chain.ts',
  'live-node.ts',
  'node-dns.ts',
  'node-runner.ts',
];

function files(d: string): string[] {
  return readdirSync(d).flatMap((f) => {
    const p = join(d, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('src/node purity', () => {
  it('imports no node: module or package, uses no clock, timer or Math.random', () => {
    const offenders: string[] = [];
    for (const f of files(dir)) {
      if (SHELLS.some((s) => f.endsWith(`/src/node/${s}`))) continue;
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
      // `import type` has no run-time effect: a pure file may name types of other layers.
      for (const m of text.matchAll(/^(import|export)(\s+type)?\s[^;]*?from '([^']+)'/gms)) {
        if (m[2]) continue;
        const spec = m[3] as string;
        const target = resolve(dirname(f), spec).replace(/\.js$/, '.ts');
        if (!spec.startsWith('.') || !(target.startsWith(dir) || target === lib))
          offenders.push(`${f}: imports ${spec}`);
      }
    }
    expect(files(dir).length).toBeGreaterThanOrEqual(5);
    expect(offenders).toEqual([]);
  });

  it('the library exports the cores, the composed step, the rate limiting and the oracle', () => {
    expect(typeof node.nodeStep).toBe('function');
    expect(typeof node.connectionManager.acquireOutbound).toBe('function');
    expect(typeof node.inboundGovernor.responderStarted).toBe('function');
    expect(typeof node.acceptGate).toBe('function');
    expect(typeof node.validCmTransition).toBe('function');
  });
});
