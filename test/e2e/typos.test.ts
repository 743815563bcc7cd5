/**
 * Issue 15, typos: one "did you mean" in spo's error format (`spo: ...` + `hint: ...`, exit 2) for
 * a mistyped command, a mistyped subcommand of a topic and a mistyped help subject; the arguments
 * after the typo are kept as typed (an address with a port is not split at its colon).
 */
import { describe, expect, it } from 'vitest';
import { parseJsonOutput, runCli } from '../lib/cli.js';

describe('mistyped commands', () => {
  it('spo pign 127.0.0.1:13001: names "pign", suggests spo ping with the address intact', async () => {
    const r = await runCli(['pign', '127.0.0.1:13001']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('spo: unknown command "pign"\nhint: did you mean "spo ping 127.0.0.1:13001"?\n');
  });

  it('spo relays lsit: suggests spo relays list and names the relays subcommands, not the top-level topics', async () => {
    const r = await runCli(['relays', 'lsit']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'spo: unknown command "relays lsit"\nhint: did you mean "spo relays list"? relays commands: export, list, resolve\n',
    );
  });

  it('spo help nosuch: spo error format, exit 2, the commands listed (nothing close enough to suggest)', async () => {
    const r = await runCli(['help', 'nosuch']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^spo: unknown command "nosuch"\nhint: run spo --help; commands and topics: .*relays.*\n$/,
    );
    expect(r.stderr).not.toContain('›');
  });

  it('spo help relays lsit and spo pign --help: the same "did you mean"', async () => {
    const help = await runCli(['help', 'relays', 'lsit']);
    expect(help.code).toBe(2);
    expect(help.stderr).toContain('hint: did you mean "spo relays list"?');
    const flag = await runCli(['pign', '--help']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toBe('spo: unknown command "pign"\nhint: did you mean "spo ping --help"?\n');
  });

  it('--json: the error as JSON on stdout with code UNKNOWN_COMMAND and the suggestion', async () => {
    const r = await runCli(['relays', 'lsit', '--json']);
    expect(r.code).toBe(2);
    expect(parseJsonOutput<{ error: unknown }>(r).error).toEqual({
      code: 'UNKNOWN_COMMAND',
      message: 'unknown command "relays lsit"',
      hint: 'did you mean "spo relays list --json"? relays commands: export, list, resolve',
      details: { command: 'relays lsit', suggestion: 'relays list' },
    });
  });

  it('real help still works: spo help relays, spo relays list --help', async () => {
    const topic = await runCli(['help', 'relays']);
    expect(topic.code).toBe(0);
    expect(topic.stdout).toContain('relays resolve');
    const cmd = await runCli(['relays', 'list', '--help']);
    expect(cmd.code).toBe(0);
    expect(cmd.stdout).toContain('USAGE');
  });
});

describe('words oclif cannot place', () => {
  it('an argument to a command that takes none is named, with that command', async () => {
    const r = await runCli(['relays', 'list', 'lsit']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'spo: unexpected argument for spo relays list: lsit\nhint: spo relays list takes no arguments; see spo relays list --help\n',
    );
  });

  it('a mistyped top-level flag gets a suggestion', async () => {
    const r = await runCli(['--hepl']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('spo: unknown flag "--hepl"\nhint: did you mean "spo --help"?\n');
  });

  it('a mistyped command with terminal escapes is printed escaped, never raw (issue 16: remote or typed bytes)', async () => {
    const r = await runCli(['\u001b]0;pwn\u0007']);
    expect(r.code).toBe(2);
    expect(r.stderr.includes('\u001b') || r.stderr.includes('\u0007')).toBe(false);
    expect(r.stderr).toContain('\\u001b]0;pwn\\u0007');
  });
});
