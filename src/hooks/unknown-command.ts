/**
 * "Did you mean": one answer, in spo's error format, for a mistyped command (`spo pign`), a
 * mistyped subcommand (`spo relays lsit`) and a mistyped help subject (`spo help nosuch`). Used by
 * the command_not_found hook and by the help class, which oclif would otherwise answer in three
 * different ways (a mangled id, the top-level topics, oclif's own error box).
 */
import type { Interfaces } from '@oclif/core';
import { ExitCode, SpoError } from '../lib/errors.js';
import { printable } from '../lib/sanitize.js';

/**
 * The command words typed (before the first flag), walked against the known topics and commands:
 * the error for the first word that is neither, undefined when they name a command or a topic.
 */
export function unknownCommand(config: Interfaces.Config, argv: readonly string[]): SpoError | undefined {
  const ids = config.commands.filter((c) => !c.hidden).map((c) => c.id);
  const prefix: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const word = argv[i] as string;
    if (word === '--' || word.startsWith('-')) return undefined;
    const id = [...prefix, word].join(':');
    if (ids.includes(id)) return undefined; // a command: what follows are its arguments
    if (!ids.some((c) => c.startsWith(`${id}:`))) break;
    prefix.push(word);
  }
  if (i >= argv.length) return undefined; // a topic (or nothing): its help lists it
  const typo = argv[i] as string;
  const parent = prefix.join(':');
  const children = [
    ...new Set(
      ids.filter((c) => parent === '' || c.startsWith(`${parent}:`)).map((c) => c.split(':')[prefix.length] as string),
    ),
  ].sort();
  const typed = [...prefix, typo].join(' ');
  const best = closest(typo, children);
  const rest = argv.slice(i + 1).map(shellWord);
  const listing =
    parent === ''
      ? `commands and topics: ${children.join(', ')}`
      : `${prefix.join(' ')} commands: ${children.join(', ')}`;
  const suggestion = best === undefined ? undefined : [...prefix, best].join(' ');
  let hint: string;
  if (suggestion === undefined) hint = `run spo ${prefix.length > 0 ? `${prefix.join(' ')} ` : ''}--help; ${listing}`;
  else hint = `did you mean "spo ${[suggestion, ...rest].join(' ')}"?${parent === '' ? '' : ` ${listing}`}`;
  return new SpoError('UNKNOWN_COMMAND', `unknown command "${typed}"`, {
    hint,
    exitCode: ExitCode.usage,
    details: { command: typed, ...(suggestion === undefined ? {} : { suggestion }) },
  });
}

/**
 * Why oclif found no command for these words when they do start with one: a command without
 * arguments was given some (`spo relays list lsit`), or the line starts with an unknown flag.
 */
export function unexpectedWords(config: Interfaces.Config, argv: readonly string[]): SpoError {
  const ids = config.commands.filter((c) => !c.hidden).map((c) => c.id);
  const first = argv[0] ?? '';
  if (first.startsWith('-')) {
    const flag = closest(first, ['--help', '--version']);
    return new SpoError('USAGE', `unknown flag "${first}"`, {
      hint: flag === undefined ? 'run spo --help' : `did you mean "spo ${flag}"?`,
      exitCode: ExitCode.usage,
    });
  }
  for (let n = argv.length; n > 0; n--) {
    const words = argv.slice(0, n);
    if (!ids.includes(words.join(':'))) continue;
    const extra = argv.slice(n).filter((w) => !w.startsWith('-'));
    const command = words.join(' ');
    return new SpoError(
      'USAGE',
      `unexpected argument${extra.length === 1 ? '' : 's'} for spo ${command}: ${extra.join(' ')}`,
      {
        hint: `spo ${command} takes no arguments; see spo ${command} --help`,
        exitCode: ExitCode.usage,
      },
    );
  }
  return new SpoError('UNKNOWN_COMMAND', `unknown command "${argv.join(' ')}"`, {
    hint: 'run spo --help',
    exitCode: ExitCode.usage,
  });
}

/** Prints the error as every command does (JSON on stdout under --json) and exits 2. */
export function reportUnknownCommand(error: SpoError, argv: readonly string[]): never {
  if (argv.includes('--json')) process.stdout.write(`${JSON.stringify({ error: error.toJSON() }, null, 2)}\n`);
  // The words come from the command line: escape control characters as every error line does.
  else
    process.stderr.write(
      `spo: ${printable(error.message)}\n${error.hint === undefined ? '' : `hint: ${printable(error.hint)}\n`}`,
    );
  process.exit(error.exitCode);
}

/** The candidate nearest to `word`, when it is close enough to be a typo of it. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  // one edit in a short word, a third of the letters in a longer one
  return bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

/** Edits (insert, delete, substitute, swap two neighbours) from a to b: "pign" is one swap from "ping". */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const up = d[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min((up[j] as number) + 1, (row[j - 1] as number) + 1, (up[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, ((d[i - 2] as number[])[j - 2] as number) + 1);
      }
      row[j] = v;
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
