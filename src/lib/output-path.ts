import { constants, promises as fs } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { type OutputTarget, outputTarget } from './atomic-write.js';
import { InputError, SpoError } from './errors.js';

/**
 * Checks up front that `out` can be written, so that a long run (a remote registry, a probe) fails
 * now rather than after it: what it names is writable (outputTarget: not a folder, socket or
 * read-only file; a symlink followed; a device or FIFO written in place) and, for a file, its folder
 * exists and is writable (the temporary file goes there). Exit 2 like any bad flag (InputError);
 * nothing is read, probed or written.
 */
export async function checkOutputPath(out: string): Promise<void> {
  let target: OutputTarget;
  try {
    target = await outputTarget(out);
  } catch (error) {
    if (!(error instanceof SpoError)) throw error;
    throw new InputError(error.code, error.message, { hint: error.hint, details: error.details });
  }
  if (target.kind === 'stream' || target.kind === 'stdio') return;
  const dir = dirname(resolve(target.path));
  const fail = (why: string, hint: string): InputError =>
    new InputError('WRITE_FAILED', `cannot write ${out}: ${why}`, { hint, details: { file: out } });
  const st = await fs.stat(dir).catch(() => undefined);
  if (!st) throw fail(`the folder ${dir} does not exist`, `create it (mkdir -p ${dir}), or choose another --out`);
  if (!st.isDirectory()) throw fail(`${dir} is not a folder`, 'choose another --out');
  await fs.access(dir, constants.W_OK).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code ?? 'EACCES';
    throw fail(
      `the folder ${dir} is not writable (${code})`,
      `spo writes a temporary file in the folder and renames it over ${basename(target.path)}: choose another --out, or make the folder writable`,
    );
  });
}
