import { randomBytes } from 'node:crypto';
import { constants, promises as fs, fstatSync, open as openFd, type Stats } from 'node:fs';
import { Socket } from 'node:net';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { promisify } from 'node:util';
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
  /** The file written: a symlink's target, or the path itself. */
  file?: string;
  /** True for a device or FIFO, written to in place (no temporary file, no backup). */
  direct?: true;
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
  const target = await outputTarget(path);
  if (target.kind === 'stdio') {
    await writeStdio(path, target.fd, data);
    return { file: path, direct: true };
  }
  if (target.kind === 'stream') {
    await writeInPlace(path, target, data);
    return { file: target.path, direct: true };
  }
  const file = target.path;
  const step = options.beforeStep ?? (() => {});
  const dir = dirname(file);
  const tmp = join(dir, `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: fs.FileHandle | undefined;
  let result: WriteResult = { file };
  try {
    step('open-temp');
    handle = await fs.open(tmp, 'wx', options.mode ?? 0o644);
    if (target.kind === 'file') await keepModeAndOwner(handle, file, target.stat);
    step('write-temp');
    await handle.writeFile(data);
    step('fsync-temp');
    await handle.sync();
    step('close-temp');
    await handle.close();
    handle = undefined;
    if (options.backup ?? true) {
      step('backup');
      result = { file, ...(await backupExisting(file)) };
    }
    step('rename');
    await fs.rename(tmp, file);
    step('fsync-dir');
    await fsyncDir(dir);
    return result;
  } catch (error) {
    await handle?.close().catch(() => {});
    await fs.rm(tmp, { force: true }).catch(() => {});
    if (error instanceof SpoError) throw error;
    throw writeFailed(path, error, dir);
  }
}

/** What an output path names, once symlinks are followed. */
export type OutputTarget =
  /** Nothing there yet: a new regular file at `path` (a dangling link's target). */
  | { kind: 'new'; path: string }
  /** An existing regular file, replaced atomically; its mode and owner are kept. */
  | { kind: 'file'; path: string; stat: Stats }
  /** A character device or a FIFO (a terminal, /dev/null, a pipe): written to in place, never replaced. */
  | { kind: 'stream'; path: string; fifo: boolean }
  /** This process's standard output or error (fd 1 or 2) under another name, such as /dev/stdout. */
  | { kind: 'stdio'; path: string; fd: 1 | 2 };

/**
 * Resolves what `path` names for writing, refusing what spo must not write: a folder, a socket, a
 * block device, a read-only file, a file of another user. A symlink is followed to its target (so
 * the link stays a link); `/dev/stdout` and the like resolve to the stream they stand for.
 */
export async function outputTarget(path: string): Promise<OutputTarget> {
  let st: Stats;
  let real = path;
  try {
    st = await fs.stat(path);
    real = await fs.realpath(path).catch(() => path); // /proc/self/fd/N of a pipe has no real path
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw writeFailed(path, error, dirname(path));
    return { kind: 'new', path: await danglingTarget(path) };
  }
  const refuse = (what: string): SpoError =>
    new SpoError('WRITE_FAILED', `cannot write ${path}: it is ${what}, not a file`, {
      hint: 'give --out a file path (or - for standard output)',
      details: { file: path },
    });
  // /dev/stdout, /dev/fd/2, a link to them: the process's own standard output or error, whatever
  // it is (a pipe, a socket, a terminal, a file the shell opened), written through the stream
  const stdio = sameFile(st, 1) ? 1 : sameFile(st, 2) ? 2 : undefined;
  if (stdio !== undefined) return { kind: 'stdio', path, fd: stdio };
  if (st.isDirectory()) throw refuse('a folder');
  if (st.isSocket()) throw refuse('a socket');
  if (st.isBlockDevice()) throw refuse('a block device');
  if (st.isCharacterDevice() || st.isFIFO()) return { kind: 'stream', path: real, fifo: st.isFIFO() };
  const mode = st.mode & 0o7777;
  // root may write anything: the file's own mode says whether it is meant to be written
  const readOnly =
    (mode & 0o222) === 0 ||
    !(await fs.access(real, constants.W_OK).then(
      () => true,
      () => false,
    ));
  if (readOnly) {
    throw new SpoError(
      'WRITE_READ_ONLY',
      `${real === path ? path : `${path} (${real})`} is read-only (mode ${mode.toString(8).padStart(4, '0')}): spo does not replace it`,
      {
        hint: `make it writable first (chmod u+w ${real}) or choose another --out`,
        details: { file: path, target: real, mode },
      },
    );
  }
  return { kind: 'file', path: real, stat: st };
}

/** The path a dangling symlink points to (a chain followed, at most 40 links as the kernel does); the path itself otherwise. */
async function danglingTarget(path: string): Promise<string> {
  let current = path;
  for (let hops = 0; hops < 40; hops++) {
    const link = await fs.readlink(current).catch(() => undefined);
    if (link === undefined) return current;
    current = isAbsolute(link) ? link : resolve(dirname(current), link);
  }
  throw new SpoError('WRITE_FAILED', `cannot write ${path}: too many levels of symbolic links`, {
    details: { file: path },
  });
}

/** The replacement keeps the mode and owner of the file it replaces (a 0600 file stays 0600). */
async function keepModeAndOwner(handle: fs.FileHandle, file: string, st: Stats): Promise<void> {
  await handle.chmod(st.mode & 0o7777);
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  if (uid === undefined || (st.uid === uid && st.gid === gid)) return;
  try {
    await handle.chown(st.uid, st.gid);
  } catch (error) {
    // the group may be one we are not in: the file stays ours, in our group. Another user's file, never.
    if (st.uid === uid) return;
    throw new SpoError(
      'WRITE_FAILED',
      `cannot write ${file}: it belongs to another user (uid ${st.uid}), and replacing it would make it ours (${describeError(error)})`,
      {
        hint: 'run as the owner of the file, or choose another --out',
        details: { file, uid: st.uid },
      },
    );
  }
}

const openRaw = promisify(openFd);

/** True when `st` is the file open as descriptor `fd` (same device and inode). */
function sameFile(st: Stats, fd: number): boolean {
  try {
    const own = fstatSync(fd);
    return own.dev === st.dev && own.ino === st.ino;
  } catch {
    return false;
  }
}

/** Writes through process.stdout or process.stderr, resolved once the data is handed to the system. */
async function writeStdio(path: string, fd: 1 | 2, data: string | Uint8Array): Promise<void> {
  const stream = fd === 1 ? process.stdout : process.stderr;
  await new Promise<void>((done, fail) => {
    stream.write(data, (error) => (error ? fail(writeFailed(path, error)) : done()));
  });
}

/**
 * Writes to a device or FIFO in place. A FIFO is opened without blocking (no reader: refused, rather
 * than waiting for one forever) and written through a pipe handle, which waits while it is full.
 */
async function writeInPlace(
  path: string,
  target: Extract<OutputTarget, { kind: 'stream' }>,
  data: string | Uint8Array,
): Promise<void> {
  try {
    if (!target.fifo) {
      const handle = await fs.open(path, constants.O_WRONLY | constants.O_APPEND);
      try {
        await handle.writeFile(data);
      } finally {
        await handle.close();
      }
      return;
    }
    let fd: number;
    try {
      fd = await openRaw(path, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENXIO') throw error;
      throw new SpoError('WRITE_FAILED', `${path} is a FIFO with no reader`, {
        hint: 'start the program that reads it first',
        details: { file: path },
      });
    }
    const pipe = new Socket({ fd, readable: false, writable: true });
    await new Promise<void>((done, fail) => {
      pipe.once('error', fail);
      pipe.end(data, () => done());
    });
    pipe.destroy();
  } catch (error) {
    if (error instanceof SpoError) throw error;
    throw writeFailed(path, error);
  }
}

/** WRITE_FAILED naming the file, with a hint that says what is wrong (a full disk, a folder we may not write...). */
function writeFailed(path: string, error: unknown, dir?: string): SpoError {
  const code = (error as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOSPC'
      ? 'no space left on the device (ENOSPC)'
      : code === 'EPIPE'
        ? 'the reader went away (EPIPE)'
        : describeError(error);
  const hint =
    code === 'ENOSPC'
      ? 'free some space, or choose another --out; the previous file, if any, is untouched'
      : code === 'ENOENT' && dir !== undefined
        ? `the folder ${dir} does not exist: create it, or choose another --out`
        : (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') && dir !== undefined
          ? `the folder ${dir} is not writable (${code}): choose another --out, or make the folder writable; the previous file, if any, is untouched`
          : 'the previous file, if any, is untouched';
  return new SpoError('WRITE_FAILED', `could not write ${path}: ${why}`, {
    hint,
    cause: error,
    details: { file: path },
  });
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
