import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describeError, SpoError } from './errors.js';

/** The steps of an atomic write, in order; tests inject a crash at each one. */
export type AtomicWriteStep =
  | 'open-temp'
  | 'write-temp'
  | 'fsync-temp'
  | 'close-temp'
  | 'backup'
  | 'rename'
  | 'fsync-dir';

export interface AtomicWriteOptions {
  /** Keep an existing file as FILE.bak before replacing it (default true). */
  backup?: boolean;
  /** File mode for a new file (default 0o644). */
  mode?: number;
  /** Called before each step; throwing simulates a crash at that point. */
  beforeStep?: (step: AtomicWriteStep) => void;
}

export interface WriteResult {
  /** Where the previous content is kept (`FILE.bak`), when there was a previous file. */
  backup?: string;
  /** The existing `FILE.bak` was kept: the file it would have replaced was less than half its size. */
  backupKept?: true;
}

/**
 * Writes a file so that readers only ever see the old or the new content, never a half-written
 * file: temporary file in the same folder, fsync, then rename over the target.
 * The previous content is kept as `FILE.bak` (itself written by copy + rename), unless that would
 * replace a backup more than twice its size: a broken source written twice (an empty registry) must
 * not push the last good copy out.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<WriteResult> {
  const step = options.beforeStep ?? (() => {});
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: fs.FileHandle | undefined;
  let result: WriteResult = {};
  try {
    step('open-temp');
    handle = await fs.open(tmp, 'wx', options.mode ?? 0o644);
    step('write-temp');
    await handle.writeFile(data);
    step('fsync-temp');
    await handle.sync();
    step('close-temp');
    await handle.close();
    handle = undefined;
    if (options.backup ?? true) {
      step('backup');
      result = await backupExisting(path);
    }
    step('rename');
    await fs.rename(tmp, path);
    step('fsync-dir');
    await fsyncDir(dir);
    return result;
  } catch (error) {
    await handle?.close().catch(() => {});
    await fs.rm(tmp, { force: true }).catch(() => {});
    if (error instanceof SpoError) throw error;
    throw new SpoError('WRITE_FAILED', `could not write ${path}: ${describeError(error)}`, {
      hint: 'check that the folder exists and is writable; the previous file, if any, is untouched',
      cause: error,
      details: { file: path },
    });
  }
}

async function backupExisting(path: string): Promise<WriteResult> {
  const current = await fs.stat(path).catch(() => undefined);
  if (!current) return {}; // nothing to back up
  const bak = `${path}.bak`;
  const previous = await fs.stat(bak).catch(() => undefined);
  if (previous?.isFile() && current.size * 2 < previous.size) return { backup: bak, backupKept: true };
  const bakTmp = `${path}.bak.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await fs.copyFile(path, bakTmp);
    await fs.rename(bakTmp, bak);
  } finally {
    await fs.rm(bakTmp, { force: true }).catch(() => {});
  }
  return { backup: bak };
}

async function fsyncDir(dir: string): Promise<void> {
  // Makes the rename durable; not supported everywhere (e.g. some network filesystems), so best effort.
  try {
    const h = await fs.open(dir, 'r');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  } catch {
    /* best effort */
  }
}

/** Writes to standard output when path is `-` or undefined, else atomically to the file. */
export async function writeOutput(
  path: string | undefined,
  data: string,
  stdout: (s: string) => void,
  options: AtomicWriteOptions = {},
): Promise<WriteResult> {
  if (path === undefined || path === '-') {
    stdout(data);
    return {};
  }
  return writeFileAtomic(path, data, options);
}
