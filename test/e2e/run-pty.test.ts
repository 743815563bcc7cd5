/**
 * `spo run` on a real pseudo-terminal (script(1), util-linux; Debian's bsdutils is Essential), with
 * Ctrl-C typed as a user types it: the byte 0x03 on the terminal, which the terminal turns into
 * SIGINT for the whole foreground process group. Without --json, spo run draws its live table there.
 *
 * - Once: the node stops in order, the last frame keeps the "stopped signal" line, the cursor is
 *   shown again, exit 0, the control socket file removed.
 * - Twice, the second while the node still waits on a hung peer (a `spo serve` local root stopped
 *   with SIGSTOP): exit 130 at once. script(1) reports a death by SIGINT as 130 too, so the test
 *   also asserts what only a real exit does: the control socket file was removed by the process
 *   'exit' hook and the cursor was shown again.
 *
 * Synchronised on what the terminal shows (the peer hot in the table, the listening address) and,
 * for the second Ctrl-C, on the node closing a TCP connection the test holds to it: its shutdown
 * has begun (as in run-signals.test.ts). Every wait is bounded; the node's pid, read from the
 * table, is killed at the end if it is still there.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, type CliResult, HAS_SCRIPT, PTY_RUNNER, processAlive, runCli } from '../lib/cli.js';
import { spoRunArgs } from '../lib/run-args.js';
import { localRootProducerForSuite } from '../lib/run-files.js';

const MAGIC = 42;
const CTRL_C = '\x03';
const CURSOR_HIDE = '\x1b[?25l';
const CURSOR_SHOW = '\x1b[?25h';
const WAIT_MS = 30_000;

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** What the terminal showed, and waits on it. */
class Terminal {
  raw = '';
  /** spo's pid, once the table has shown it. */
  pid: number | undefined;
  private readonly waiters = new Set<() => void>();
  constructor(private readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer | string) => {
      this.raw += d.toString();
      this.pid ??= Number(/spo run +pid (\d+)/.exec(this.text)?.[1] ?? Number.NaN) || undefined;
      for (const w of this.waiters) w();
    });
  }

  /** Ends spo (by the pid it showed) if it still runs: nothing outlives the test. */
  kill(): void {
    if (this.pid !== undefined && processAlive(this.pid)) process.kill(this.pid, 'SIGKILL');
  }

  /** The screen's text without escape sequences. */
  get text(): string {
    return stripVTControlCharacters(this.raw);
  }

  /** Resolves with the first non-undefined `find(text)`; fails after WAIT_MS or when the process ends. */
  until<T>(what: string, find: (text: string) => T | undefined): Promise<T> {
    return new Promise((resolve, reject) => {
      const settle = (fn: () => void): void => {
        this.waiters.delete(check);
        clearTimeout(timer);
        this.child.removeListener('close', onClose);
        fn();
      };
      const check = (): void => {
        const found = find(this.text);
        if (found !== undefined) settle(() => resolve(found));
      };
      const onClose = (): void => settle(() => reject(new Error(`ended before ${what}:\n${this.text.slice(-2000)}`)));
      const timer = setTimeout(
        () => settle(() => reject(new Error(`no ${what} within ${WAIT_MS} ms:\n${this.text.slice(-2000)}`))),
        WAIT_MS,
      );
      this.waiters.add(check);
      this.child.once('close', onClose);
      check();
    });
  }

  type(text: string): void {
    this.child.stdin?.write(text);
  }
}

