/**
 * Crash safety of topology writes. (1) writeFileAtomic's beforeStep hook throws at every step of a
 * save: the topology file is always there, complete, and either the old or the new one. (2) A real
 * kill -9 of a child process paused at every step (deterministically: the child announces the step
 * and blocks, the parent then kills it): same result, with no cleanup code having run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { AtomicWriteStep } from '../../src/lib/atomic-write.js';
import { parseTopology } from '../../src/topology/parse.js';
import { saveTopology } from '../../src/topology/write.js';

const STEPS: AtomicWriteStep[] = [
  'open-temp',
  'write-temp',
  'fsync-temp',
  'close-temp',
  'backup',
  'rename',
  'fsync-dir',
];
const OLD = `${JSON.stringify({ localRoots: [], publicRoots: [], useLedgerAfterSlot: -1 }, null, 2)}\n`;
// Big enough that a torn write would show.
const NEW = `${JSON.stringify(
  {
    localRoots: [
      {
        accessPoints: Array.from({ length: 400 }, (_, i) => ({ address: `relay${i}.example.org`, port: 3001 })),
        advertise: false,
        trustable: true,
        hotValency: 400,
      },
    ],
    publicRoots: [],
    useLedgerAfterSlot: 0,
  },
  null,
  2,
)}\n`;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function fresh(): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'spo-topo-crash-'));
  dirs.push(dir);
  const file = join(dir, 'topology.json');
  writeFileSync(file, OLD);
  return { dir, file };
}
function assertIntact(file: string): 'old' | 'new' {
  const text = readFileSync(file, 'utf8');
  expect([OLD, NEW]).toContain(text);
  expect(parseTopology(JSON.parse(text), file).findings.filter((f) => f.severity === 'error')).toEqual([]);
  return text === OLD ? 'old' : 'new';
}

describe('a crash at every write step (beforeStep hook)', () => {
  for (const step of STEPS) {
    it(`at ${step}: the topology is the old or the new file, never torn or missing`, async () => {
      const { dir, file } = fresh();
      await expect(
        saveTopology(file, NEW, {
          beforeStep: (s) => {
            if (s === step) throw new Error(`crash at ${s}`);
          },
        }),
      ).rejects.toThrow();
      const state = assertIntact(file);
      // Before the rename the old file stands; the rename is the commit point.
      expect(state).toBe(STEPS.indexOf(step) <= STEPS.indexOf('rename') ? 'old' : 'new');
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    });
  }

  it('without a crash the new file is written and the old one kept as .bak', async () => {
    const { file } = fresh();
    await saveTopology(file, NEW);
    expect(assertIntact(file)).toBe('new');
    expect(readFileSync(`${file}.bak`, 'utf8')).toBe(OLD);
  });

  it('nothing is written when the content does not validate', async () => {
    const { file } = fresh();
    const bad = JSON.stringify({
      localRoots: [{ accessPoints: [{ address: '0.0.0.0', port: 1 }], hotValency: 1 }],
      publicRoots: [],
    });
    await expect(saveTopology(file, bad)).rejects.toThrow(/refusing to write/);
    await expect(saveTopology(file, '{"localRoots": [')).rejects.toThrow(/not JSON/);
    expect(assertIntact(file)).toBe('old');
  });
});

const WRITE_URL = new URL('../../src/topology/write.ts', import.meta.url).href;

/** Runs a child that saves NEW over `file` and blocks at `step`; kills it with SIGKILL there. */
function killAt(file: string, step: AtomicWriteStep): Promise<{ signal: NodeJS.Signals | null; out: string }> {
  const script = join(mkdtempSync(join(tmpdir(), 'spo-topo-child-')), 'child.mts');
  dirs.push(join(script, '..'));
  writeFileSync(
    script,
    `import { saveTopology } from ${JSON.stringify(WRITE_URL)};
const [file, step, text] = [process.argv[2], process.argv[3], process.argv[4]];
const block = new Int32Array(new SharedArrayBuffer(4));
await saveTopology(file, text, { beforeStep: (s) => {
  if (s !== step) return;
  process.stdout.write('at ' + s + '\\n', () => {});
  // Block the whole process here (no event loop, no cleanup) until it is killed.
  Atomics.wait(block, 0, 0, 20000);
} });
process.stdout.write('done\\n');
`,
  );
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, file, step, NEW], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes(`at ${step}`)) child.kill('SIGKILL');
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      if (!out.includes(`at ${step}`)) reject(new Error(`child never reached ${step}: ${out} ${err}`));
      else resolve({ signal, out });
    });
  });
}

describe('kill -9 of a writing process at every step', () => {
  for (const step of STEPS) {
    it(`killed at ${step}: the topology is intact`, async () => {
      const { file } = fresh();
      const r = await killAt(file, step);
      expect(r.signal).toBe('SIGKILL');
      expect(r.out).not.toContain('done');
      const state = assertIntact(file);
      expect(state).toBe(STEPS.indexOf(step) <= STEPS.indexOf('rename') ? 'old' : 'new');
    }, 30_000);
  }
});
