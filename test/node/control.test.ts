/**
 * The control endpoint over real Unix sockets in a temporary folder: owner-only permissions (checked
 * with fs.stat), the snapshot request, errors for unknown and malformed requests, a live endpoint
 * refused, a stale socket file replaced, a file in the way kept, oversize requests refused, both
 * sides' timeouts, and the client's errors when nothing listens.
 */
import {
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type ControlServer,
  defaultControlPath,
  queryControl,
  querySnapshot,
  startControlServer,
} from '../../src/node/control.js';
import { fixedSnapshot } from './control-fixture.js';

let dir: string;
const servers: ControlServer[] = [];
const plain: Server[] = [];
const accepted: Socket[] = [];
/** A plain Unix socket server whose accepted connections the test tears down. */
function plainServer(onConnection: (s: Socket) => void): Server {
  const server = createServer((s) => {
    accepted.push(s);
    onConnection(s);
  });
  plain.push(server);
  return server;
}
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'spo-control-'));
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const s of plain.splice(0)) {
    const closed = new Promise((r) => s.close(r));
    for (const c of accepted.splice(0)) c.destroy();
    await closed;
  }
  rmSync(dir, { recursive: true, force: true });
});

async function start(path: string, extra: Partial<Parameters<typeof startControlServer>[0]> = {}) {
  let seq = 0;
  const server = await startControlServer({ path, snapshot: () => fixedSnapshot(++seq), ...extra });
  servers.push(server);
  return server;
}

/** A raw client: sends `text`, collects everything until the server closes or `lines` lines came. */
function raw(
  path: string,
  text: string,
  lines = Number.POSITIVE_INFINITY,
): Promise<{ lines: string[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket: Socket = createConnection({ path });
    let got = '';
    const done = (closed: boolean) => {
      socket.destroy();
      resolve({ lines: got.split('\n').filter((l) => l !== ''), closed });
    };
    socket.on('connect', () => socket.write(text));
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      got += d;
      if (got.split('\n').length - 1 >= lines) done(false);
    });
    socket.on('end', () => done(true));
    socket.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? done(true) : reject(e)));
  });
}

const code = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: { code?: string }) => e.code,
  );

