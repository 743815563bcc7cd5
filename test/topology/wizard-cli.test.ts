/**
 * Issue 15: Ctrl-C in the `topology generate` wizard is an interruption (exit 130, "interrupted"),
 * not "this is a bug in spo"; end of input at a prompt is a usage error naming the question.
 * The real bin/run.js runs on a pseudo-terminal (util-linux `script`), since the wizard only
 * prompts on a terminal; the test waits for the prompt on screen before it types.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT } from '../lib/cli.js';

interface PtyRun {
  /** Resolves when `text` has appeared on the terminal. */
  seen(text: string): Promise<void>;
  type(keys: string): void;
  endInput(): void;
  done: Promise<{ code: number | null; screen: string }>;
}

function onTerminal(args: string[]): PtyRun {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' ');
  // -e: script exits with the child's status; -f: flush at once; -q: no banner
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', TERM: 'xterm' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let screen = '';
  const waiters: Array<{ text: string; resolve: () => void; reject: (e: Error) => void }> = [];
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    screen += d;
    for (const w of [...waiters]) {
      if (screen.includes(w.text)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const done = new Promise<{ code: number | null; screen: string }>((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      for (const w of waiters.splice(0)) w.reject(new Error(`exited (${code}) before "${w.text}":\n${screen}`));
      resolve({ code, screen });
    });
  });
  return {
    seen: (text) =>
      screen.includes(text)
        ? Promise.resolve()
        : new Promise((resolve, reject) => waiters.push({ text, resolve, reject })),
    type: (keys) => child.stdin.write(keys),
    endInput: () => child.stdin.end(),
    done,
  };
}

describe('topology generate wizard on a terminal', () => {
  it('Ctrl-C at a prompt: "interrupted", exit 130, no "bug in spo"', async () => {
    const run = onTerminal(['topology', 'generate']);
    await run.seen('Which machine is this topology for?');
    run.type('\u0003');
    const { code, screen } = await run.done;
    expect(code).toBe(130);
    expect(screen).toContain('spo: interrupted');
    expect(screen).not.toContain('bug in spo');
  });

  it('end of input at a prompt: a usage error naming the question and the flags, exit 2', async () => {
    const run = onTerminal(['topology', 'generate', '--role', 'producer', '--network', 'mainnet']);
    await run.seen('Relay address (HOST:PORT) 1');
    run.endInput();
    const { code, screen } = await run.done;
    expect(code).toBe(2);
    expect(screen).toContain('spo: input ended at the question "Relay address (HOST:PORT) 1:"');
    expect(screen).toMatch(/hint: .*--relay/);
    expect(screen).not.toContain('bug in spo');
  });
});
