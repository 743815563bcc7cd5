/**
 * Hostile inputs through the real binary (issue 16): endless standard input (/dev/zero), a signal
 * while standard input trickles, files far larger than any topology or registry (sparse, so cheap
 * to make), and JSON nested 100,000 levels deep. Every child's RSS is watched and capped. Needs a build.
 */
import { mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CliResult, parseJsonOutput, runCli } from '../lib/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'spo-hostile-input-'));
const MiB = 1024; // in KiB, as RSS figures are
const RSS_CAP = 1536 * MiB;

function errorOf(r: CliResult): { code: string; message: string; hint?: string } {
  return parseJsonOutput<{ error: { code: string; message: string; hint?: string } }>(r).error;
}

describe('input size is capped and reading stays interruptible', () => {
  it('topology lint - < /dev/zero ends with INPUT_TOO_LARGE in bounded memory', async () => {
    const r = await runCli(['topology', 'lint', '-', '--json'], {
      stdinFile: '/dev/zero',
      measure: true,
      rssLimitKiB: RSS_CAP,
      timeoutMs: 60_000,
    });
    process.stderr.write(
      `[figure] lint - < /dev/zero: exit ${r.code} in ${Math.round(r.ms)} ms, peak RSS ${Math.round((r.peakRssKiB ?? 0) / MiB)} MiB\n`,
    );
    expect(r.rssLimitHit).toBe(false);
    expect(r.code).toBe(1);
    expect(errorOf(r)).toMatchObject({
      code: 'INPUT_TOO_LARGE',
      message: '(stdin): more than 16 MiB, the most spo reads as a topology; stopped reading',
    });
    expect(r.peakRssKiB).toBeLessThan(400 * MiB);
  });

  it('the first SIGTERM while standard input trickles ends the command (exit 130)', async () => {
    let sent = 0;
    const r = await runCli(['topology', 'lint', '-'], {
      openStdin: true,
      timeoutMs: 20_000,
      onSpawn: (child) => {
        const stdin = child.stdin;
        if (!stdin) throw new Error('no stdin pipe');
        stdin.on('error', () => {});
        // Fill the pipe until the child has drained 1 MiB: then it is reading (its handlers are set),
        // and one SIGTERM must end it although standard input never ends.
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        const more = (): void => {
          while (sent < 1024 * 1024) {
            sent += chunk.length;
            if (!stdin.write(chunk)) return void stdin.once('drain', more);
          }
          child.kill('SIGTERM');
        };
        stdin.write('{', more);
      },
    });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('spo: interrupted');
  });

  it('migrate and lint refuse a 234 MB file up front, with its size, without reading it', async () => {
    const huge = join(dir, 'huge-legacy-topology.json');
    writeFileSync(huge, '{"Producers": [');
    truncateSync(huge, 234_000_000); // sparse: nothing to write, everything to read
    for (const args of [
      ['topology', 'migrate', huge, '--out', join(dir, 'out.json'), '--yes', '--json'],
      ['topology', 'lint', huge, '--json'],
    ]) {
      const r = await runCli(args, { measure: true, rssLimitKiB: RSS_CAP, timeoutMs: 60_000 });
      process.stderr.write(
        `[figure] ${args[1]} of a 234 MB file: exit ${r.code} in ${Math.round(r.ms)} ms, peak RSS ${Math.round((r.peakRssKiB ?? 0) / MiB)} MiB\n`,
      );
      expect(r.rssLimitHit).toBe(false);
      expect(r.code).toBe(1);
      expect(errorOf(r)).toMatchObject({
        code: 'INPUT_TOO_LARGE',
        message: `${huge}: 223.2 MiB, more than 16 MiB, the most spo reads as a topology; not read`,
      });
      expect(r.peakRssKiB).toBeLessThan(300 * MiB);
    }
  });

  it('a registry file larger than 64 MiB is refused up front', async () => {
    const huge = join(dir, 'huge-registry.json');
    writeFileSync(huge, '{"bigLedgerPools": [');
    truncateSync(huge, 70 * 1024 * 1024);
    const r = await runCli(['relays', 'list', '--source', huge, '--json'], { measure: true, rssLimitKiB: RSS_CAP });
    expect(r.code).toBe(1);
    expect(errorOf(r)).toMatchObject({
      code: 'INPUT_TOO_LARGE',
      message: `${huge}: 70 MiB, more than 64 MiB, the most spo reads from one input; not read`,
    });
  });

  it('a value nested 100,000 levels deep is INPUT_TOO_DEEP (exit 1), never INTERNAL', async () => {
    const deep = join(dir, 'deep.json');
    const nest = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    writeFileSync(
      deep,
      `{"localRoots": [], "publicRoots": [{"accessPoints": [{"address": "a.example", "port": 3001, "note": ${nest}}], "advertise": false}], "useLedgerAfterSlot": 0}`,
    );
    const expected = {
      code: 'INPUT_TOO_DEEP',
      message: `${deep}: values nested deeper than 512 levels; no real file does`,
    };
    const migrate = await runCli(['topology', 'migrate', deep, '--out', join(dir, 'deep-out.json'), '--yes', '--json']);
    expect(migrate.code).toBe(1);
    expect(errorOf(migrate)).toMatchObject(expected);
    const lint = await runCli(['topology', 'lint', deep, '--json']);
    expect(lint.code).toBe(1);
    expect(errorOf(lint)).toMatchObject(expected);
    const text = await runCli(['topology', 'migrate', deep, '--out', join(dir, 'deep-out.json'), '--yes']);
    expect(text.stderr).not.toMatch(/INTERNAL|bug in spo/);
    const registry = await runCli(['relays', 'list', '--source', deep, '--json']);
    expect(errorOf(registry).code).toBe('INPUT_TOO_DEEP');
  });
});
