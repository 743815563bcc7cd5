/**
 * Issue 15: `spo serve`'s log lines carry timestamps and say why a handshake was refused: both
 * magic numbers for a peer of another network, the versions offered for a peer with none in common.
 * Text output on standard error (the JSON lines are tested in test/node/serve-flood.e2e.test.ts). Through bin/run.js:
 * spo serve on 127.0.0.1, spo ping as the refused peers; stopped once both refusals are logged.
 */
import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runCli } from '../lib/cli.js';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /;

describe('spo serve: the log of refused handshakes', () => {
  it('timestamps every line and names the magic numbers or the versions', async () => {
    const r = await runCli(['serve', '--port', '0', '--network', 'preview'], {
      timeoutMs: 40_000,
      onSpawn: (child: ChildProcess) => {
        let out = '';
        let pinged = false;
        let stopped = false;
        child.stdout?.on('data', (d: Buffer | string) => {
          out += String(d);
          const port = /^listening 127\.0\.0\.1:(\d+)/m.exec(out)?.[1];
          if (port && !pinged) {
            pinged = true;
            const target = `127.0.0.1:${port}`;
            void runCli(['ping', target, '--network', 'mainnet', '--count', '1'])
              .then(() => runCli(['ping', target, '--network', 'preview', '--versions', '16', '--count', '1']))
              .catch(() => undefined);
          }
        });
        // the log goes to standard error (standard output carries the listening line)
        let log = '';
        child.stderr?.on('data', (d: Buffer | string) => {
          log += String(d);
          if (!stopped && (log.match(/handshake refused/g) ?? []).length >= 2) {
            stopped = true;
            child.kill('SIGTERM');
          }
        });
      },
    });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const refused = r.stderr.split('\n').filter((l) => l.includes('handshake refused'));
    expect(refused).toHaveLength(2);
    for (const l of refused) expect(l).toMatch(ISO);
    const [magic, version] = refused;
    // the peer's magic (mainnet's) and ours (preview's 2)
    expect(magic).toContain('unNetworkMagic = 764824073');
    expect(magic).toMatch(/our magic is 2\b/);
    expect(version).toMatch(/no common version; we offer 14,15/);
  });
});
