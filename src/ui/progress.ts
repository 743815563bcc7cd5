import type { Ora } from 'ora';

/** A progress display on standard error: an ora spinner on an interactive TTY, plain lines otherwise, nothing when silent. */
export interface Progress {
  start(text: string): void;
  update(text: string): void;
  succeed(text?: string): void;
  fail(text?: string): void;
  stop(): void;
}

export interface ProgressOptions {
  /** No output at all (--json, --quiet). */
  silent: boolean;
  stream?: NodeJS.WriteStream;
}

export function isInteractive(stream: NodeJS.WriteStream = process.stderr): boolean {
  // ora loops forever on a 0-column PTY (architecture.md §2.9), so such a terminal counts as non-interactive.
  return (
    Boolean(stream.isTTY) && (stream.columns ?? 0) > 0 && process.env.CI === undefined && process.env.TERM !== 'dumb'
  );
}

export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.silent) return { start() {}, update() {}, succeed() {}, fail() {}, stop() {} };
  if (isInteractive(stream)) {
    // ora is loaded on first use: importing it costs ~60 ms of start-up that most runs never need.
    let spinner: Ora | undefined;
    let text = '';
    let done: { ok: boolean; text: string | undefined } | 'stopped' | undefined;
    const finish = (s: Ora): void => {
      if (done === 'stopped') s.stop();
      else if (done?.ok) s.succeed(done.text);
      else if (done) s.fail(done.text);
    };
    return {
      start(initial) {
        text = initial;
        void import('ora').then(({ default: ora }) => {
          spinner = ora({ text, stream, discardStdin: false }).start();
          if (done) finish(spinner);
        });
      },
      update(next) {
        text = next;
        if (spinner) spinner.text = next;
      },
      succeed(final) {
        done = { ok: true, text: final };
        if (spinner) finish(spinner);
      },
      fail(final) {
        done = { ok: false, text: final };
        if (spinner) finish(spinner);
      },
      stop() {
        done = 'stopped';
        if (spinner) finish(spinner);
      },
    };
  }
  // Plain lines, rate-limited so a long job does not flood a log file.
  let last = 0;
  const line = (s: string): void => {
    stream.write(`${s}\n`);
  };
  return {
    start(text) {
      line(text);
      last = performance.now();
    },
    update(text) {
      const now = performance.now();
      if (now - last >= 5000) {
        line(text);
        last = now;
      }
    },
    succeed(text) {
      if (text) line(text);
    },
    fail(text) {
      if (text) line(text);
    },
    stop() {},
  };
}
