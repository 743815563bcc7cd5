/**
 * The local control endpoint of `spo run`: a Unix socket, owner-only, that answers `spo peers` and
 * `spo top --control` with the node's snapshot (src/node/snapshot.ts). A shell at the edge: the
 * node hands it a function that builds the snapshot; it knows nothing else of the node.
 *
 * Protocol: newline-delimited JSON, one request per line, one answer per line, on a connection the
 * client may keep open. `{"request":"snapshot"}` answers the snapshot; any other request answers
 * `{"error":{"code","message"}}`. Requests are capped in size and every connection in time, so a
 * client that stalls or floods costs a bounded amount.
 *
 * Permissions: the socket is 0600 from the moment it exists (bound under a umask of 0177, then
 * chmod'ed again), in a directory created 0700 when spo has to create it. A per-user folder under
 * the shared temporary directory is used only if it is ours and 0700 (else someone else could have
 * made it to watch or replace the socket).
 *
 * Leaving: close() removes the socket file; a process that exits without it (exit 130 on a second
 * Ctrl-C) removes it from a process 'exit' hook, if the file is still the one it created.
 */
import { type BigIntStats, chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { atExit } from '../lib/at-exit.js';
import { type Clock, systemClock, type Timer } from '../lib/clock.js';
import { describeError, InputError, SpoError } from '../lib/errors.js';
import type { NodeSnapshot } from './snapshot.js';

/** A request line longer than this is refused (the protocol's requests are tens of bytes). */
export const MAX_REQUEST_BYTES = 4096;
/** An answer longer than this is refused by the client (a snapshot of 10,000 peers is a few MiB). */
export const MAX_ANSWER_BYTES = 32 * 1024 * 1024;
/** A connection that sends no complete request, or does not read its answer, within this is closed. */
export const CONNECTION_TIMEOUT_MS = 5_000;
/** At most this many clients at once (an operator runs one or two). */
export const MAX_CONNECTIONS = 32;
/** sun_path is 108 bytes on Linux, the last one the terminating zero. */
const MAX_SOCKET_PATH_BYTES = 107;

const START_HINT = 'start spo run (it opens the control socket), or pass --control with the socket of the running one';

export class ControlError extends SpoError {
  constructor(code: string, message: string, options: ConstructorParameters<typeof SpoError>[2] = {}) {
    super(code, message, options);
    this.name = 'ControlError';
  }
}

export interface DefaultControlPathOptions {
  /** The topology file spo run reads: the socket goes next to it, `<topology>.spo.sock`. */
  topologyFile?: string | undefined;
  /** Defaults to process.env (XDG_RUNTIME_DIR). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Where spo run listens and spo peers looks when no --control is given: next to the topology file
 * (`<topology>.spo.sock`, so two relays on one machine, each with its own topology, do not meet),
 * else `$XDG_RUNTIME_DIR/spo/run.sock`, else a per-user folder under the temporary directory.
 */
export function defaultControlPath(options: DefaultControlPathOptions = {}): string {
  const topology = options.topologyFile;
  if (topology !== undefined && topology !== '' && topology !== '-') return `${resolve(topology)}.spo.sock`;
  return join(runtimeDirectory(options.env ?? process.env), 'run.sock');
}

function runtimeDirectory(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg !== undefined && isAbsolute(xdg)) return join(xdg, 'spo');
  return join(tmpdir(), `spo-${userId()}`);
}

function userId(): string {
  const uid = process.getuid?.();
  return uid === undefined ? userInfo().username : String(uid);
}

function checkPathLength(path: string): void {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    throw new InputError(
      'CONTROL_PATH_TOO_LONG',
      `control socket ${path}: longer than the ${MAX_SOCKET_PATH_BYTES} bytes a Unix socket path may have`,
      { hint: 'pass a shorter path with --control (e.g. under $XDG_RUNTIME_DIR or /tmp)', details: { path } },
    );
  }
}

/**
 * The socket's folder: created 0700 when missing. The per-user folder under the shared temporary
 * directory must be ours and closed to others, whoever made it.
 */
function prepareDirectory(path: string): void {
  const dir = dirname(path);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new ControlError(
      'CONTROL_LISTEN_FAILED',
      `control socket ${path}: cannot create ${dir}: ${describeError(error)}`,
      {
        hint: 'pass --control with a path in a folder you can write',
        details: { path },
      },
    );
  }
  if (dir !== join(tmpdir(), `spo-${userId()}`)) return;
  const st = lstatSync(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o077) !== 0) {
    throw new ControlError(
      'CONTROL_DIR_UNSAFE',
      `control socket ${path}: ${dir} is not a folder of yours closed to others (mode ${(st.mode & 0o777).toString(8)}, owner ${st.uid})`,
      {
        hint: `remove ${dir} (someone else may have made it), or set XDG_RUNTIME_DIR, or pass --control`,
        details: { path },
      },
    );
  }
}