describe('control endpoint', () => {
  it('creates its folder 0700 and its socket 0600, and answers the snapshot, fresh on every request', async () => {
    const path = join(dir, 'run', 'deeper', 'run.sock');
    const server = await start(path);
    expect(server.path).toBe(path);
    const sock = statSync(path);
    expect(sock.isSocket()).toBe(true);
    expect(sock.mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'run')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'run', 'deeper')).mode & 0o777).toBe(0o700);
    const a = await querySnapshot(path, { timeoutMs: 2_000 });
    const b = await querySnapshot(path, { timeoutMs: 2_000 });
    expect(a).toEqual(fixedSnapshot(1));
    expect(b.seq).toBe(2);
  });

  it('a folder that exists keeps its mode; the socket is 0600 whatever the umask', async () => {
    const previous = process.umask(0o000);
    try {
      const path = join(dir, 'open.sock');
      await start(path);
      expect(statSync(path).mode & 0o777).toBe(0o600);
    } finally {
      process.umask(previous);
    }
    expect(process.umask()).toBe(previous); // restored after listening
  });

  it('several requests on one connection are answered in order; unknown and malformed ones get an error object', async () => {
    const path = join(dir, 'c.sock');
    await start(path);
    const r = await raw(path, '{"request":"snapshot"}\n{"request":"reboot"}\nnot json\n{"request":"snapshot"}\n', 4);
    const answers = r.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(answers[0]).toMatchObject({ event: 'snapshot', seq: 1 });
    expect(answers[1]).toEqual({
      error: { code: 'CONTROL_UNKNOWN_REQUEST', message: expect.stringContaining('"reboot"') },
    });
    expect(answers[2]).toEqual({ error: { code: 'CONTROL_BAD_REQUEST', message: expect.any(String) } });
    expect(answers[3]).toMatchObject({ event: 'snapshot', seq: 2 });
    await expect(queryControl(path, { request: 'reboot' }, { timeoutMs: 2_000 })).rejects.toMatchObject({
      code: 'CONTROL_ERROR',
      details: { code: 'CONTROL_UNKNOWN_REQUEST' },
    });
  });

  it('a snapshot function that throws answers INTERNAL and the endpoint keeps serving', async () => {
    const path = join(dir, 'throw.sock');
    let n = 0;
    servers.push(
      await startControlServer({
        path,
        snapshot: () => {
          if (++n === 1) throw new Error('boom');
          return fixedSnapshot(n);
        },
      }),
    );
    await expect(querySnapshot(path, { timeoutMs: 2_000 })).rejects.toMatchObject({
      code: 'CONTROL_ERROR',
      message: expect.stringContaining('boom'),
    });
    expect((await querySnapshot(path, { timeoutMs: 2_000 })).seq).toBe(2);
  });

  it('refuses to start where a live endpoint listens, and leaves that one working', async () => {
    const path = join(dir, 'live.sock');
    await start(path);
    const second = startControlServer({ path, snapshot: () => fixedSnapshot(99) });
    await expect(second).rejects.toMatchObject({
      code: 'CONTROL_IN_USE',
      hint: expect.stringContaining('--control'),
    });
    expect((await querySnapshot(path, { timeoutMs: 2_000 })).seq).toBe(1);
  });

  it('replaces a stale socket file left by a process that died', async () => {
    const path = join(dir, 'stale.sock');
    // a socket file nobody listens on: a second name of a live socket, left after the listener closed
    const s = createServer();
    await new Promise<void>((r) => s.listen(join(dir, 'orig.sock'), r));
    linkSync(join(dir, 'orig.sock'), path);
    await new Promise((r) => s.close(r));
    expect(statSync(path).isSocket()).toBe(true);
    await expect(querySnapshot(path, { timeoutMs: 2_000 })).rejects.toMatchObject({
      code: 'CONTROL_NOT_RUNNING',
      message: expect.stringContaining('connection refused'),
    });
    await start(path);
    expect((await querySnapshot(path, { timeoutMs: 2_000 })).event).toBe('snapshot');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('does not remove a file that is not a socket', async () => {
    const path = join(dir, 'notes.txt');
    writeFileSync(path, 'keep me');
    await expect(start(path)).rejects.toMatchObject({ code: 'CONTROL_PATH_TAKEN' });
    expect(statSync(path).isFile()).toBe(true);
  });

  it('close() stops it and removes the socket file; so does the abort signal', async () => {
    const path = join(dir, 'close.sock');
    const server = await start(path);
    await server.close();
    await server.close(); // idempotent
    expect(() => statSync(path)).toThrow(/ENOENT/);
    await expect(querySnapshot(path, { timeoutMs: 2_000 })).rejects.toMatchObject({
      code: 'CONTROL_NOT_RUNNING',
      hint: expect.stringMatching(/start spo run.*--control/),
    });
    const ac = new AbortController();
    const path2 = join(dir, 'abort.sock');
    const s2 = await startControlServer({ path: path2, snapshot: () => fixedSnapshot(), signal: ac.signal });
    ac.abort();
    await s2.close(); // resolves once the abort's close is done
    expect(() => statSync(path2)).toThrow(/ENOENT/);
  });

  it('removeFileSync (the exit hook of a forced exit) removes its own socket file, never one put in its place', async () => {
    const path = join(dir, 'exit.sock');
    const server = await start(path);
    server.removeFileSync();
    expect(() => lstatSync(path)).toThrow(/ENOENT/);
    server.removeFileSync(); // nothing there: no error

    // someone else's socket at the same path after ours was removed: left alone
    const other = plainServer(() => undefined);
    await new Promise<void>((r) => other.listen(path, r));
    server.removeFileSync();
    expect(lstatSync(path).isSocket()).toBe(true);
    const mine = await start(join(dir, 'mine.sock'));
    // a file that is not a socket where ours was: left alone too
    unlinkSync(mine.path);
    writeFileSync(mine.path, 'not yours');
    mine.removeFileSync();
    expect(readFileSync(mine.path, 'utf8')).toBe('not yours');
  });

  it('refuses a request longer than the limit and closes the connection', async () => {
    const path = join(dir, 'big.sock');
    await start(path, { maxRequestBytes: 64 });
    const longLine = await raw(path, `{"request":"${'x'.repeat(100)}"}\n`);
    expect(longLine.closed).toBe(true);
    expect(longLine.lines.map((l) => JSON.parse(l))).toEqual([
      { error: { code: 'CONTROL_REQUEST_TOO_LARGE', message: expect.stringContaining('64 bytes') } },
    ]);
    // no newline at all: refused as soon as the limit is passed, not when the line would end
    const endless = await raw(path, 'y'.repeat(1_000));
    expect(endless.closed).toBe(true);
    expect(JSON.parse(endless.lines[0] ?? '{}')).toMatchObject({ error: { code: 'CONTROL_REQUEST_TOO_LARGE' } });
  });

  it('closes a connection that sends no request within the timeout', async () => {
    const path = join(dir, 'idle.sock');
    await start(path, { timeoutMs: 150 });
    const silent = await raw(path, ''); // ends when the server closes the connection
    expect(silent).toEqual({ lines: [], closed: true });
  });

  it('the client gives up after its timeout on an endpoint that never answers', async () => {
    const path = join(dir, 'mute.sock');
    const mute = plainServer(() => {}); // accepts, never answers
    await new Promise<void>((r) => mute.listen(path, r));
    await expect(querySnapshot(path, { timeoutMs: 150 })).rejects.toMatchObject({
      code: 'CONTROL_TIMEOUT',
      message: expect.stringContaining('150 ms'),
    });
    // and refuses to start a control server there: something live listens
    await expect(start(path)).rejects.toMatchObject({ code: 'CONTROL_IN_USE' });
  });

  it('the client: nothing at the path, something that is not a spo run, an abort', async () => {
    await expect(querySnapshot(join(dir, 'none.sock'))).rejects.toMatchObject({
      code: 'CONTROL_NOT_RUNNING',
      message: expect.stringContaining('no such socket'),
    });
    const path = join(dir, 'other.sock');
    const other = plainServer((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    await new Promise<void>((r) => other.listen(path, r));
    expect(await code(querySnapshot(path, { timeoutMs: 2_000 }))).toBe('CONTROL_BAD_ANSWER');
    const ok = join(dir, 'ok.sock');
    await start(ok);
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(querySnapshot(ok, { signal: ac.signal })).rejects.toThrow('stop');
  });

  it('refuses a socket path longer than a Unix socket allows', async () => {
    const long = join(dir, 'x'.repeat(120), 'run.sock');
    await expect(start(long)).rejects.toMatchObject({ code: 'CONTROL_PATH_TOO_LONG' });
    await expect(querySnapshot(long)).rejects.toMatchObject({ code: 'CONTROL_PATH_TOO_LONG' });
  });
});

describe('defaultControlPath', () => {
  it('next to the topology file, else in the runtime folder, else a per-user folder under the temporary one', () => {
    expect(defaultControlPath({ topologyFile: '/opt/cnode/topology.json' })).toBe('/opt/cnode/topology.json.spo.sock');
    expect(defaultControlPath({ topologyFile: 'rel/topo.json' })).toBe(join(process.cwd(), 'rel/topo.json.spo.sock'));
    expect(defaultControlPath({ env: { XDG_RUNTIME_DIR: '/run/user/1000' } })).toBe('/run/user/1000/spo/run.sock');
    expect(defaultControlPath({ topologyFile: '-', env: {} })).toBe(
      join(tmpdir(), `spo-${process.getuid?.()}`, 'run.sock'),
    );
  });

  it('refuses a per-user temporary folder that is open to others (someone else may have made it)', async () => {
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = dir;
    try {
      const path = defaultControlPath({ env: {} });
      expect(path.startsWith(dir)).toBe(true);
      mkdirSync(join(dir, `spo-${process.getuid?.()}`), { mode: 0o755 });
      await expect(start(path)).rejects.toMatchObject({ code: 'CONTROL_DIR_UNSAFE' });
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
  });
});
