/**
 * `spo peers` and `spo top --control` through the real bin/run.js against a control endpoint the
 * test starts (src/node/control.ts on a Unix socket in a temporary folder) with a fixed snapshot,
 * the way a running `spo run` answers: the table, --json, the default socket paths (--topology,
 * XDG_RUNTIME_DIR, SPO_CONTROL), nothing listening, and spo top's refreshes (JSON lines, and the
 * live view on a pseudo-terminal).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ControlServer, startControlServer } from '../../src/node/control.js';
import type { NodeSnapshot, PeerRow } from '../../src/node/snapshot.js';
import { BIN, HAS_SCRIPT, PTY_RUNNER, parseJsonOutput, runCli, typeCtrlCWhen } from '../lib/cli.js';
import { fixedSnapshot } from '../node/control-fixture.js';

let dir: string;
const servers: ControlServer[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'spo-peers-'));
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A control endpoint answering the fixed snapshot, `change` applied to the n-th. */
async function node(
  path: string,
  change: (s: NodeSnapshot, n: number, stop: () => void) => void = () => {},
): Promise<ControlServer> {
  let n = 0;
  const server: ControlServer = await startControlServer({
    path,
    snapshot: () => {
      const s = fixedSnapshot(++n);
      change(s, n, () => void server.close());
      return s;
    },
  });
  servers.push(server);
  return server;
}