/** Does something accept connections at `path`? (A socket file left by a dead process refuses them.) */
function probeLive(path: string, timeoutMs: number, clock: Clock): Promise<'live' | 'stale' | 'gone'> {
  return new Promise((resolvePromise) => {
    const socket = createConnection({ path });
    const done = (result: 'live' | 'stale' | 'gone'): void => {
      timer.cancel();
      socket.destroy();
      resolvePromise(result);
    };
    // a listener too busy to accept in time is still somebody's: never remove it
    const timer = clock.setTimer(timeoutMs, () => done('live'));
    socket.once('connect', () => done('live'));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') done('gone');
      else if (error.code === 'ECONNREFUSED') done('stale');
      else done('live'); // EACCES: another user's; not ours to remove
    });
  });
}

export interface ControlServerOptions {
  path: string;
  /** Builds the node's snapshot at the time of the request. */
  snapshot: () => NodeSnapshot;
  /** Aborting closes the server (as close() does). */
  signal?: AbortSignal;
  clock?: Clock;
  maxRequestBytes?: number;
  /** Per connection: time to send a complete request, and to read an answer. */
  timeoutMs?: number;
  maxConnections?: number;
}

export interface ControlServer {
  readonly path: string;
  /** Connections open now. */
  connections(): number;
  /** Stops listening, closes every connection and removes the socket file. Idempotent. */
  close(): Promise<void>;
  /**
   * Removes the socket file now, synchronously, if it is still the one this server created (same
   * device, inode and change time); a file someone else put at the path is left alone. For a
   * process that leaves without close(): it runs from process 'exit' (e.g. exit 130 on a second
   * Ctrl-C, src/base-command.ts) while the server is open.
   */
  removeFileSync(): void;
}

type FileIdentity = Pick<BigIntStats, 'dev' | 'ino' | 'ctimeNs'>;

function identityOf(path: string): FileIdentity | undefined {
  try {
    const st = lstatSync(path, { bigint: true });
    return st.isSocket() ? { dev: st.dev, ino: st.ino, ctimeNs: st.ctimeNs } : undefined;
  } catch {
    return undefined;
  }
}

/** Unlinks `path` if it is the socket file `created` describes; never throws (it runs at exit). */
function removeIfSame(path: string, created: FileIdentity): void {
  const now = identityOf(path);
  // an inode number alone can be reused by a file made after ours was removed: the change time too
  if (now === undefined || now.dev !== created.dev || now.ino !== created.ino || now.ctimeNs !== created.ctimeNs)
    return;
  try {
    unlinkSync(path);
  } catch {
    // gone meanwhile, or the folder is no longer writable: nothing more to do at exit
  }
}

/** Opens the control endpoint; refuses a path where something live already listens. */
export async function startControlServer(options: ControlServerOptions): Promise<ControlServer> {
  const path = resolve(options.path);
  const clock = options.clock ?? systemClock;
  const maxRequestBytes = options.maxRequestBytes ?? MAX_REQUEST_BYTES;
  const timeoutMs = options.timeoutMs ?? CONNECTION_TIMEOUT_MS;
  checkPathLength(path);
  prepareDirectory(path);
  await clearStale(path, clock);

  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: false, pauseOnConnect: false }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serveConnection(socket, { snapshot: options.snapshot, clock, maxRequestBytes, timeoutMs });
  });
  server.maxConnections = options.maxConnections ?? MAX_CONNECTIONS;
  await listenOwnerOnly(server, path);
  // the file as this server created it (after the chmod): what a forced exit may remove
  const created = identityOf(path);
  const removeFileSync = (): void => {
    if (created !== undefined) removeIfSame(path, created);
  };
  const offExit = atExit(removeFileSync);

  let closing: Promise<void> | undefined;
  const onAbort = (): void => {
    void close();
  };
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolvePromise) => {
      options.signal?.removeEventListener('abort', onAbort);
      for (const s of sockets) s.destroy();
      // libuv removes the socket file when the listening handle closes
      server.close(() => {
        offExit();
        resolvePromise();
      });
    });
    return closing;
  };
  if (options.signal?.aborted) await close();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  return { path, connections: () => sockets.size, close, removeFileSync };
}

