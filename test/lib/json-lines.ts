/**
 * A running bin/run.js whose standard output is JSON lines (`spo run --json`, `spo serve --json`,
 * `spo top --json`): each line is parsed as it arrives, and a test waits for the line it needs
 * (`until`) instead of sleeping. Every wait is bounded: it fails with what was awaited, how long,
 * the last line seen and the end of stderr, or at once when the process ends first.
 */
import type { ChildProcess } from 'node:child_process';
import { type CliOptions, type CliResult, runCli } from './cli.js';

/** One line of output; `event` says what it is (`started`, `snapshot`, `listening`, ...). */
export type JsonLine = { event: string } & Record<string, unknown>;

export interface WaitOptions {
  /** Look at lines from this index on (default 0: lines already seen count too). */
  from?: number;
  /** Fail after this long (default: the process's `waitTimeoutMs`). */
  timeoutMs?: number;
}

export interface JsonLinesOptions extends Omit<CliOptions, 'onSpawn'> {
  /** Default bound of each `until` (default 45 s). */
  waitTimeoutMs?: number;
  /** Also called with the child once spawned. */
  onSpawn?: (child: ChildProcess) => void;
}

const STDERR_KEPT = 4_000;
const clip = (text: string, n: number): string => (text.length > n ? `${text.slice(0, n)}...` : text);

/**
 * `L` is what the lines are known to be (default any object with an `event`); a test of `spo run`
 * gives the node's event and snapshot types, so that `until` narrows to them.
 */
export class JsonLinesProcess<L extends { event: string } = JsonLine> {
  /** Every line printed so far, parsed. */
  readonly lines: L[] = [];
  /** Resolves when the process has ended (runCli's result: code, signal, all of stdout and stderr). */
  readonly done: Promise<CliResult>;
  readonly child: ChildProcess;
  /** Set once the process has ended. */
  result: CliResult | undefined;
  private readonly waitTimeoutMs: number;
  private readonly waiters = new Set<() => void>();
  private partial = '';
  private stderrTail = '';
  /** The first line that was not JSON: --json output must be nothing else, so every wait fails. */
  private malformed: string | undefined;
  private failure: Error | undefined;

  constructor(
    readonly name: string,
    args: readonly string[],
    options: JsonLinesOptions = {},
  ) {
    this.waitTimeoutMs = options.waitTimeoutMs ?? 45_000;
    let spawned: ChildProcess | undefined;
    this.done = runCli(args, {
      timeoutMs: 180_000,
      ...options,
      onSpawn: (child) => {
        spawned = child;
        child.stdout?.on('data', (d: Buffer | string) => this.feed(String(d)));
        child.stderr?.on('data', (d: Buffer | string) => {
          this.stderrTail = (this.stderrTail + String(d)).slice(-STDERR_KEPT);
        });
        options.onSpawn?.(child);
      },
    });
    if (!spawned) throw new Error(`${name}: runCli did not spawn`);
    this.child = spawned;
    this.done.then(
      (r) => {
        this.result = r;
        this.poke();
      },
      (e: unknown) => {
        this.failure = e instanceof Error ? e : new Error(String(e));
        this.poke();
      },
    );
  }

  /** The process id (defined once spawned). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Still running (not exited, not killed). */
  get running(): boolean {
    return this.result === undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends a signal if the process still runs. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.running) this.child.kill(signal);
  }

  /** Ends the process if it still runs (SIGKILL by default) and waits for it: for afterAll. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<CliResult | undefined> {
    this.kill(signal);
    return this.done.catch(() => undefined);
  }

  /** The lines whose `event` is `event`. */
  linesOf<T extends L = L>(event: string): T[] {
    return this.lines.filter((l) => l.event === event) as T[];
  }

  /**
   * The first line (from `from` on) that satisfies `pred`. Rejects when the process ends first,
   * when a line is not JSON, or after the timeout, saying which of these and what was awaited.
   */
  until<T extends L>(what: string, pred: (l: L) => l is T, options?: WaitOptions): Promise<T>;
  until(what: string, pred: (l: L) => boolean, options?: WaitOptions): Promise<L>;
  until(what: string, pred: (l: L) => boolean, options: WaitOptions = {}): Promise<L> {
    let next = options.from ?? 0;
    const timeoutMs = options.timeoutMs ?? this.waitTimeoutMs;
    return new Promise<L>((resolve, reject) => {
      const finish = (outcome: () => void): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        outcome();
      };
      const check = (): void => {
        for (; next < this.lines.length; next++) {
          const l = this.lines[next] as L;
          if (pred(l)) {
            finish(() => resolve(l));
            return;
          }
        }
        if (this.malformed !== undefined) {
          const bad = this.malformed;
          finish(() =>
            reject(new Error(`${this.name}: a line that is not JSON, waiting for ${what}: ${clip(bad, 500)}`)),
          );
        } else if (this.failure) {
          const f = this.failure;
          finish(() => reject(new Error(`${this.name}: could not run, waiting for ${what}: ${f.message}`)));
        } else if (this.result) {
          const r = this.result;
          finish(() =>
            reject(
              new Error(
                `${this.name} ended (code ${r.code}, signal ${r.signal}) before ${what}\nstderr:\n${r.stderr.slice(-2000)}`,
              ),
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        const last = this.lines.at(-1);
        finish(() =>
          reject(
            new Error(
              `${this.name}: no ${what} within ${timeoutMs} ms (${this.lines.length} lines; the last: ${
                last === undefined ? 'none' : clip(JSON.stringify(last), 800)
              })\nstderr:\n${this.stderrTail.slice(-2000)}`,
            ),
          ),
        );
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  private feed(text: string): void {
    this.partial += text;
    for (let i = this.partial.indexOf('\n'); i >= 0; i = this.partial.indexOf('\n')) {
      const line = this.partial.slice(0, i);
      this.partial = this.partial.slice(i + 1);
      if (line.trim() === '') continue;
      try {
        this.lines.push(JSON.parse(line) as L);
      } catch {
        this.malformed ??= line;
      }
    }
    this.poke();
  }

  private poke(): void {
    for (const w of [...this.waiters]) w();
  }
}
