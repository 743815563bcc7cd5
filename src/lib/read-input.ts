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

/**
 * How deep JSON may nest: far deeper than any topology, registry or configuration file (they nest
 * fewer than 10 levels), far shallower than what would overflow the stack of the code that walks a
 * parsed value (JSON.stringify, the parsers' checks).
 */
export const MAX_JSON_DEPTH = 512;

/** True when `text` opens more than `max` arrays or objects inside each other (strings are skipped). */
export function nestsDeeperThan(text: string, max: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** Parses JSON with an error that names the file and the position. */
export function parseJsonText(text: string, file: string): unknown {
  if (nestsDeeperThan(text)) {
    throw new SpoError(
      'INPUT_TOO_DEEP',
      `${file}: values nested deeper than ${MAX_JSON_DEPTH} levels; no real file does`,
      {
        hint: 'check that this is the file you meant (a topology or registry file nests a few levels)',
        details: { file, maxDepth: MAX_JSON_DEPTH },
      },
    );
  }
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
