import { constants, promises as fs } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describeError, InputError } from './errors.js';

/**
 * Checks up front that `out` can be written: not a folder itself, in a folder that exists and is
 * writable. Commands call it before any long work, so a typo in --out fails at once (exit 2,
 * WRITE_FAILED) and nothing is read, probed or written.
 */
export async function checkOutputPath(out: string): Promise<void> {
  const dir = dirname(resolve(out));
  const fail = (why: string): InputError =>
    new InputError('WRITE_FAILED', `cannot write ${out}: ${why}`, {
      hint: 'create the folder first, or choose another --out',
      details: { file: out },
    });
  const target = await fs.stat(out).catch(() => undefined);
  if (target?.isDirectory()) throw fail(`${out} is a folder`);
  const st = await fs.stat(dir).catch(() => undefined);
  if (!st) throw fail(`the folder ${dir} does not exist`);
  if (!st.isDirectory()) throw fail(`${dir} is not a folder`);
  await fs.access(dir, constants.W_OK).catch((error: unknown) => {
    throw fail(`the folder ${dir} is not writable (${describeError(error)})`);
  });
}
