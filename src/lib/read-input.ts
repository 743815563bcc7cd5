import { open } from 'node:fs/promises';
import { addAbortSignal } from 'node:stream';
import { describeError, SpoError } from './errors.js';

/**
 * The most spo reads from one input (a file or standard input): far more than any registry file
 * (cardano-cli's pool-state of every mainnet pool is a few MiB), far less than what would exhaust
 * the heap while it is parsed and checked.
 */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;
/** The most spo reads as a topology: real ones are kilobytes; migrating and diffing cost many times the size. */
export const MAX_TOPOLOGY_BYTES = 16 * 1024 * 1024;

export interface ReadInputOptions {
  /** Standard input, for `-` (tests). */
  stdin?: NodeJS.ReadableStream | undefined;
  /** Ends the read (with the signal's reason) when aborted: Ctrl-C while standard input trickles. */
  signal?: AbortSignal | undefined;
  /** The most bytes read (default MAX_INPUT_BYTES); more is INPUT_TOO_LARGE. */
  maxBytes?: number;
  /** What the input is, for the size message (default "from one input"). */
  as?: string;
}

/** How a topology is read: at most MAX_TOPOLOGY_BYTES, ended by the command's signal. */
export function topologyInput(signal?: AbortSignal): ReadInputOptions {
  return { signal, maxBytes: MAX_TOPOLOGY_BYTES, as: 'a topology' };
}

/**
 * Reads a file, or standard input when path is `-`, with errors that name the file. A file larger
 * than the limit is refused before it is read; anything else (standard input, a device, a FIFO) is
 * read counting bytes and stops at the limit.
 */
export async function readInput(path: string, options: ReadInputOptions | NodeJS.ReadableStream = {}): Promise<string> {
  const o: ReadInputOptions = isStream(options) ? { stdin: options } : options;
  const max = o.maxBytes ?? MAX_INPUT_BYTES;
  const what = o.as === undefined ? 'from one input' : `as ${o.as}`;
  o.signal?.throwIfAborted();
  if (path === '-') return readCapped(o.stdin ?? process.stdin, '(stdin)', max, what, o.signal);
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, 'r');
    const st = await handle.stat();
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (st.isFile() && st.size > max) {
      throw new SpoError(
        'INPUT_TOO_LARGE',
        `${path}: ${mib(st.size)}, more than ${mib(max)}, the most spo reads ${what}; not read`,
        {
          hint: 'check that this is the file you meant',
          details: { file: path, bytes: st.size, limitBytes: max },
        },
      );
    }
    return await readCapped(handle.createReadStream({ autoClose: false }), path, max, what, o.signal);
  } catch (error) {
    if (error instanceof SpoError || o.signal?.aborted) throw error;
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
  } finally {
    await handle?.close().catch(() => {});
  }
}

function isStream(v: ReadInputOptions | NodeJS.ReadableStream): v is NodeJS.ReadableStream {
  return typeof (v as NodeJS.ReadableStream).pipe === 'function';
}

/** Reads a stream to text, counting bytes: past `max` it stops (INPUT_TOO_LARGE); an abort ends it at once. */
async function readCapped(
  stream: NodeJS.ReadableStream,
  label: string,
  max: number,
  what: string,
  signal: AbortSignal | undefined,
): Promise<string> {
  // addAbortSignal destroys the stream when the signal fires, which ends the loop below
  if (signal && 'destroy' in stream)
    addAbortSignal(signal, stream as unknown as NodeJS.ReadableStream & import('node:stream').Readable);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      size += buf.length;
      if (size > max) {
        throw new SpoError(
          'INPUT_TOO_LARGE',
          `${label}: more than ${mib(max)}, the most spo reads ${what}; stopped reading`,
          {
            hint: 'check that this is the input you meant',
            details: { file: label, limitBytes: max },
          },
        );
      }
      chunks.push(buf);
    }
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw error;
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

/** Bytes in MiB for messages: whole when whole, else one decimal. */
function mib(bytes: number): string {
  const m = bytes / (1024 * 1024);
  return `${Number.isInteger(m) ? m : m.toFixed(1)} MiB`;
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
