/**
 * The responder side over TCP (`spo serve`, the tests, later the local testnet): accepts
 * connections, runs the acceptor handshake (highest common version, combined version data, query
 * replies, refusals as the node words them) and serves each negotiated connection with the node
 * responders (protocols/responders.ts): keep-alive, peer sharing from a list, chain-sync over a
 * synthetic chain that grows on a schedule, block-fetch (no blocks) and tx-submission (MsgInit).
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { formatEndpoint } from '../lib/address.js';
import { type Clock, type Millis, systemClock, type Timer } from '../lib/clock.js';
import { PROTOCOL_IDLE_TIMEOUT } from '../node/connection-manager/core.js';
import { ConnectionManager, type HandshakeOutcome, type NodeTraceEvent } from '../node/connection-manager/shell.js';
import { type ServerTrace, startAcceptLoops } from '../node/server/accept-loop.js';
import { type AcceptedConnectionsLimit, DEFAULT_ACCEPTED_CONNECTIONS_LIMIT } from '../node/server/rate-limit.js';
import { SyntheticChain } from './chain.js';
import { DEFAULT_VERSIONS, type VersionData } from './codec/handshake.js';
import type { PeerAddress } from './codec/peer-sharing.js';
import type { Connection } from './connection.js';
import type { NetError } from './errors.js';
import type { PeerSource } from './protocols/peer-sharing/responder.js';
import { nodeResponders } from './protocols/responders.js';
import type { Responders } from './protocols/types.js';
import type { Bearer, BearerSink } from './transport/bearer.js';
import { TcpBearer } from './transport/tcp.js';

/** Test-only misbehaviour, for checking clients (ping, probe) against broken peers. */
export type ServerFault =
  | { kind: 'none' }
  /** Accept TCP, read everything, never answer. */
  | { kind: 'never-answer' }
  /** Read the proposal, then close the connection without answering. */
  | { kind: 'close-mid-handshake' }
  /** Delay every answer by `ms`. */
  | { kind: 'slow'; ms: number };

export function parseFault(text: string): ServerFault {
  if (text === 'none') return { kind: 'none' };
  if (text === 'never-answer' || text === 'close-mid-handshake') return { kind: text };
  const m = /^slow=(\d+)$/.exec(text);
  if (m) return { kind: 'slow', ms: Number(m[1]) };
  throw new Error(`unknown fault "${text}" (never-answer, close-mid-handshake, slow=MS)`);
}

export interface ServerOptions {
  /** Address to listen on (default 127.0.0.1); `hosts` listens on several (IPv4 and IPv6) with one port. */
  host?: string;
  hosts?: readonly string[];
  /** 0 = any free port. */
  port?: number;
  magic: number;
  /** A new header every this many ms (0 = the chain does not grow). */
  blockIntervalMs?: number;
  /** Blocks on the chain at start. */
  initialBlocks?: number;
  /** Addresses shared by peer sharing. */
  peers?: PeerAddress[];
  /** Versions offered (default 14, 15). */
  versions?: readonly number[];
  /** Our own version data flags (default duplex, peer sharing on). */
  initiatorOnly?: boolean;
  peerSharing?: boolean;
  fault?: ServerFault;
  /** AcceptedConnectionsLimit (default the node's 512 / 384 / 5 s). */
  acceptedConnectionsLimit?: AcceptedConnectionsLimit;
  /** @deprecated the hard limit; use `acceptedConnectionsLimit`. */
  maxConnections?: number;
  /**
   * The inbound governor's idle timeout (the node's ProtocolIdleTimeout, default 5 s): a connection
   * on which no responder runs for this long, after the handshake or after the last responder
   * ended, is closed. 0 = never.
   */
  idleTimeoutMs?: number;
  /** The connection manager's TIME_WAIT (default 60 s). */
  timeWaitTimeoutMs?: number;
  chain?: SyntheticChain;
  /** Responders instead of the node ones over `chain` and `peers`. */
  responders?: Responders;
  clock?: Clock;
}

