import { Chalk, type ChalkInstance, supportsColor } from 'chalk';

/**
 * chalk 5 ignores NO_COLOR and only sniffs argv, so the decision is made here, once: an explicit
 * --color or --no-color wins (the flag is the narrower, later choice: `spo ... --color | less -R`);
 * otherwise colour only on a TTY, never under NO_COLOR, FORCE_COLOR=0 honoured.
 */
export function colorLevel(stream: { isTTY?: boolean }, flag: boolean | undefined): 0 | 1 | 2 | 3 {
  if (flag === false) return 0;
  if (flag === true) return supportsColor ? supportsColor.level || 1 : 1;
  const env = process.env;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0;
  if (env.FORCE_COLOR === '0' || env.FORCE_COLOR === 'false') return 0;
  if (!stream.isTTY) return 0;
  if (env.TERM === 'dumb') return 0;
  return supportsColor ? supportsColor.level || 1 : 1;
}

export function makeChalk(stream: { isTTY?: boolean }, flag: boolean | undefined): ChalkInstance {
  return new Chalk({ level: colorLevel(stream, flag) });
}

/** The semantic palette of docs/CONVENTIONS.md: colour is never the only carrier of meaning. */
export interface Palette {
  ok(s: string): string;
  warn(s: string): string;
  fail(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
  accent(s: string): string;
}

export function palette(c: ChalkInstance): Palette {
  return {
    ok: (s) => c.green(s),
    warn: (s) => c.yellow(s),
    fail: (s) => c.red(s),
    dim: (s) => c.dim(s),
    bold: (s) => c.bold(s),
    accent: (s) => c.cyan(s),
  };
}
