import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('./at-exit-main.ts', import.meta.url));

describe('atExit', () => {
  it('runs its jobs on process.exit, in order, not a removed one; a throwing job does not stop the rest', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status, r.stderr).toBe(130);
    expect(r.stdout).toBe('first\nlast\n');
  });
});