export interface ServerEvents {
  connection: [remote: string];
  handshake: [remote: string, outcome: string];
  /** A negotiated inbound connection (a duplex one can run our initiator protocols too). */
  negotiated: [remote: string, connection: Connection];
  disconnect: [remote: string, error: NetError | undefined];
  /** Every state change of the connection manager, the inbound governor and the sockets. */
  trace: [event: NodeTraceEvent];
  /** The accept loops' rate limiting and errors. */
  server: [event: ServerTrace, at: Millis];
  /** The handshake's full outcome (a refusal says why). */
  handshakeOutcome: [outcome: HandshakeOutcome];
}

export interface RunningServer {
  /** The address the server listens on, e.g. `127.0.0.1:3001` or `[::1]:3001` (the first of several). */
  address: string;
  /** Every address listened on. */
  addresses: string[];
  host: string;
  port: number;
  chain: SyntheticChain;
  events: EventEmitter<ServerEvents>;
  /** The connection manager (counters, traces). */
  manager: ConnectionManager;
  limit: AcceptedConnectionsLimit;
  connections(): number;
  stats(): { accepted: number; handshakes: number; refused: number; errors: number };
  /** Resolves when closed; rejects with ACCEPT_FAILED when an accept error ended the server. */
  done: Promise<void>;
  close(): Promise<void>;
}

/** The handshake outcome in words for a log line: a refusal names the versions or the magic numbers. */
export function describeHandshake(o: HandshakeOutcome, ours: { versions: readonly number[]; magic: number }): string {
  switch (o.outcome) {
    case 'accepted':
      return `accepted v${o.version}`;
    case 'query':
      return 'query';
    case 'refused': {
      const r = o.refusal;
      if (r === undefined) return 'refused';
      if (r.kind === 'VersionMismatch')
        return `refused: VersionMismatch (no common version; we offer ${ours.versions.join(',')})`;
      if (r.kind === 'HandshakeDecodeError') return `refused: HandshakeDecodeError (v${r.version}: ${r.message})`;
      const magic = /magic|NetworkMagic/i.test(r.message) ? `; our magic is ${ours.magic}` : '';
      return `refused: Refused (v${r.version}: ${r.message}${magic})`;
    }
    case 'failed':
      return `failed: ${o.error?.code ?? 'error'}${o.error ? ` (${o.error.message})` : ''}`;
  }
}

/** A bearer whose writes leave `ms` late (the `slow` fault): every answer arrives that much later. */
class SlowBearer implements Bearer {
  readonly kind = 'tcp';
  private pending = 0;
  private ending = false;
  private readonly timers = new Set<Timer>();

