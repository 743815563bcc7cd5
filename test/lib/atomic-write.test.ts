import { execFileSync } from 'node:child_process';
import { constants, openSync } from 'node:fs';
import {
  chmod,
  chown,
  lstat,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
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

/** A character device of the kernel's (1,3 null; 1,7 full) in our own folder when we may make one, else the system's. */
function device(dir: string, name: 'null' | 'full'): string {
  const path = join(dir, name);
  try {
    execFileSync('mknod', [path, 'c', '1', name === 'null' ? '3' : '7'], { stdio: 'ignore' });
    return path;
  } catch {
    return `/dev/${name}`;
  }
}

describe('writeFileAtomic: what --out may name', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spo-out-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a symlink is written through: the link stays, its target gets the content and the .bak', async () => {
    const real = join(dir, 'real.json');
    const link = join(dir, 'link.json');
    await writeFile(real, 'old');
    await symlink('real.json', link);
    const result = await writeFileAtomic(link, 'new');
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe('real.json');
    expect(await readFile(real, 'utf8')).toBe('new');
    expect(await readFile(`${real}.bak`, 'utf8')).toBe('old');
    expect(result).toMatchObject({ file: real, backup: `${real}.bak` });
  });

  it('a dangling symlink creates its target', async () => {
    const link = join(dir, 'link.json');
    await symlink('made.json', link);
    await writeFileAtomic(link, 'new');
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readFile(join(dir, 'made.json'), 'utf8')).toBe('new');
  });

  it('keeps the mode of the file it replaces (0600 stays 0600)', async () => {
    const file = join(dir, 'secret.json');
    await writeFile(file, 'old');
    await chmod(file, 0o600);
    await writeFileAtomic(file, 'new');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it.skipIf(process.getuid?.() !== 0)('keeps the owner of the file it replaces (as root)', async () => {
    const file = join(dir, 'owned.json');
    await writeFile(file, 'old');
    await chown(file, 4321, 4322);
    await writeFileAtomic(file, 'new');
    const st = await stat(file);
    expect([st.uid, st.gid]).toEqual([4321, 4322]);
    expect(await readFile(file, 'utf8')).toBe('new');
  });

  it('refuses a read-only file (even as root), and leaves it as it was', async () => {
    const file = join(dir, 'ro.json');
    await writeFile(file, 'old');
    await chmod(file, 0o444);
    await expect(writeFileAtomic(file, 'new')).rejects.toMatchObject({
      code: 'WRITE_READ_ONLY',
      message: `${file} is read-only (mode 0444): spo does not replace it`,
      hint: expect.stringContaining('chmod u+w'),
    });
    expect(await readFile(file, 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['ro.json']);
  });

  it('a character device is written to directly, never replaced (null)', async () => {
    const dev = device(dir, 'null');
    const result = await writeFileAtomic(dev, 'data');
    expect((await stat(dev)).isCharacterDevice()).toBe(true);
    expect(result.backup).toBeUndefined();
    expect((await readdir(dir)).filter((f) => f !== 'null')).toEqual([]);
  });

  it('a full device is a clear ENOSPC error, and stays a device', async () => {
    const dev = device(dir, 'full');
    await expect(writeFileAtomic(dev, 'data')).rejects.toMatchObject({
      code: 'WRITE_FAILED',
      message: expect.stringMatching(/^could not write .*full: no space left on the device \(ENOSPC\)$/),
    });
    expect((await stat(dev)).isCharacterDevice()).toBe(true);
    expect((await readdir(dir)).filter((f) => f !== 'full')).toEqual([]);
  });

  it('a FIFO with a reader gets the data (more than a pipe holds); without a reader it is refused', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const lonely = writeFileAtomic(fifo, 'x');
    await expect(lonely).rejects.toMatchObject({ code: 'WRITE_FAILED', message: `${fifo} is a FIFO with no reader` });
    const data = 'y'.repeat(1024 * 1024);
    // The reader opens read-write and non-blocking: that never waits for a writer (a plain open
    // would), and it reads through a pipe handle until all the data is there.
    const reader = new Socket({
      fd: openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK),
      readable: true,
      writable: false,
    });
    const received = new Promise<string>((resolve) => {
      let text = '';
      reader.setEncoding('utf8').on('data', (d: string) => {
        text += d;
        if (text.length >= data.length) resolve(text);
      });
    });
    try {
      await writeFileAtomic(fifo, data);
      expect(await received).toBe(data);
    } finally {
      reader.destroy();
    }
    expect((await stat(fifo)).isFIFO()).toBe(true);
  });

  it('a socket and a folder are refused', async () => {
    const sock = join(dir, 'sock');
    const server = createServer();
    await new Promise<void>((r) => server.listen(sock, () => r()));
    try {
      await expect(writeFileAtomic(sock, 'x')).rejects.toMatchObject({
        code: 'WRITE_FAILED',
        message: `cannot write ${sock}: it is a socket, not a file`,
      });
    } finally {
      server.close();
    }
    await expect(writeFileAtomic(dir, 'x')).rejects.toMatchObject({
      code: 'WRITE_FAILED',
      message: `cannot write ${dir}: it is a folder, not a file`,
    });
  });
});
