/**
 * The responder side over TCP (`spo serve`, the tests, later the local testnet): accepts
 * connections, runs the acceptor handshake (highest common version, combined version data, query
 * replies, refusals as the node words them) and serves each negotiated connection with the node
 * responders (protocols/responders.ts): keep-alive, peer sharing from a list, chain-sync over a
 * synthetic chain that grows on a schedule, block-fetch (no blocks) and tx-submission (MsgInit).
 */
import { EventEmitter } from 'node:events';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import { formatEndpoint } from '../lib/address.js';
import { type Clock, type Millis, systemClock, type Timer } from '../lib/clock.js';
import { SyntheticChain } from './chain.js';
import { DEFAULT_VERSIONS, type VersionData } from './codec/handshake.js';
import type { PeerAddress } from './codec/peer-sharing.js';
import { type Connection, openConnection } from './connection.js';
import type { NetError } from './errors.js';
import { Mux } from './mux/mux.js';
import { staticPeers } from './protocols/peer-sharing/responder.js';
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
  host?: string;
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
  maxConnections?: number;
  /**
   * Close an inbound connection on which no responder runs for this long: after the handshake,
   * and after the last responder ended (the node's 5 s protocol idle timeout). Default: off.
   */
  idleTimeoutMs?: number;
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
}

export interface RunningServer {
  /** The address the server listens on, e.g. `127.0.0.1:3001` or `[::1]:3001`. */
  address: string;
  host: string;
  port: number;
  chain: SyntheticChain;
  events: EventEmitter<ServerEvents>;
  connections(): number;
  stats(): { accepted: number; handshakes: number; refused: number; errors: number };
  close(): Promise<void>;
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
  const host = o.host ?? '127.0.0.1';
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
  const responders = o.responders ?? nodeResponders({ chain, peers: staticPeers(o.peers ?? []) });
  const events = new EventEmitter<ServerEvents>();
  const muxes = new Set<Mux>();
  const raw = new Set<Socket>();
  const stats = { accepted: 0, handshakes: 0, refused: 0, errors: 0 };

  const server: Server = createServer({ noDelay: true }, (socket) => {
    stats.accepted++;
    const remote = formatEndpoint({ host: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 });
    events.emit('connection', remote);
    if (fault.kind === 'never-answer' || fault.kind === 'close-mid-handshake') {
      raw.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => raw.delete(socket));
      // close-mid-handshake: the proposal came in; leave without an answer (RST).
      socket.on('data', () => {
        if (fault.kind === 'close-mid-handshake') socket.resetAndDestroy();
      });
      return;
    }
    const tcp = new TcpBearer(socket);
    const bearer = fault.kind === 'slow' ? new SlowBearer(tcp, clock, fault.ms) : tcp;
    const mux = new Mux(bearer, { clock });
    muxes.add(mux);
    mux.on('close', (err) => {
      muxes.delete(mux);
      if (err && err.code !== 'CONNECTION_CLOSED' && err.code !== 'CONNECTION_RESET') stats.errors++;
      events.emit('disconnect', remote, err);
    });
    void accept(mux, remote);
  });
  server.maxConnections = o.maxConnections ?? 512;

  async function accept(mux: Mux, remote: string): Promise<void> {
    try {
      const r = await openConnection(mux, { role: 'acceptor', versions, data, responders });
      if (r.kind === 'refused') {
        stats.refused++;
        events.emit('handshake', remote, `refused: ${r.reason.kind}`);
        return;
      }
      if (r.kind === 'query') {
        events.emit('handshake', remote, 'query');
        return;
      }
      stats.handshakes++;
      events.emit('handshake', remote, `accepted v${r.connection.version}`);
      if (o.idleTimeoutMs && o.idleTimeoutMs > 0) closeWhenIdle(r.connection, o.idleTimeoutMs);
      events.emit('negotiated', remote, r.connection);
    } catch {
      // the mux has recorded the error and closed the connection
    }
  }

  /** Closes the connection when no responder has been running for `ms` (wire.md §1 item 5). */
  function closeWhenIdle(conn: Connection, ms: Millis): void {
    let running = 0;
    let timer: Timer | undefined;
    const arm = (): void => {
      timer = clock.setTimer(ms, () => void conn.close());
    };
    conn.on('responderStart', () => {
      running++;
      timer?.cancel();
      timer = undefined;
    });
    conn.on('responderEnd', () => {
      running--;
      if (running === 0) arm();
    });
    conn.on('close', () => timer?.cancel());
    arm();
  }

  let growth: Timer | undefined;
  const grow = (): void => {
    growth = clock.setTimer(o.blockIntervalMs as number, () => {
      chain.extend();
      grow();
    });
  };
  if (o.blockIntervalMs && o.blockIntervalMs > 0) grow();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: o.port ?? 0, ipv6Only: isIPv6(host) }, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (o.port ?? 0);
  const boundHost = typeof addr === 'object' && addr ? addr.address : host;
  return {
    address: formatEndpoint({ host: boundHost, port }),
    host: boundHost,
    port,
    chain,
    events,
    connections: () => muxes.size + raw.size,
    stats: () => ({ ...stats }),
    close: async () => {
      growth?.cancel();
      const closed = new Promise<void>((r) => server.close(() => r()));
      await Promise.all([...muxes].map((m) => m.close(500)));
      for (const s of raw) s.destroy();
      await closed;
    },
  };
}
