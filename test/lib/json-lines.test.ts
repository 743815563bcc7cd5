/**
 * The JSON-lines process helper (test/lib/json-lines.ts) fails the way a test needs: clearly and at
 * once when the process ends first or prints something that is not a JSON line, after its bound
 * when the line never comes; and it finds lines that came before the wait began.
 */
import { describe, expect, it } from 'vitest';
import { JsonLinesProcess } from './json-lines.js';

describe('JsonLinesProcess', () => {
  it('waits for a line, bounds a wait that never ends, and reports the end of the process', async () => {
    const serve = new JsonLinesProcess('serve', ['serve', '--port', '0', '--magic', '42', '--json']);
    try {
      const listening = await serve.until('listening', (l) => l.event === 'listening');
      expect(Number(listening.port)).toBeGreaterThan(0);
      // a line seen before the wait began counts, unless `from` is past it
      expect(await serve.until('listening again', (l) => l.event === 'listening')).toBe(listening);
      await expect(
        serve.until('a line that never comes', () => false, { from: serve.lines.length, timeoutMs: 200 }),
      ).rejects.toThrow(
        /^serve: no a line that never comes within 200 ms \(\d+ lines; the last: \{"event":"listening"/,
      );
      const pending = serve.until('the end', () => false, { timeoutMs: 30_000 });
      serve.kill('SIGTERM');
      await expect(pending).rejects.toThrow(/^serve ended \(code 0, signal null\) before the end/);
      expect(serve.running).toBe(false);
    } finally {
      await serve.stop();
    }
  });

  it('fails a wait at once when the output is not JSON lines', async () => {
    // `spo version --json` prints one indented document: not one object per line
    const p = new JsonLinesProcess('version', ['version', '--json']);
    await expect(p.until('anything', () => true)).rejects.toThrow(
      /^version: a line that is not JSON, waiting for anything: \{/,
    );
    expect((await p.done).code).toBe(0);
  });
});