async function clearStale(path: string, clock: Clock): Promise<void> {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new ControlError('CONTROL_LISTEN_FAILED', `control socket ${path}: ${describeError(error)}`, {
      hint: 'pass --control with a path in a folder you can read',
      details: { path },
    });
  }
  if (!st.isSocket()) {
    throw new ControlError('CONTROL_PATH_TAKEN', `control socket ${path}: a file that is not a socket is in the way`, {
      hint: 'spo does not remove it: move it away, or pass --control with another path',
      details: { path },
    });
  }
  const state = await probeLive(path, 1_000, clock);
  if (state === 'live') {
    throw new ControlError(
      'CONTROL_IN_USE',
      `control socket ${path}: another process (a spo run?) is listening there`,
      {
        hint: 'stop it first, or give this spo run its own socket with --control PATH',
        details: { path },
      },
    );
  }
  if (state === 'stale') {
    try {
      unlinkSync(path); // left by a process that died without closing it
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new ControlError(
          'CONTROL_LISTEN_FAILED',
          `control socket ${path}: cannot remove the stale socket: ${describeError(error)}`,
          {
            hint: 'remove it by hand, or pass --control with another path',
            details: { path },
          },
        );
      }
    }
  }
}

function listenOwnerOnly(server: Server, path: string): Promise<void> {
  return new Promise<void>((resolvePromise, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      if (error.code === 'EADDRINUSE') {
        reject(
          new ControlError('CONTROL_IN_USE', `control socket ${path}: another process started listening there first`, {
            hint: 'stop it first, or give this spo run its own socket with --control PATH',
            details: { path },
          }),
        );
      } else {
        reject(
          new ControlError('CONTROL_LISTEN_FAILED', `control socket ${path}: cannot listen: ${describeError(error)}`, {
            hint: 'pass --control with a path in a folder you can write',
            details: { path },
          }),
        );
      }
    };
    server.once('error', onError);
    // The bind happens inside listen(), synchronously (exclusive: no cluster round trip): under this
    // umask the socket file is born 0600, with no moment in which others could connect.
    const previous = process.umask(0o177);
    try {
      server.listen({ path, exclusive: true }, () => {
        server.removeListener('error', onError);
        try {
          chmodSync(path, 0o600);
          resolvePromise();
        } catch (error) {
          server.close();
          onError(error as NodeJS.ErrnoException);
        }
      });
    } finally {
      process.umask(previous);
    }
  });
}

interface ConnectionOptions {
  snapshot: () => NodeSnapshot;
  clock: Clock;
  maxRequestBytes: number;
  timeoutMs: number;
}

function serveConnection(socket: Socket, o: ConnectionOptions): void {
  let buffered = '';
  let writing = false;
  let timer: Timer | undefined;
  const arm = (): void => {
    timer?.cancel();
    timer = o.clock.setTimer(o.timeoutMs, () => socket.destroy());
  };
  // One request at a time: the next line is read once the previous answer is written, so a client
  // that sends many requests and reads none holds one answer in memory, not many.
  const pump = (): void => {
    while (!writing && !socket.destroyed) {
      const nl = buffered.indexOf('\n');
      const pending = nl < 0 ? buffered : buffered.slice(0, nl);
      if (Buffer.byteLength(pending) > o.maxRequestBytes) {
        buffered = '';
        writing = true;
        socket.pause();
        arm();
        const refusal = controlErrorAnswer(
          'CONTROL_REQUEST_TOO_LARGE',
          `a request is longer than ${o.maxRequestBytes} bytes`,
        );
        socket.end(`${JSON.stringify(refusal)}\n`);
        return;
      }
      if (nl < 0) return;
      buffered = buffered.slice(nl + 1);
      if (pending.trim() === '') continue;
      writing = true;
      socket.pause();
      arm(); // the client has until the timeout to read the answer
      socket.write(`${JSON.stringify(answer(pending, o.snapshot))}\n`, (error) => {
        if (error) return;
        writing = false;
        arm(); // and again to send its next request
        socket.resume();
        pump();
      });
    }
  };
  arm();
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    pump();
  });
  socket.on('error', () => {}); // a client that goes away mid-answer is its own business
  socket.once('close', () => timer?.cancel());
}

function controlErrorAnswer(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

/** The answer to one request line. */
function answer(line: string, snapshot: () => NodeSnapshot): unknown {
  let request: unknown;
  try {
    request = JSON.parse(line);
  } catch {
    return controlErrorAnswer(
      'CONTROL_BAD_REQUEST',
      'a request is one JSON object per line, e.g. {"request":"snapshot"}',
    );
  }
  const name =
    request !== null && typeof request === 'object' && 'request' in request
      ? (request as { request: unknown }).request
      : undefined;
  if (name !== 'snapshot') {
    return controlErrorAnswer(
      'CONTROL_UNKNOWN_REQUEST',
      `unknown request ${JSON.stringify(name ?? null).slice(0, 64)}; known: "snapshot"`,
    );
  }
  try {
    return snapshot();
  } catch (error) {
    return controlErrorAnswer('INTERNAL', `the snapshot could not be made: ${describeError(error)}`);
  }
}

export interface QueryOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  clock?: Clock;
  maxAnswerBytes?: number;
}