describe.runIf(HAS_SCRIPT)('spo run on a terminal: Ctrl-C typed once, and twice', () => {
  const lr = localRootProducerForSuite('spo-run-pty-', MAGIC);
  const { dir } = lr;
  const terminals: Terminal[] = [];

  afterAll(() => {
    for (const t of terminals) t.kill();
  });

  /**
   * spo run (its live table: no --json) on a 120x40 pseudo-terminal; `drive` gets the terminal once
   * the table shows the producer hot, with the node's pid and listening address read from it.
   */
  function onTerminal(
    name: string,
    drive: (t: Terminal, node: { pid: number; listening: string }) => Promise<void>,
  ): Promise<{ result: CliResult; terminal: Terminal; driven: Promise<void> }> {
    const argv = spoRunArgs({
      topology: lr.topology,
      control: join(dir, `${name}.sock`),
      magic: MAGIC,
      source: lr.registry,
      allowEmpty: true,
      seed: 1,
      json: false,
    });
    // a new pseudo-terminal has no size, and the table is clipped to the terminal's height
    const cmd = `stty cols 120 rows 40; exec ${[process.execPath, BIN, ...argv].map(quote).join(' ')}`;
    let terminal: Terminal | undefined;
    let driven: Promise<void> = Promise.resolve();
    const escapedRoot = lr.root.replace(/\./g, '\\.');
    return runCli([], {
      openStdin: true,
      timeoutMs: 60_000,
      nodeArgs: ['-e', PTY_RUNNER, cmd],
      onSpawn: (child) => {
        const t = new Terminal(child);
        terminal = t;
        terminals.push(t);
        driven = (async () => {
          const node = await t.until('the producer hot in the table', (text) => {
            if (!new RegExp(`^${escapedRoot} +\\S+ +local-root #0 +hot `, 'm').test(text)) return undefined;
            const head = /spo run +pid (\d+) +listening (\S+)/.exec(text);
            return head ? { pid: Number(head[1]), listening: head[2] as string } : undefined;
          });
          await drive(t, node);
        })();
        // a failed drive ends the run at once instead of waiting out its timeout
        driven.catch(() => t.kill());
      },
    }).then((result) => ({ result, terminal: terminal as Terminal, driven }));
  }

  it('Ctrl-C once: the node stops in order, the last frame says so, the cursor is back, exit 0', async () => {
    const { result, terminal, driven } = await onTerminal('once', async (t) => {
      t.type(CTRL_C);
    });
    await driven;
    expect(result.code, terminal.text.slice(-2000)).toBe(0);
    const afterCtrlC = terminal.text.slice(terminal.text.lastIndexOf('^C'));
    expect(afterCtrlC).toMatch(/\d\d:\d\d:\d\d stopped +signal\s*$/m);
    expect(terminal.raw.lastIndexOf(CURSOR_SHOW)).toBeGreaterThan(terminal.raw.lastIndexOf(CURSOR_HIDE));
    expect(existsSync(join(dir, 'once.sock'))).toBe(false);
  });

  it('Ctrl-C twice, the second while the node still closes: exit 130, the socket file gone, the cursor back', async () => {
    let second = false;
    const { result, terminal, driven } = await onTerminal('twice', async (t, node) => {
      lr.producer.kill('SIGSTOP');
      // a plain TCP connection held to the node: it closes it as its shutdown begins
      const [host, port] = [node.listening.replace(/:\d+$/, ''), Number(node.listening.replace(/^.*:/, ''))];
      await new Promise<void>((resolve, reject) => {
        const s = connect({ host, port }, () => resolve());
        s.once('error', reject);
        s.on('error', () => undefined); // a reset at the node's exit is expected
        s.once('close', () => {
          if (!processAlive(node.pid)) return;
          second = true;
          t.type(CTRL_C);
        });
        s.resume();
      });
      t.type(CTRL_C);
    });
    await driven;
    lr.producer.kill('SIGCONT');
    expect(second, 'the node had finished closing before the second Ctrl-C could be typed').toBe(true);
    expect(result.code, terminal.text.slice(-2000)).toBe(130);
    // it left before its orderly stop ended: no "stopped" line in the last frame
    expect(terminal.text).not.toMatch(/stopped +signal/);
    // what a death by the signal would not have done: the exit hooks ran
    expect(existsSync(join(dir, 'twice.sock'))).toBe(false);
    expect(terminal.raw.lastIndexOf(CURSOR_SHOW)).toBeGreaterThan(terminal.raw.lastIndexOf(CURSOR_HIDE));
  });
});
