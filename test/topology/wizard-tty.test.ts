/**
 * The wizard end to end on a real pseudo-terminal: bin/run.js runs under script(1), which gives it
 * a TTY; the test answers each prompt when it appears. Skipped where script(1) is not installed.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN } from '../lib/cli.js';

const SCRIPT = '/usr/bin/script';
const dir = mkdtempSync(join(tmpdir(), 'spo-topo-tty-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function drive(cmd: string, steps: Array<[string, string]>): Promise<{ code: number | null; screen: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(SCRIPT, ['-qfec', cmd, '/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    });
    let pending = '';
    let screen = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      pending += d;
      screen += d;
      const step = steps[0];
      if (step && pending.includes(step[0])) {
        steps.shift();
        pending = '';
        setTimeout(() => child.stdin.write(step[1]), 30);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, screen });
    });
  });
}

describe.skipIf(!existsSync(SCRIPT))('topology generate wizard on a terminal', () => {
  it('asks for what is missing and writes the file', async () => {
    const out = join(dir, 'relay.json');
    const r = await drive(`${process.execPath} ${BIN} topology generate --role relay --public-roots 0 --out ${out}`, [
      ['Network', '\x1b[B\r'], // preprod
      ['Block producer address', '10.0.0.5:3001\r'],
      ['other relay (HOST:PORT) 1', 'relay2.example.org:3001\r'],
      ['empty to finish', '\r'],
    ]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(readFileSync(out, 'utf8')) as {
      bootstrapPeers: unknown;
      localRoots: Array<{ accessPoints: unknown }>;
    };
    expect(doc.bootstrapPeers).toEqual([{ address: 'preprod-node.play.dev.cardano.org', port: 3001 }]);
    expect(doc.localRoots.map((g) => g.accessPoints)).toEqual([
      [{ address: '10.0.0.5', port: 3001 }],
      [{ address: 'relay2.example.org', port: 3001 }],
    ]);
  }, 30_000);

  it('topology migrate asks before writing, and writes on yes', async () => {
    const file = join(dir, 'legacy.json');
    copyFileSync(
      new URL('../fixtures/topology/cardano-node-mainnet-topology.legacy-producers.2020-08.json', import.meta.url),
      file,
    );
    const no = await drive(`${process.execPath} ${BIN} topology migrate ${file}`, [['Write', 'n\r']]);
    expect(no.code).toBe(0);
    expect(no.screen).toContain('+  "localRoots": [');
    expect(readFileSync(file, 'utf8')).toContain('Producers');
    const yes = await drive(`${process.execPath} ${BIN} topology migrate ${file}`, [['Write', 'y\r']]);
    expect(yes.code).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toHaveProperty('localRoots');
    expect(readFileSync(`${file}.bak`, 'utf8')).toContain('Producers');
  }, 60_000);
});