/** Sends one request and returns the answer line parsed (an `{"error"}` answer is thrown as CONTROL_ERROR). */
export function queryControl(
  path: string,
  request: Record<string, unknown>,
  options: QueryOptions = {},
): Promise<unknown> {
  const abs = resolve(path);
  checkPathLength(abs);
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? CONNECTION_TIMEOUT_MS;
  const maxAnswerBytes = options.maxAnswerBytes ?? MAX_ANSWER_BYTES;
  return new Promise<unknown>((resolvePromise, reject) => {
    if (options.signal?.aborted) {
      reject(options.signal.reason);
      return;
    }
    const socket = createConnection({ path: abs });
    const chunks: Buffer[] = [];
    let bytes = 0;
    let settled = false;
    const finish = (error: unknown, value?: unknown): void => {
      if (settled) return;
      settled = true;
      timer.cancel();
      options.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (error === undefined) resolvePromise(value);
      else reject(error);
    };
    const onAbort = (): void => finish(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = clock.setTimer(timeoutMs, () =>
      finish(
        new ControlError('CONTROL_TIMEOUT', `control socket ${abs}: no answer within ${timeoutMs} ms`, {
          hint: 'the spo run there is stuck or overloaded; try again, or raise --timeout',
          details: { path: abs, timeoutMs },
        }),
      ),
    );
    socket.once('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: Buffer) => {
      const nl = chunk.indexOf(0x0a);
      const part = nl < 0 ? chunk : chunk.subarray(0, nl);
      bytes += part.length;
      if (bytes > maxAnswerBytes) {
        finish(
          new ControlError(
            'CONTROL_BAD_ANSWER',
            `control socket ${abs}: an answer longer than ${maxAnswerBytes} bytes`,
            {
              hint: 'is a spo run listening there?',
              details: { path: abs },
            },
          ),
        );
        return;
      }
      chunks.push(part);
      if (nl >= 0) settleAnswer(Buffer.concat(chunks).toString('utf8'));
    });
    socket.once('end', () =>
      finish(
        new ControlError('CONTROL_BAD_ANSWER', `control socket ${abs}: the connection closed before an answer`, {
          hint: 'is a spo run listening there?',
          details: { path: abs },
        }),
      ),
    );
    socket.once('error', (error: NodeJS.ErrnoException) => finish(connectError(abs, error)));
    const settleAnswer = (line: string): void => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        finish(
          new ControlError('CONTROL_BAD_ANSWER', `control socket ${abs}: the answer is not JSON`, {
            hint: 'is a spo run listening there?',
            details: { path: abs },
          }),
        );
        return;
      }
      if (parsed !== null && typeof parsed === 'object' && 'error' in parsed) {
        const e = (parsed as { error: { code?: unknown; message?: unknown } }).error;
        const code = typeof e?.code === 'string' ? e.code : 'UNKNOWN';
        finish(
          new ControlError(
            'CONTROL_ERROR',
            `control socket ${abs}: spo run answered ${code}: ${String(e?.message ?? '')}`,
            {
              details: { path: abs, code },
            },
          ),
        );
        return;
      }
      finish(undefined, parsed);
    };
  });
}

function connectError(path: string, error: NodeJS.ErrnoException): SpoError {
  if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') {
    return new ControlError(
      'CONTROL_NOT_RUNNING',
      `control socket ${path}: no spo run is listening there (${error.code === 'ENOENT' ? 'no such socket' : 'connection refused'})`,
      { hint: START_HINT, details: { path } },
    );
  }
  if (error.code === 'EACCES' || error.code === 'EPERM') {
    return new ControlError('CONTROL_PERMISSION', `control socket ${path}: permission denied`, {
      hint: 'the socket is owner-only: run this as the user that runs spo run',
      details: { path },
    });
  }
  if (error.code === 'ENOTSOCK' || error.code === 'ENOTDIR') {
    return new ControlError('CONTROL_NOT_RUNNING', `control socket ${path}: not a socket`, {
      hint: START_HINT,
      details: { path },
    });
  }
  return new ControlError('CONTROL_UNREACHABLE', `control socket ${path}: ${describeError(error)}`, {
    hint: START_HINT,
    details: { path },
  });
}

/** Asks for the snapshot; checks that the answer looks like one. */
export async function querySnapshot(path: string, options: QueryOptions = {}): Promise<NodeSnapshot> {
  const answer = await queryControl(path, { request: 'snapshot' }, options);
  if (
    answer === null ||
    typeof answer !== 'object' ||
    (answer as { event?: unknown }).event !== 'snapshot' ||
    !Array.isArray((answer as { peers?: unknown }).peers)
  ) {
    throw new ControlError('CONTROL_BAD_ANSWER', `control socket ${resolve(path)}: the answer is not a node snapshot`, {
      hint: 'is a spo run listening there?',
      details: { path: resolve(path) },
    });
  }
  return answer as NodeSnapshot;
}
