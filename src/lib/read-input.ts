import { readFile } from 'node:fs/promises';
import { describeError, SpoError } from './errors.js';

/** Reads a file, or standard input when path is `-`, with errors that name the file. */
export async function readInput(path: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  if (path === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new SpoError('FILE_NOT_FOUND', `${path}: no such file`, {
        hint: 'check the path; use - to read standard input',
        details: { file: path },
      });
    }
    if (code === 'EISDIR') {
      throw new SpoError('FILE_IS_DIRECTORY', `${path}: is a directory, expected a file`, { details: { file: path } });
    }
    throw new SpoError('FILE_UNREADABLE', `${path}: ${describeError(error)}`, { details: { file: path } });
  }
}

/** Parses JSON with an error that names the file and the position. */
export function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    // JSON.parse's "Unexpected token '\uFEFF'" does not tell anyone what to do; cardano-node refuses a BOM too.
    const bom = text.charCodeAt(0) === 0xfeff;
    const why = bom ? 'the file starts with a UTF-8 byte-order mark (BOM)' : describeError(error);
    throw new SpoError('INVALID_JSON', `${file}: invalid JSON: ${why}`, {
      hint: bom
        ? 'save the file as UTF-8 without BOM (e.g. `sed -i "1s/^\\xEF\\xBB\\xBF//" FILE`)'
        : 'the file must be valid JSON; check it with `jq . FILE`',
      details: { file },
    });
  }
}
