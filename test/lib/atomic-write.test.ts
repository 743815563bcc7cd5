import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AtomicWriteStep, writeFileAtomic } from '../../src/lib/atomic-write.js';

const STEPS: AtomicWriteStep[] = [
  'open-temp',
  'write-temp',
  'fsync-temp',
  'close-temp',
  'backup',
  'rename',
  'fsync-dir',
];

describe('writeFileAtomic', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spo-atomic-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a new file and keeps the old content as FILE.bak', async () => {
    const file = join(dir, 'topology.json');
    await writeFileAtomic(file, 'one');
    expect(await readFile(file, 'utf8')).toBe('one');
    await writeFileAtomic(file, 'two');
    expect(await readFile(file, 'utf8')).toBe('two');
    expect(await readFile(`${file}.bak`, 'utf8')).toBe('one');
    expect((await readdir(dir)).sort()).toEqual(['topology.json', 'topology.json.bak']);
  });

  it.each(STEPS)('a crash before step %s leaves the old or the new file, never a broken one', async (step) => {
    const file = join(dir, 'f.json');
    await writeFile(file, 'old');
    const crash = new Error(`crash at ${step}`);
    const attempt = writeFileAtomic(file, 'new', {
      beforeStep: (s) => {
        if (s === step) throw crash;
      },
    });
    await expect(attempt).rejects.toThrow();
    const content = await readFile(file, 'utf8');
    expect(['old', 'new']).toContain(content);
    // Past the rename the new content is in place; before it, the old one is untouched.
    expect(content).toBe(step === 'fsync-dir' ? 'new' : 'old');
    // No temporary files are left behind.
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a much smaller copy does not push a larger FILE.bak out (an empty answer written twice keeps the good data)', async () => {
    const file = join(dir, 'registry.json');
    const good = `{"pools": [${'1,'.repeat(500)}1]}`;
    await writeFile(file, good);
    const first = await writeFileAtomic(file, '{"pools": []}');
    expect(first.backup).toBe(`${file}.bak`);
    expect(await readFile(`${file}.bak`, 'utf8')).toBe(good);
    const second = await writeFileAtomic(file, '{"pools": []}');
    expect(second).toMatchObject({ backup: `${file}.bak`, backupKept: true });
    expect(await readFile(`${file}.bak`, 'utf8')).toBe(good);
    // a copy of about the same size replaces the backup as always
    await writeFileAtomic(file, good);
    await writeFileAtomic(file, `${good} `);
    expect(await readFile(`${file}.bak`, 'utf8')).toBe(good);
  });

  it('reports a missing folder as WRITE_FAILED naming the file', async () => {
    const file = join(dir, 'missing', 'f.json');
    await expect(writeFileAtomic(file, 'x')).rejects.toMatchObject({ code: 'WRITE_FAILED', details: { file } });
  });
});
