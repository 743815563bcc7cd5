/**
 * `spo ping` against `spo serve`, both the real built binary, over IPv4 and IPv6 loopback, in all
 * three modes, and against broken servers: each must give the right words and exit code in time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, parseJsonOutput, ROOT, runCli } from '../lib/cli.js';

interface Served {
  child: ChildProcess;
  address: string;
  stdout: () => string;
}

const started: Served[] = [];

function serve(args: string[]): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`spo serve did not start: ${out}`)), 20_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const first = out.split('\n')[0] ?? '';
      if (out.includes('\n') && !started.some((s) => s.child === child)) {
        clearTimeout(t);
        const address = first.startsWith('{')
          ? (JSON.parse(first) as { address: string }).address
          : (first.split(' ')[1] ?? '');
        const s = { child, address, stdout: () => out };
        started.push(s);
        resolve(s);
      }
    });
    child.stderr.resume();
    child.on('exit', (code) => reject(new Error(`spo serve exited with ${code}: ${out}`)));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((r) => {
    if (child.exitCode !== null) r(child.exitCode);
    else child.once('exit', (code) => r(code));
  });
}

async function ipv6Available(): Promise<boolean> {
  const s = createServer();
  return new Promise((r) => {
    s.once('error', () => r(false));
    s.listen(0, '::1', () => s.close(() => r(true)));
  });
}

let v4: Served;
let v6: Served | undefined;
let silent: Served;
let closer: Served;
let onlyV16: Served;

beforeAll(async () => {
  [v4, v6, silent, closer, onlyV16] = await Promise.all([
    serve(['--network', 'preview', '--block-interval', '200ms']),
    (await ipv6Available()) ? serve(['--network', 'preview', '--host', '::1', '--json']) : Promise.resolve(undefined),
    serve(['--network', 'preview', '--fault', 'never-answer']),
    serve(['--network', 'preview', '--fault', 'close-mid-handshake']),
    serve(['--network', 'preview', '--versions', '16']),
  ]);
}, 60_000);

afterAll(async () => {
  for (const s of started) if (s.child.exitCode === null) s.child.kill('SIGKILL');
});

interface PingDoc {
  summary: { answered: number; addresses: number };
  targets: Array<{
    ok: boolean;
    addresses: Array<{
      ok: boolean;
      version?: number;
      connectMs?: number;
      handshakeMs?: number;
      rtt?: { count: number; medianMs: number; p90Ms: number; stdMs: number };
      tip?: { slot: number; blockNo: number; hash: string };
      versions?: Array<{ version: number }>;
      error?: { code: string; message: string };
    }>;
  }>;
}

describe('spo serve', () => {
  it('prints the address first (text and JSON)', () => {
    expect(v4.address).toMatch(/^127\.0\.0\.1:\d+$/);
    if (v6) expect(v6.address).toMatch(/^\[::1\]:\d+$/);
  });
});

describe('spo ping against spo serve', () => {
  const families = (): Array<[string, Served | undefined]> => [
    ['IPv4', v4],
    ['IPv6', v6],
  ];

  it('ping mode over IPv4 and IPv6: keep-alive RTT statistics, exit 0', async () => {
    for (const [name, s] of families()) {
      if (!s) continue;
      const r = await runCli([
        'ping',
        s.address,
        '--network',
        'preview',
        '--count',
        '4',
        '--interval',
        '20ms',
        '--json',
      ]);
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
      const doc = parseJsonOutput<PingDoc>(r);
      const a = doc.targets[0]?.addresses[0];
      expect(a?.ok).toBe(true);
      expect(a?.version).toBe(15);
      expect(a?.rtt?.count).toBe(4);
      expect(a?.rtt?.medianMs).toBeGreaterThan(0);
      expect(a?.connectMs).toBeGreaterThan(0);
      expect(a?.handshakeMs).toBeGreaterThan(0);
    }
  });

  it('tip mode: slot, block number and hash of the synthetic chain', async () => {
    for (const [, s] of families()) {
      if (!s) continue;
      const r = await runCli(['ping', s.address, '--network', 'preview', '--mode', 'tip', '--json']);
      expect(r.code).toBe(0);
      const tip = parseJsonOutput<PingDoc>(r).targets[0]?.addresses[0]?.tip;
      expect(tip?.blockNo).toBeGreaterThanOrEqual(10);
      expect(tip?.slot).toBeGreaterThanOrEqual(1000);
      expect(tip?.hash).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('query mode: the version table, in words in text mode', async () => {
    const r = await runCli(['ping', v4.address, '--network', 'preview', '--mode', 'query']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('version 14: magic 2, initiator and responder, peer sharing on');
    expect(r.stdout).toContain('version 15: magic 2');
    if (v6) {
      const j = await runCli(['ping', v6.address, '--network', 'preview', '--mode', 'query', '--json']);
      expect(parseJsonOutput<PingDoc>(j).targets[0]?.addresses[0]?.versions?.map((v) => v.version)).toEqual([14, 15]);
    }
  });

  it('text output of ping mode names the figures', async () => {
    const r = await runCli(['ping', v4.address, '--network', 'preview', '--count', '2', '--interval', '10ms']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/connect [\d.]+ ms {2}handshake [\d.]+ ms {2}version 15/);
    expect(r.stdout).toMatch(
      /keep-alive rtt \(2\): min [\d.]+ {2}median [\d.]+ {2}p90 [\d.]+ {2}mean [\d.]+ {2}max [\d.]+ {2}std [\d.]+ ms/,
    );
  });

  it('wrong magic: HANDSHAKE_REFUSED_MAGIC, in words, exit 1', async () => {
    const r = await runCli(['ping', v4.address, '--network', 'mainnet', '--timeout', '3s']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('HANDSHAKE_REFUSED_MAGIC');
    expect(r.stdout).toContain('wrong network magic (we sent 764824073, the peer is on 2)');
  });

  it('unsupported version: HANDSHAKE_REFUSED_VERSION lists what the peer speaks', async () => {
    const r = await runCli(['ping', onlyV16.address, '--network', 'preview', '--json']);
    expect(r.code).toBe(1);
    const e = parseJsonOutput<PingDoc>(r).targets[0]?.addresses[0]?.error;
    expect(e?.code).toBe('HANDSHAKE_REFUSED_VERSION');
    expect(e?.message).toContain('no common protocol version (the peer supports 16)');
    // and with 16 proposed it works
    const ok = await runCli([
      'ping',
      onlyV16.address,
      '--network',
      'preview',
      '--versions',
      '14,15,16',
      '--count',
      '1',
    ]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('version 16');
  });

  it('a server that never answers: HANDSHAKE_TIMEOUT within the timeout', async () => {
    const r = await runCli(['ping', silent.address, '--network', 'preview', '--timeout', '1s']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('HANDSHAKE_TIMEOUT');
    expect(r.stdout).toContain('no handshake answer within 1000 ms');
    expect(r.ms).toBeLessThan(6000); // 1 s timeout + CLI start-up
  });

  it('a server that closes mid-handshake: HANDSHAKE_CLOSED', async () => {
    const r = await runCli(['ping', closer.address, '--network', 'preview', '--timeout', '3s']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('HANDSHAKE_CLOSED');
    expect(r.stdout).toContain('closed the connection during the handshake');
  });

  it('a closed port: CONNECT_REFUSED, and several targets: exit 1 if any fails', async () => {
    const port = await new Promise<number>((r) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => r(p));
      });
    });
    const r = await runCli(['ping', `127.0.0.1:${port}`, v4.address, '--network', 'preview', '--count', '1', '--json']);
    expect(r.code).toBe(1);
    const doc = parseJsonOutput<PingDoc>(r);
    expect(doc.targets[0]?.addresses[0]?.error?.code).toBe('CONNECT_REFUSED');
    expect(doc.targets[1]?.ok).toBe(true);
    expect(doc.summary).toMatchObject({ answered: 1, addresses: 2 });
  });

  it('a port whose accept queue is full: CONNECT_TIMEOUT within the timeout (needs python3 for a listener that never accepts)', async () => {
    // Node accepts every connection itself; a python listener with backlog 0 that never accepts
    // makes the kernel drop further SYNs once one connection waits in its queue.
    const py = spawn('python3', [
      '-c',
      "import socket,time\ns=socket.socket();s.bind(('127.0.0.1',0));s.listen(0);print(s.getsockname()[1],flush=True);time.sleep(30)",
    ]);
    const port = await new Promise<number | undefined>((res) => {
      py.on('error', () => res(undefined));
      py.stdout.setEncoding('utf8').once('data', (d: string) => res(Number(d.trim())));
    });
    if (port === undefined) return; // no python3 here
    try {
      const { connect } = await import('node:net');
      const filler = connect(port, '127.0.0.1');
      filler.on('error', () => undefined);
      // the queue is full once the filler's handshake is done (the kernel completes it for the listener)
      await new Promise((res) => filler.once('connect', res));
      const r = await runCli(['ping', `127.0.0.1:${port}`, '--network', 'preview', '--timeout', '1s', '--json']);
      filler.destroy();
      expect(r.code).toBe(1);
      const e = parseJsonOutput<PingDoc>(r).targets[0]?.addresses[0]?.error;
      expect(e?.code).toBe('CONNECT_TIMEOUT');
      expect(e?.message).toContain('no TCP answer within 1000 ms');
      expect(r.ms).toBeLessThan(6000);
    } finally {
      py.kill();
    }
  });

  it('bad arguments are usage errors (exit 2)', async () => {
    const r = await runCli(['ping', 'not a host', '--network', 'preview']);
    expect(r.code).toBe(2);
    const v = await runCli(['ping', v4.address, '--versions', '13']);
    expect(v.code).toBe(2);
    expect(v.stderr).toContain('unsupported node-to-node version');
  });

  it('SIGTERM stops spo serve cleanly (exit 0, a final JSON line)', async () => {
    if (!v6) return;
    v6.child.kill('SIGTERM');
    expect(await exited(v6.child)).toBe(0);
    const last = v6.stdout().trim().split('\n').pop() ?? '';
    expect(JSON.parse(last)).toMatchObject({ event: 'stopped' });
  });
});