  constructor(
    private readonly inner: Bearer,
    private readonly clock: Clock,
    private readonly ms: Millis,
  ) {}
  get local() {
    return this.inner.local;
  }
  get remote() {
    return this.inner.remote;
  }
  attach(sink: BearerSink): void {
    this.inner.attach(sink);
  }
  write(chunk: Uint8Array): boolean {
    const copy = Uint8Array.from(chunk);
    this.pending++;
    const t = this.clock.setTimer(this.ms, () => {
      this.timers.delete(t);
      this.pending--;
      if (!this.inner.destroyed) this.inner.write(copy);
      if (this.pending === 0 && this.ending) this.inner.end();
    });
    this.timers.add(t);
    return true;
  }
  get writableLength(): number {
    return this.inner.writableLength;
  }
  end(): void {
    this.ending = true;
    if (this.pending === 0) this.inner.end();
  }
  reset(): void {
    for (const t of this.timers) t.cancel();
    this.inner.reset();
  }
  destroy(): void {
    for (const t of this.timers) t.cancel();
    this.inner.destroy();
  }
  get destroyed(): boolean {
    return this.inner.destroyed;
  }
  unref(): void {
    this.inner.unref();
  }
}

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const hosts = o.hosts ?? [o.host ?? '127.0.0.1'];
  const fault = o.fault ?? { kind: 'none' };
  const clock = o.clock ?? systemClock;
  const chain = o.chain ?? new SyntheticChain();
  for (let i = chain.blocks.length; i < (o.initialBlocks ?? 10); i++) chain.extend();
  const versions = o.versions ?? DEFAULT_VERSIONS;
  const data: VersionData = {
    networkMagic: o.magic,
    initiatorOnly: o.initiatorOnly ?? false,
    peerSharing: (o.peerSharing ?? true) ? 1 : 0,
    query: false,
    perasSupport: false,
  };
  const limit: AcceptedConnectionsLimit =
    o.acceptedConnectionsLimit ??
    (o.maxConnections === undefined
      ? DEFAULT_ACCEPTED_CONNECTIONS_LIMIT
      : {
          ...DEFAULT_ACCEPTED_CONNECTIONS_LIMIT,
          hard: o.maxConnections,
          soft: Math.min(o.maxConnections, DEFAULT_ACCEPTED_CONNECTIONS_LIMIT.soft),
        });
  const listed = o.peers ?? [];
  // peer sharing offers the listed peers and the mature duplex peers the inbound governor knows
  // (connected for 15 min or more), as the node offers its mature inbound peers
  let manager: ConnectionManager | undefined;
  const shared: PeerSource = () => [...listed, ...(manager?.matureDuplexPeers() ?? [])];
  const responders = o.responders ?? nodeResponders({ chain, peers: shared });
  const events = new EventEmitter<ServerEvents>();
  const raw = new Set<Socket>();
  const stats = { accepted: 0, handshakes: 0, refused: 0, errors: 0 };
  const idle = o.idleTimeoutMs ?? PROTOCOL_IDLE_TIMEOUT;
  manager = new ConnectionManager({
    clock,
    hardLimit: limit.hard,
    handshake: { versions, data, responders },
    protocolIdleTimeout: idle > 0 ? idle : Number.POSITIVE_INFINITY,
    ...(o.timeWaitTimeoutMs === undefined ? {} : { timeWaitTimeout: o.timeWaitTimeoutMs }),
  });
  manager.on('trace', (e) => events.emit('trace', e));
  manager.on('handshake', (h) => {
    if (h.outcome === 'accepted') stats.handshakes++;
    else if (h.outcome === 'refused') stats.refused++;
    events.emit('handshakeOutcome', h);
    events.emit('handshake', h.peer, describeHandshake(h, { versions, magic: o.magic }));
  });
  manager.on('negotiated', (_conn, connection, provenance) => {
    if (provenance === 'inbound') events.emit('negotiated', connection.where, connection);
  });
  manager.on('socketClosed', (_sock, _conn, peer, err) => {
    if (err && err.code !== 'CONNECTION_CLOSED' && err.code !== 'CONNECTION_RESET') stats.errors++;
    events.emit('disconnect', peer, err);
  });

  /** The test-only faults that never reach the handshake take the socket before the manager. */
  const intercept = (socket: Socket): boolean => {
    if (fault.kind !== 'never-answer' && fault.kind !== 'close-mid-handshake') return false;
    stats.accepted++;
    events.emit('connection', formatEndpoint({ host: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 }));
    raw.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => raw.delete(socket));
    // close-mid-handshake: the proposal came in; leave without an answer (RST).
    socket.on('data', () => {
      if (fault.kind === 'close-mid-handshake') socket.resetAndDestroy();
    });
    socket.resume();
    return true;
  };
  const bearer = (socket: Socket): Bearer => {
    stats.accepted++;
    events.emit('connection', formatEndpoint({ host: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 }));
    const tcp = new TcpBearer(socket);
    return fault.kind === 'slow' ? new SlowBearer(tcp, clock, fault.ms) : tcp;
  };

  let growth: Timer | undefined;
  const grow = (): void => {
    growth = clock.setTimer(o.blockIntervalMs as number, () => {
      chain.extend();
      grow();
    });
  };

  const server = await startAcceptLoops({
    target: manager,
    hosts,
    port: o.port ?? 0,
    limit,
    clock,
    bearer,
    intercept,
  });
  server.events.on('trace', (e, at) => events.emit('server', e, at));
  if (o.blockIntervalMs && o.blockIntervalMs > 0) grow();
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      growth?.cancel();
      await server.close();
      await manager.close(500);
      for (const s of raw) s.destroy();
    })();
    return closing;
  };
  // an accept error that ends the server stops the rest too
  const done = server.done.catch(async (e: unknown) => {
    await close();
    throw e;
  });
  done.catch(() => undefined);
  const first = server.addresses[0] as { host: string; port: number };
  return {
    address: formatEndpoint(first),
    addresses: server.addresses.map((a) => formatEndpoint(a)),
    host: first.host,
    port: server.port,
    chain,
    events,
    manager,
    limit,
    connections: () => manager.sockets + raw.size,
    stats: () => ({ ...stats }),
    done,
    close,
  };
}
