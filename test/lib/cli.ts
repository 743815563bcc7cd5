import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** With `measure`: the child's peak RSS in KiB (its own maxRSS, or the watchdog's highest reading if it was killed). */
  peakRssKiB?: number;
  /** With `rssLimitKiB`: true when the watchdog killed the child for passing the limit. */
  rssLimitHit?: boolean;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  input?: string;
  timeoutMs?: number;
  cwd?: string;
  /** Called with the child once spawned (to send signals, read output as it comes). */
  onSpawn?: (child: import('node:child_process').ChildProcess) => void;
  /** Standard input from this file (e.g. /dev/zero) instead of a pipe. */
  stdinFile?: string;
  /** Leave the stdin pipe open (onSpawn writes to it and ends it). */
  openStdin?: boolean;
  /** Run the child as this user and group (root only). */
  uid?: number;
  gid?: number;
  /** Node options for the child (`--max-old-space-size=...`, `--expose-gc`). */
  nodeArgs?: string[];
  /** Report the child's peak RSS (`peakRssKiB`), through test/lib/measure-preload.mjs. */
  measure?: boolean;
  /** Kill the child (SIGKILL) when its RSS passes this many KiB: a test of unbounded growth caps itself. */
  rssLimitKiB?: number;
  /** With `measure`: a full garbage collection in the child this often (needs --expose-gc in nodeArgs). */
  gcEveryMs?: number;
}

const PRELOAD = fileURLToPath(new URL('./measure-preload.mjs', import.meta.url));

/** The resident set size of a live process in KiB, from /proc (undefined once it is gone). */
function rssKiB(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Runs the real built binary (bin/run.js) as a user would, with a hard timeout. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const started = performance.now();
  const measureDir = options.measure ? mkdtempSync(join(tmpdir(), 'spo-measure-')) : undefined;
  const rssFile = measureDir ? join(measureDir, 'maxrss') : undefined;
  const nodeArgs = [...(options.nodeArgs ?? []), ...(options.measure ? ['--import', PRELOAD] : [])];
  const stdinFd = options.stdinFile === undefined ? undefined : openSync(options.stdinFile, 'r');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, BIN, ...args], {
      cwd: options.cwd ?? ROOT,
      env: {
        ...process.env,
        FORCE_COLOR: '0',
        NO_COLOR: '1',
        CI: 'true',
        ...(rssFile ? { SPO_TEST_RSS_FILE: rssFile } : {}),
        ...(options.gcEveryMs ? { SPO_TEST_GC_EVERY_MS: String(options.gcEveryMs) } : {}),
        ...options.env,
      },
      stdio: [stdinFd ?? 'pipe', 'pipe', 'pipe'],
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      ...(options.gid === undefined ? {} : { gid: options.gid }),
    });
    if (stdinFd !== undefined) closeSync(stdinFd); // the child has its own copy
    // The watchdog samples; it only bounds a run that would otherwise grow without limit.
    let watchedPeak = 0;
    let rssLimitHit = false;
    const watchdog =
      options.rssLimitKiB !== undefined || options.measure
        ? setInterval(() => {
            const rss = child.pid === undefined ? undefined : rssKiB(child.pid);
            if (rss === undefined) return;
            watchedPeak = Math.max(watchedPeak, rss);
            if (options.rssLimitKiB !== undefined && rss > options.rssLimitKiB) {
              rssLimitHit = true;
              child.kill('SIGKILL');
            }
          }, 25)
        : undefined;
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (watchdog) clearInterval(watchdog);
      const result: CliResult = { code, signal, stdout, stderr, ms: performance.now() - started };
      if (rssFile && measureDir) {
        let own: number | undefined;
        try {
          own = Number(readFileSync(rssFile, 'utf8'));
        } catch {
          own = undefined; // killed before it could report
        }
        rmSync(measureDir, { recursive: true, force: true });
        result.peakRssKiB = Math.max(own ?? 0, watchedPeak);
      }
      if (options.rssLimitKiB !== undefined) result.rssLimitHit = rssLimitHit;
      resolve(result);
    });
    options.onSpawn?.(child);
    if (options.input !== undefined) child.stdin?.end(options.input);
    else if (!options.openStdin) child.stdin?.end();
  });
}

/** Parses the single JSON document a --json command prints on stdout. */
export function parseJsonOutput<T = unknown>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document:\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
}

/** Node code that runs argv[1] on a pseudo-terminal through script(1) and exits with its exit code. */
export const PTY_RUNNER = `try { require('child_process').execFileSync('script', ['-qfec', process.argv[1], '/dev/null'], {stdio: 'inherit'}) } catch (e) { process.exitCode = e.status ?? 1 }`;

/** script(1) is there (util-linux): the terminal tests run only then. */
export const HAS_SCRIPT = (() => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/**
 * An `onSpawn` for a command run under PTY_RUNNER: once `ready(output so far)` holds, types Ctrl-C
 * on the terminal (which turns it into SIGINT for spo), once.
 */
export function typeCtrlCWhen(ready: (out: string) => boolean): (child: ChildProcess) => void {
  return (child) => {
    let out = '';
    let sent = false;
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      if (!sent && ready(out)) {
        sent = true;
        child.stdin?.write('\x03');
      }
    });
  };
}

/** The process `pid` exists (signal 0 checks without sending anything). */
export function processAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
