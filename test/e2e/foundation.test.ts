import { describe, expect, it } from 'vitest';
import { parseJsonOutput, runCli } from '../lib/cli.js';

describe('spo binary (bin/run.js)', () => {
  it('prints its version fast and exits 0', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^spo-p2p\/\d+\.\d+\.\d+ /);
  });

  it('lists its commands in --help', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('version');
  });

  it('answers --json with exactly one JSON document', async () => {
    const r = await runCli(['version', '--json']);
    expect(r.code).toBe(0);
    const doc = parseJsonOutput<{ name: string; version: string }>(r);
    expect(doc.name).toBe('spo-p2p');
  });

  it('rejects an unknown flag with one clear line, a hint and exit code 2', async () => {
    const r = await runCli(['version', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^spo: Nonexistent flag: --bogus\nhint: /);
    expect(r.stderr).not.toContain('    at ');
  });

  it('reports a usage error as JSON with its code under --json', async () => {
    const r = await runCli(['version', '--network', 'nowhere', '--json']);
    expect(r.code).toBe(2);
    const doc = parseJsonOutput<{ error: { code: string; message: string } }>(r);
    expect(doc.error.code).toBe('USAGE');
    expect(doc.error.message).toContain('--network');
  });

  it('accepts --no-color and writes no ANSI codes when piped', async () => {
    const r = await runCli(['version', '--no-color'], { env: { NO_COLOR: undefined, FORCE_COLOR: undefined } });
    expect(r.code).toBe(0);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for ANSI escapes
    expect(r.stdout).not.toMatch(/\u001b\[/);
  });

  it('names a missing argument on one line (no oclif help dump)', async () => {
    const r = await runCli(['resolve']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('spo: Missing 1 required arg: name\nhint: see --help for the flags and examples\n');
  });

  it('answers an unknown command with one line, a suggestion and the topic commands, exit code 2', async () => {
    const r = await runCli(['relays', 'lst']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^spo: unknown command "relays lst"\nhint: did you mean "spo relays list"\? relays commands: /,
    );
  });

  it('folds oclif flag-validation and exclusive-flag errors into one USAGE line', async () => {
    const bad = await runCli(['probe', '--top', '0', '--json']);
    expect(bad.code).toBe(2);
    expect(parseJsonOutput<{ error: { code: string; message: string } }>(bad).error).toMatchObject({
      code: 'USAGE',
      message: 'Parsing --top: Expected an integer greater than or equal to 1 but received: 0',
    });
    const both = await runCli(['relays', 'list', '--network', 'preprod', '--magic', '3']);
    expect(both.code).toBe(2);
    expect(both.stderr.split('\n')[0]).toBe('spo: --magic=3 cannot also be provided when using --network');
  });
});