const jsonLines = (stdout: string): Array<Record<string, unknown>> =>
  stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('spo peers', () => {
  it('prints the counters and the peer table, hot first, then warm, cooling, cold', async () => {
    const path = join(dir, 'run.sock');
    await node(path);
    const r = await runCli(['peers', '--control', path]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^spo run {2}pid 4242 {2}listening 127\.0\.0\.1:3001 .*tip #1,234/);
    expect(r.stdout).toMatch(/all 5 \/ 3 \/ 2/);
    const header = lines.findIndex((l) => l.startsWith('peer '));
    expect(lines[header]).toMatch(/^peer +name +dir +source +temp +since +RTT ms +upstream +first +fails$/);
    expect(lines.slice(header + 1).map((l) => l.split(/\s+/)[0])).toEqual([
      '10.0.0.2:3001',
      '10.0.0.3:3001',
      '[2001:db8::1]:3001',
      '127.0.0.1:40001',
      '10.0.0.10:3001',
    ]);
    // not a terminal: the whole table, long names uncut
    expect(r.stdout).toContain('a-very-long-relay-name-that-does-not-fit.relays.example-operator.com');
    expect(lines[header + 1]).toMatch(/relay1\.example\.com +out +local-root #0 +hot +3m12s +1\.3 +0\.50 +12 +0$/);
    expect(r.stdout).not.toContain('\x1b');
  });

  it('--json prints the snapshot as the node answered it', async () => {
    const path = join(dir, 'run.sock');
    await node(path);
    const r = await runCli(['peers', '--control', path, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(parseJsonOutput(r)).toEqual(fixedSnapshot(1));
  });

  it('finds the socket of a spo run started with --topology, in XDG_RUNTIME_DIR, or from SPO_CONTROL', async () => {
    const topology = join(dir, 'topology.json');
    await node(`${topology}.spo.sock`, (s) => {
      s.pid = 1;
    });
    const byTopology = await runCli(['peers', '--topology', topology, '--json']);
    expect(byTopology.code, byTopology.stderr).toBe(0);
    expect(parseJsonOutput<NodeSnapshot>(byTopology).pid).toBe(1);

    const runtime = join(dir, 'xdg');
    await node(join(runtime, 'spo', 'run.sock'), (s) => {
      s.pid = 2;
    });
    const byXdg = await runCli(['peers', '--json'], { env: { XDG_RUNTIME_DIR: runtime } });
    expect(byXdg.code, byXdg.stderr).toBe(0);
    expect(parseJsonOutput<NodeSnapshot>(byXdg).pid).toBe(2);

    const byEnv = await runCli(['peers', '--json'], { env: { SPO_CONTROL: `${topology}.spo.sock` } });
    expect(parseJsonOutput<NodeSnapshot>(byEnv).pid).toBe(1);
  });

  it('nothing listening: exit 1, CONTROL_NOT_RUNNING, the hint to start spo run or pass --control', async () => {
    const path = join(dir, 'none.sock');
    const r = await runCli(['peers', '--control', path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`spo: control socket ${path}: no spo run is listening there (no such socket)`);
    expect(r.stderr).toMatch(/hint: start spo run .*--control/);
    const j = await runCli(['peers', '--control', path, '--json']);
    expect(j.code).toBe(1);
    expect(parseJsonOutput(j)).toEqual({
      error: expect.objectContaining({ code: 'CONTROL_NOT_RUNNING', details: { path } }),
    });
    const bad = await runCli(['peers', '--control', path, '--topology', 'x.json']);
    expect(bad.code).toBe(2);
  });
});

describe('spo top --control', () => {
  it('off a terminal: the snapshot of every refresh as a JSON line, then stopped', async () => {
    const path = join(dir, 'run.sock');
    await node(path);
    const r = await runCli(['top', '--control', path, '--count', '3', '--interval', '50ms']);
    expect(r.code, r.stderr).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines.map((l) => l.event)).toEqual(['snapshot', 'snapshot', 'snapshot', 'stopped']);
    expect(lines.slice(0, 3).map((l) => l.seq)).toEqual([1, 2, 3]); // the node's own seq
    expect(lines[0]).toEqual(fixedSnapshot(1));
    expect(lines[3]).toEqual({ event: 'stopped', refreshes: 3, failed: 0 });
  });

  it('the node goes away after the first refresh: error lines, exit 1; nothing there at first: exit 1 at once', async () => {
    const path = join(dir, 'run.sock');
    // the node stops while asked for its second snapshot: that request is cut off, the third finds no socket
    await node(path, (_s, n, stop) => {
      if (n === 2) stop();
    });
    const r = await runCli(['top', '--control', path, '--count', '3', '--interval', '50ms', '--json']);
    expect(r.code).toBe(1);
    const lines = jsonLines(r.stdout);
    expect(lines[0]).toMatchObject({ event: 'snapshot', seq: 1 });
    expect(lines[1]).toMatchObject({ event: 'error', seq: 2, control: path, error: { code: 'CONTROL_BAD_ANSWER' } });
    expect(lines[2]).toMatchObject({ event: 'error', seq: 3, error: { code: 'CONTROL_NOT_RUNNING' } });
    expect(lines.at(-1)).toEqual({ error: expect.objectContaining({ code: 'CONTROL_NOT_RUNNING' }) });
    const none = await runCli(['top', '--control', join(dir, 'none.sock'), '--count', '1']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no spo run is listening there/);
  });

  it.runIf(HAS_SCRIPT)(
    'on a terminal: the run view redrawn in place, the changes between refreshes in its log, the last frame left',
    async () => {
      const path = join(dir, 'run.sock');
      await node(path, (s, n) => {
        // from the second refresh on, the warm peer is hot
        if (n >= 2) (s.peers.find((p) => p.peer === '[2001:db8::1]:3001') as PeerRow).temperature = 'hot';
      });
      const cmd = `stty cols 120 rows 40; '${process.execPath}' '${BIN}' top --control ${path} --count 3 --interval 50ms`;
      const r = await runCli([], { nodeArgs: ['-e', PTY_RUNNER, cmd] });
      expect(r.code, r.stderr).toBe(0);
      const out = r.stdout;
      expect(out).toContain('\x1b[?2026h'); // frames in synchronized output
      expect(out).not.toContain('\x1b[2J'); // never a whole-screen clear
      expect(out.split('spo run  pid 4242').length - 1).toBe(1); // the unchanged first line drawn once
      expect(out).toMatch(/promoted +\[2001:db8::1\]:3001 warm→hot \(peer-share\)/);
      expect(out).not.toContain('"event"'); // no JSON on a terminal
    },
  );

  it.runIf(HAS_SCRIPT)(
    'on a terminal, Ctrl-C (typed): spo top stops in order (exit 130, the cursor shown again, the reason said), not killed',
    async () => {
      const path = join(dir, 'run.sock');
      await node(path, (s, n) => {
        s.uptimeMs += n * 1000; // every refresh shows something new, so every one draws
      });
      const cmd = `stty cols 100 rows 30; '${process.execPath}' '${BIN}' top --control ${path} --interval 50ms`;
      const r = await runCli([], {
        openStdin: true,
        nodeArgs: ['-e', PTY_RUNNER, cmd],
        // two frames drawn: type Ctrl-C; the terminal turns it into SIGINT for spo
        onSpawn: typeCtrlCWhen((out) => out.split('\x1b[?2026h').length - 1 >= 2),
      });
      expect(r.code).toBe(130);
      const tail = r.stdout.slice(r.stdout.lastIndexOf('\x1b[?25h'));
      expect(tail).toContain('spo: interrupted'); // said after the cursor came back: the orderly path ran
    },
  );
});
