/**
 * Issue 15: an explicit `--color` forces colour when the output is piped (as FORCE_COLOR does);
 * without it a pipe stays plain; `--no-color` always wins.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../lib/cli.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for ANSI escapes
const ANSI = /\u001b\[/;
const CLEAN_ENV = { NO_COLOR: undefined, FORCE_COLOR: undefined, TERM: 'xterm-256color' };

describe('--color', () => {
  it('forces colour on piped stdout and stderr', async () => {
    const r = await runCli(['relays', 'list', '--top', '2', '--color'], { env: CLEAN_ENV });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(ANSI);
    expect(r.stdout).toMatch(/POOL\s+TICKER/);
    const bad = await runCli(['relays', 'list', '--source', '/nonexistent/file.json', '--color'], { env: CLEAN_ENV });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(ANSI);
  });

  it('beats NO_COLOR when given explicitly (the flag is the later, narrower choice)', async () => {
    const r = await runCli(['relays', 'list', '--top', '2', '--color'], { env: { ...CLEAN_ENV, NO_COLOR: '1' } });
    expect(r.stdout).toMatch(ANSI);
  });

  it('piped without the flag stays plain; --no-color stays plain even with FORCE_COLOR', async () => {
    const plain = await runCli(['relays', 'list', '--top', '2'], { env: CLEAN_ENV });
    expect(plain.stdout).not.toMatch(ANSI);
    const off = await runCli(['relays', 'list', '--top', '2', '--no-color'], {
      env: { ...CLEAN_ENV, FORCE_COLOR: '1' },
    });
    expect(off.stdout).not.toMatch(ANSI);
  });

  it('--json never carries colour, even with --color', async () => {
    const r = await runCli(['relays', 'list', '--top', '2', '--color', '--json'], { env: CLEAN_ENV });
    expect(r.stdout).not.toMatch(ANSI);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
  });
});
