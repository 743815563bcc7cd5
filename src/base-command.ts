import { Command, Errors, Flags, type Interfaces } from '@oclif/core';
import type { ChalkInstance } from 'chalk';
import { describeError, ExitCode, InterruptedError, isSpoError, SpoError } from './lib/errors.js';
import { NETWORK_NAMES, type NetworkSelection, selectNetwork } from './lib/networks.js';
import { printable } from './lib/sanitize.js';
import { makeChalk, type Palette, palette } from './ui/color.js';
import { createProgress, type Progress } from './ui/progress.js';

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof SpoCommand)['baseFlags'] & T['flags']
>;
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>;

/**
 * The base of every spo command: --json, --network/--magic, colour policy, Ctrl-C through an
 * AbortSignal, and one error format (`spo: what: why` + `hint:`), with the exit codes of docs/CONVENTIONS.md.
 * Commands stay thin: parse, call the core, render.
 */
export abstract class SpoCommand extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    network: Flags.string({
      description: 'network: sets the magic, the Koios URL and the default port',
      options: [...NETWORK_NAMES],
      env: 'SPO_NETWORK',
      helpGroup: 'GLOBAL',
      exclusive: ['magic'],
    }),
    magic: Flags.integer({
      description: 'network magic, for a network that is not one of the presets',
      helpGroup: 'GLOBAL',
      min: 0,
      max: 0xffffffff,
    }),
    color: Flags.boolean({
      description: 'colour output (--color forces it even when piped; default: TTY only, not under NO_COLOR)',
      allowNo: true,
      helpGroup: 'GLOBAL',
    }),
  };

  /** Aborted on SIGINT/SIGTERM; pass it to every long operation. */
  protected readonly abort = new AbortController();
  protected get signal(): AbortSignal {
    return this.abort.signal;
  }
  protected network!: NetworkSelection;
  protected chalk!: ChalkInstance;
  protected c!: Palette;
  private colorFlag: boolean | undefined;
  private readonly onSignal = (): void => {
    if (this.abort.signal.aborted) process.exit(ExitCode.interrupted); // second Ctrl-C: leave now
    this.abort.abort(new InterruptedError());
  };

  override async init(): Promise<void> {
    await super.init();
    // `on`, not `once`: the second signal must reach onSignal too (exit 130 at once). With `once`
    // no listener is left after the first, and Node's default action kills the process by the
    // signal instead (no exit code, no cleanup) while it is still closing.
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
    const { flags } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (this.ctor as typeof SpoCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    });
    const f = flags as { network?: string; magic?: number; color?: boolean };
    this.colorFlag = f.color;
    this.chalk = makeChalk(process.stdout, f.color);
    this.c = palette(this.chalk);
    this.network = selectNetwork(f.network, f.magic);
  }

  /** Colours for standard error (may differ from stdout when one is piped). */
  protected stderrPalette(): Palette {
    return palette(makeChalk(process.stderr, this.colorFlag));
  }

  /** A progress display on stderr that stays silent under --json. */
  protected progress(quiet = false): Progress {
    return createProgress({ silent: quiet || this.jsonEnabled() });
  }

  /** Writes text to stdout without oclif's formatting (tables, exported files). */
  protected out(text: string): void {
    if (!this.jsonEnabled()) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Warnings go to stderr and never into --json output. */
  protected note(text: string): void {
    if (!this.jsonEnabled()) process.stderr.write(`${this.stderrPalette().warn('warning:')} ${text}\n`);
  }

  override logJson(json: unknown): void {
    // Plain, stable JSON: oclif's colorizer would put ANSI codes in front of machine readers.
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  }

  override async catch(error: Error & { exitCode?: number }): Promise<void> {
    const err = toSpoError(error, this.abort.signal);
    process.exitCode = err.exitCode;
    if (this.jsonEnabled()) {
      this.logJson({ error: err.toJSON() });
    } else {
      const p = this.stderrPalette();
      // messages quote names and bytes from files and servers: escapes are shown, never sent
      process.stderr.write(`${p.fail('spo:')} ${printable(err.message)}\n`);
      if (err.hint) process.stderr.write(`${p.dim('hint:')} ${printable(err.hint)}\n`);
      if (process.env.DEBUG && error.stack) process.stderr.write(`${error.stack}\n`);
    }
    // ExitError tells oclif's handler to exit quietly with our code.
    throw new Errors.ExitError(err.exitCode);
  }

  override async finally(error: Error | undefined): Promise<void> {
    process.removeListener('SIGINT', this.onSignal);
    process.removeListener('SIGTERM', this.onSignal);
    await super.finally(error);
  }
}

/** Maps anything thrown to a SpoError: parse errors become usage errors (exit 2), aborts exit 130. */
export function toSpoError(error: unknown, signal?: AbortSignal): SpoError {
  if (isSpoError(error)) return error;
  if (signal?.aborted && signal.reason instanceof InterruptedError) return signal.reason;
  if (error instanceof Errors.CLIError) {
    const isParse =
      error.oclif?.exit === ExitCode.usage ||
      /Parse|Flag|Arg/.test(error.constructor.name) ||
      /flag|argument|^Parsing --|^The following errors? occurred/i.test(error.message);
    if (isParse) {
      return new SpoError('USAGE', oneLine(error.message), {
        exitCode: ExitCode.usage,
        hint: 'see --help for the flags and examples',
      });
    }
    return new SpoError('FAILED', error.message, {
      exitCode: (error.oclif?.exit as ExitCode | undefined) ?? ExitCode.failed,
    });
  }
  return new SpoError('INTERNAL', describeError(error), {
    hint: 'this is a bug in spo; run with DEBUG=1 for the stack trace and report it',
    cause: error,
  });
}

/**
 * oclif's parse errors span several lines ("Missing 1 required arg:\nfile  the topology file\nSee more
 * help with --help"); the convention is one line, so the names are folded onto the first.
 */
function oneLine(message: string): string {
  const lines = message
    .replace(/^Error: /, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^See more help/i.test(l));
  const note = lines.findIndex((l) => /^(Note|Alternatively)\b/.test(l));
  if (note >= 0) lines.splice(note);
  if (/^The following errors? occurred:?$/i.test(lines[0] ?? '')) lines.shift();
  const [first = message.trim(), ...rest] = lines;
  if (rest.length === 0) return first.replace(/^The following errors? occurred:\s*/i, '');
  // "Missing 1 required arg:" is followed by "name  description" rows: keep the names.
  const parts = /^Missing \d+ required arg/i.test(first) ? rest.map((l) => l.split(/\s{2,}/)[0] ?? l) : rest;
  return `${first.replace(/:$/, '')}: ${parts.join(first.endsWith(':') ? ', ' : '; ')}`;
}
