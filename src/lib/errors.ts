/**
 * Typed errors. Every failure a user can meet is a SpoError with a stable code (shown in --json),
 * a one-line message naming what failed, and when possible a hint saying what to do.
 */

/** Exit codes shared by every command (docs/CONVENTIONS.md). */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface SpoErrorOptions {
  hint?: string | undefined;
  exitCode?: ExitCode;
  cause?: unknown;
  /** Extra machine-readable facts (file, field, address...) for --json. */
  details?: Record<string, unknown>;
}

export class SpoError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly exitCode: ExitCode;
  readonly details: Record<string, unknown>;

  constructor(code: string, message: string, options: SpoErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SpoError';
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ExitCode.failed;
    this.details = options.details ?? {};
  }

  toJSON(): { code: string; message: string; hint?: string; details?: Record<string, unknown> } {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint === undefined ? {} : { hint: this.hint }),
      ...(Object.keys(this.details).length === 0 ? {} : { details: this.details }),
    };
  }
}

/**
 * A value handed to library code cannot be used: a malformed address, duration, network or DNS
 * server, a source that cannot be read as asked, options that do not go together. Library code
 * throws this (or a domain error), never `UsageError`. It exits 2 like a usage error, since in
 * the CLI such values come from flags and arguments; a caller that read the value from a file can
 * catch it and say so.
 */
export class InputError extends SpoError {
  constructor(code: string, message: string, options: Omit<SpoErrorOptions, 'exitCode'> = {}) {
    super(code, message, { ...options, exitCode: ExitCode.usage });
    this.name = 'InputError';
  }
}

/** A usage error: bad flag value or argument (exit code 2). For commands only; library code throws InputError. */
export class UsageError extends SpoError {
  constructor(code: string, message: string, options: Omit<SpoErrorOptions, 'exitCode'> = {}) {
    super(code, message, { ...options, exitCode: ExitCode.usage });
    this.name = 'UsageError';
  }
}

/** Raised when an AbortSignal fired because the user interrupted (Ctrl-C). */
export class InterruptedError extends SpoError {
  constructor() {
    super('INTERRUPTED', 'interrupted', { exitCode: ExitCode.interrupted });
    this.name = 'InterruptedError';
  }
}

export function isSpoError(error: unknown): error is SpoError {
  return error instanceof SpoError;
}

/** A short description of any thrown value, for wrapping foreign errors. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}
