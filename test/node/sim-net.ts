/**
 * A small simulated network for the node cores' property tests, in virtual time on the event kernel
 * (src/sim/scheduler.ts): several nodes, each a composed connection manager + inbound governor
 * (src/node/node-core.ts), joined by simulated TCP connections with per-direction FIFO latency,
 * 4-tuple uniqueness (a dial bound to an address pair already in use fails), TCP simultaneous open,
 * a handshake that the responder finishes before the initiator, and each node's outbound side
 * driven by a script (acquire, warm, hot, release) whose mini-protocol traffic starts and stops the
 * remote's responders. This is the harness (the "shell" of the tests); nothing here is product code.
 */
import { createRng, type Rng } from '../../src/governor/rng.js';
import type { Timer } from '../../src/lib/clock.js';
import {
  type AcquireResult,
  type CmTrace,
  type ConnId,
  defaultCmConfig,
  deriveCmCounters,
  type SocketId,
} from '../../src/node/connection-manager/core.js';
import { deriveIgCounters, type IgTrace } from '../../src/node/inbound-governor/core.js';
import {
  initialNodeState,
  type NodeAction,
  type NodeEvent,
  type NodeState,
  nodeStep,
} from '../../src/node/node-core.js';
import type { CmSt, RemoteStOrNone, Transition } from '../../src/node/transitions.js';
import { Scheduler } from '../../src/sim/scheduler.js';

interface End {
  node: SimNode;
  sock: SocketId;
  conn: ConnId | undefined;
  addr: string;
  initiator: boolean;
  hsStarted: boolean;
  open: boolean;
}

interface Tcp {
  id: number;
  key: string;
  a: End;
  /** The far end: set when the dial is established (accepted, or the other dial of a simultaneous open). */
  b: End | undefined;
  target: string;
  state: 'dialing' | 'open' | 'closed';
  simultaneous: boolean;
  hsScheduled: boolean;
}

/** What a node's outbound side does with a connection it acquired. */
interface Usage {
  conn: ConnId;
  peer: string;
  hot: boolean;
  /** Running initiators by temperature, mirrored as responders at the remote end. */
  running: { hot: number; warm: number };
}

export interface NodeSpec {
  /** Runs as initiator and responder (listens, binds outbound sockets to its listening address). */
  duplex: boolean;
  hardLimit: number;
}

export class SimNode {
  readonly state: NodeState;
  readonly cmTransitions: Transition<CmSt>[] = [];
  readonly remoteTransitions: Transition<RemoteStOrNone>[] = [];
  readonly cmTrace: CmTrace[] = [];
  readonly igTrace: IgTrace[] = [];
  readonly errors: string[] = [];
  readonly usage = new Map<ConnId, Usage>();
  readonly timers = new Map<string, Timer>();
  nextAccept = 1;
  steps = 0;
  matured = 0;

  constructor(
    readonly net: SimNet,
    readonly name: string,
    readonly addr: string,
    readonly spec: NodeSpec,
  ) {
    this.state = initialNodeState(
      defaultCmConfig(spec.duplex ? addr : undefined, spec.hardLimit),
      createRng(net.seed ^ addr.length),
    );
  }

  step(event: NodeEvent): ReturnType<typeof nodeStep> {
    const now = this.net.sched.now();
    const r = nodeStep(this.state, event, now);
    this.steps++;
    for (const t of r.cmTrace) {
      this.cmTrace.push(t);
      if (t.type === 'transition') this.cmTransitions.push({ conn: t.conn, from: t.from, to: t.to, at: t.at });
    }
    for (const t of r.igTrace) {
      this.igTrace.push(t);
      if (t.type === 'remoteTransition')
        this.remoteTransitions.push({ conn: t.conn, from: t.from, to: t.to, at: t.at });
    }
    // invariants after every step
    const cmc = deriveCmCounters(this.state.cm);
    if (JSON.stringify(cmc) !== JSON.stringify(this.state.cm.counters))
      this.errors.push(
        `${this.name} ${now}: cm counters ${JSON.stringify(this.state.cm.counters)} != ${JSON.stringify(cmc)}`,
      );
    const igc = deriveIgCounters(this.state.ig);
    if (JSON.stringify(igc) !== JSON.stringify(this.state.ig.counters))
      this.errors.push(`${this.name} ${now}: ig counters disagree`);
    // maturedPeers (§12.2): every tracked duplex peer is fresh or mature, none is fresh for longer
    // than the mature delay plus one wake-up period
    const ig = this.state.ig;
    for (const c of ig.conns.values()) {
      if (c.dataFlow === 'duplex' && !ig.fresh.has(c.peer) && !ig.mature.has(c.peer))
        this.errors.push(`${this.name} ${now}: duplex peer ${c.peer} lost from fresh/mature`);
    }
    for (const [peer, since] of ig.fresh) {
      if (now - since > ig.config.matureDelay + ig.config.inactionTimeout)
        this.errors.push(`${this.name} ${now}: ${peer} still fresh after ${now - since} ms`);
    }
    this.matured += r.igTrace.filter((t) => t.type === 'matured').length;
    if (cmc.inboundConns > this.spec.hardLimit)
      this.errors.push(`${this.name} ${now}: ${cmc.inboundConns} inbound > hard limit ${this.spec.hardLimit}`);
    for (const a of r.actions) this.perform(a);
    return r;
  }

  private timerKey(conn: ConnId | 'wakeup', timer: string): string {
    return `${conn}/${timer}`;
  }

  private perform(a: NodeAction): void {
    const net = this.net;
    switch (a.type) {
      case 'connect':
        net.dial(this, a.peer, a.sock, a.conn, a.bindLocal);
        return;
      case 'startHandshake':
        net.startHandshake(this, a.sock);
        return;
      case 'closeSocket':
        net.close(this, a.sock);
        return;
      case 'armTimer': {
        const key = this.timerKey(a.conn, a.timer);
        this.timers.get(key)?.cancel();
        this.timers.set(
          key,
          net.sched.at(a.at, () => {
            this.timers.delete(key);
            this.step({ type: 'timer', conn: a.conn, timer: a.timer });
          }),
        );
        return;
      }
      case 'cancelTimer': {
        const key = this.timerKey(a.conn, a.timer);
        this.timers.get(key)?.cancel();
        this.timers.delete(key);
        return;
      }
      case 'armWakeup': {
        const key = this.timerKey('wakeup', 'wakeup');
        this.timers.get(key)?.cancel();
        this.timers.set(
          key,
          net.sched.at(a.at, () => {
            this.timers.delete(key);
            this.step({ type: 'wakeup' });
          }),
        );
        return;
      }
      case 'acquireDone':
        this.onAcquired(a.peer, a.result);
        return;
      case 'connectionClosed':
        this.usage.delete(a.conn);
        return;
      case 'newConnection':
        return;
    }
  }

  acquire(peer: string): void {
    const r = this.step({ type: 'acquireOutbound', peer });
    const res = r.result;
    if (
      res &&
      typeof res === 'object' &&
      'kind' in res &&
      res.kind !== 'pending' &&
      res.kind !== 'included' &&
      res.kind !== 'refused'
    )
      this.onAcquired(peer, res);
  }

  private onAcquired(peer: string, r: AcquireResult): void {
    if (r.kind !== 'connected') return;
    const u: Usage = { conn: r.conn, peer, hot: false, running: { hot: 0, warm: 0 } };
    this.usage.set(r.conn, u);
    // warm: the established and warm initiators start (one non-hot mini-protocol here)
    this.startInitiator(u, false);
    if (this.net.windingDown) this.release(u.conn);
  }

  private startInitiator(u: Usage, hot: boolean): void {
    if (hot) u.running.hot++;
    else u.running.warm++;
    this.net.toRemote(this, u.conn, (end) => ({ type: 'responderStarted', conn: end, hot }));
  }

  private stopInitiator(u: Usage, hot: boolean, clean: boolean): void {
    if (hot) u.running.hot--;
    else u.running.warm--;
    this.net.toRemote(this, u.conn, (end) => ({ type: 'responderTerminated', conn: end, hot, clean }));
  }

  promote(k: number): void {
    const u = this.pick(k);
    if (!u || u.hot) return;
    u.hot = true;
    this.startInitiator(u, true);
  }

  demote(k: number): void {
    const u = this.pick(k);
    if (!u?.hot) return;
    u.hot = false;
    this.stopInitiator(u, true, true);
  }

  releaseAt(k: number): void {
    const u = this.pick(k);
    if (u) this.release(u.conn);
  }

  release(conn: ConnId): void {
    const u = this.usage.get(conn);
    if (!u) return;
    while (u.running.hot > 0) this.stopInitiator(u, true, true);
    while (u.running.warm > 0) this.stopInitiator(u, false, true);
    this.usage.delete(conn);
    this.step({ type: 'releaseOutbound', conn });
  }

  /** A mini-protocol error: the remote's responder fails, and the mux tears the connection down. */
  protocolError(k: number): void {
    const u = this.pick(k);
    if (!u) return;
    this.net.toRemote(this, u.conn, (end) => ({ type: 'responderTerminated', conn: end, hot: u.hot, clean: false }));
    this.net.resetConn(this, u.conn);
  }

  releaseAll(): void {
    for (const conn of [...this.usage.keys()]) this.release(conn);
  }

  private pick(k: number): Usage | undefined {
    const all = [...this.usage.values()];
    return all.length === 0 ? undefined : all[k % all.length];
  }
}

export class SimNet {
  readonly sched = new Scheduler(0);
  readonly rng: Rng;
  readonly nodes: SimNode[] = [];
  private readonly byAddr = new Map<string, SimNode>();
  private readonly tcps = new Map<string, Tcp>();
  private readonly socks = new Map<string, Tcp>();
  private readonly lastDelivery = new Map<string, number>();
  private readonly cancelledDials = new Set<string>();
  private nextTcp = 1;
  private nextEph = 1;
  windingDown = false;
  stats = { dials: 0, simultaneous: 0, addrInUse: 0, refusedHandshakes: 0, hsTimeouts: 0, resets: 0 };

  constructor(
    readonly seed: number,
    specs: NodeSpec[],
  ) {
    this.rng = createRng(seed);
    specs.forEach((spec, i) => {
      const addr = `10.0.0.${i + 1}:3001`;
      const n = new SimNode(this, `n${i + 1}`, addr, spec);
      this.nodes.push(n);
      if (spec.duplex) this.byAddr.set(addr, n);
    });
  }

  /** Listening addresses (initiator-only nodes do not listen). */
  get listening(): string[] {
    return [...this.byAddr.keys()];
  }

  /** Runs `fn` at `now + latency`, in FIFO order per directed pair of nodes. */
  private deliver(from: SimNode, to: SimNode, fn: () => void): void {
    const pair = `${from.name}>${to.name}`;
    const at = Math.max(this.sched.now() + 1 + this.rng.int(40), this.lastDelivery.get(pair) ?? 0);
    this.lastDelivery.set(pair, at);
    this.sched.at(at, fn);
  }

  dial(node: SimNode, peer: string, sock: SocketId, conn: ConnId, bindLocal: string | undefined): void {
    this.stats.dials++;
    const local = bindLocal ?? `${node.addr.split(':')[0]}:eph${this.nextEph++}`;
    // the time between the reservation and the connect call (room for an accept to overwrite it)
    this.sched.setTimer(this.rng.int(20), () => {
      if (this.cancelledDials.delete(`${node.name}/${sock}`)) return;
      const key = [local, peer].sort().join('|');
      const existing = this.tcps.get(key);
      const end: End = { node, sock, conn, addr: local, initiator: true, hsStarted: false, open: true };
      const target = this.byAddr.get(peer);
      if (
        existing &&
        existing.state === 'dialing' &&
        existing.a.addr === peer &&
        existing.target === local &&
        peer !== local
      ) {
        // TCP simultaneous open: one connection, outbound at both ends
        this.stats.simultaneous++;
        existing.simultaneous = true;
        existing.b = end;
        this.socks.set(`${node.name}/${sock}`, existing);
        return;
      }
      if (existing || target === undefined) {
        if (existing) this.stats.addrInUse++;
        node.step({ type: 'connectFailed', conn, sock });
        return;
      }
      const tcp: Tcp = {
        id: this.nextTcp++,
        key,
        a: end,
        b: undefined,
        target: peer,
        state: 'dialing',
        simultaneous: false,
        hsScheduled: false,
      };
      this.tcps.set(key, tcp);
      this.socks.set(`${node.name}/${sock}`, tcp);
      this.deliver(node, target, () => this.establish(tcp, target));
    });
  }

  private establish(tcp: Tcp, target: SimNode): void {
    if (tcp.state !== 'dialing') return;
    tcp.state = 'open';
    if (tcp.simultaneous && tcp.b) {
      const a = tcp.a;
      const b = tcp.b;
      if (a.open && a.conn !== undefined) a.node.step({ type: 'connected', conn: a.conn, sock: a.sock });
      if (b.open && b.conn !== undefined) b.node.step({ type: 'connected', conn: b.conn, sock: b.sock });
      return;
    }
    const sock = `i${target.nextAccept++}`;
    const b: End = {
      node: target,
      sock,
      conn: undefined,
      addr: tcp.target,
      initiator: false,
      hsStarted: false,
      open: true,
    };
    tcp.b = b;
    this.socks.set(`${target.name}/${sock}`, tcp);
    const accept = () => {
      if (!b.open) return;
      const r = target.step({ type: 'accepted', peer: tcp.a.addr, sock });
      if (r.result && typeof r.result === 'object' && r.result.kind === 'included') b.conn = r.result.conn;
    };
    const connect = () => {
      if (tcp.a.open && tcp.a.conn !== undefined)
        tcp.a.node.step({ type: 'connected', conn: tcp.a.conn, sock: tcp.a.sock });
    };
    if (this.rng.chance(0.5)) {
      accept();
      connect();
    } else {
      connect();
      accept();
    }
  }

  startHandshake(node: SimNode, sock: SocketId): void {
    const tcp = this.socks.get(`${node.name}/${sock}`);
    if (tcp?.state !== 'open' || !tcp.b) return;
    const end = tcp.a.node === node && tcp.a.sock === sock ? tcp.a : tcp.b;
    end.hsStarted = true;
    if (!tcp.a.hsStarted || !tcp.b.hsStarted || tcp.hsScheduled) return;
    tcp.hsScheduled = true;
    const a = tcp.a;
    const b = tcp.b;
    const df = a.node.spec.duplex && b.node.spec.duplex ? 'duplex' : 'unidirectional';
    const roll = this.rng.next();
    const d1 = 1 + this.rng.int(200);
    const d2 = 1 + this.rng.int(200);
    const report = (e: End, at: number, ev: 'done' | 'refused' | 'violation') =>
      this.sched.at(this.sched.now() + at, () => {
        if (!e.open || e.conn === undefined || tcp.state !== 'open') return;
        if (ev === 'done') e.node.step({ type: 'handshakeDone', conn: e.conn, sock: e.sock, dataFlow: df });
        else e.node.step({ type: 'handshakeFailed', conn: e.conn, sock: e.sock, failure: ev });
      });
    if (roll < 0.03) {
      this.stats.hsTimeouts++; // never answers: the connection managers' handshake timers fire
      return;
    }
    const ev = roll < 0.07 ? 'refused' : roll < 0.09 ? 'violation' : 'done';
    if (ev === 'refused') this.stats.refusedHandshakes++;
    if (tcp.simultaneous) {
      report(a, d1, ev);
      report(b, d1, ev);
    } else {
      // the responder (accepting end) finishes first: it sends the reply the initiator waits for
      report(b, d1, ev);
      report(a, d1 + d2, ev);
    }
  }

  /** The node closed `sock` (always an RST here): the far end sees its connection fail. */
  close(node: SimNode, sock: SocketId): void {
    const key = `${node.name}/${sock}`;
    const tcp = this.socks.get(key);
    this.socks.delete(key);
    if (!tcp) {
      this.cancelledDials.add(key); // closed before its delayed dial ran
      return;
    }
    const mine = tcp.a.node === node && tcp.a.sock === sock ? tcp.a : tcp.b;
    if (mine) mine.open = false;
    if (tcp.state === 'closed') return;
    const wasDialing = tcp.state === 'dialing';
    tcp.state = 'closed';
    this.tcps.delete(tcp.key);
    const other = mine === tcp.a ? tcp.b : tcp.a;
    if (!other?.open) return;
    if (wasDialing) {
      // the other dial of a simultaneous open fails
      other.open = false;
      this.socks.delete(`${other.node.name}/${other.sock}`);
      if (other.conn !== undefined) {
        const c = other.conn;
        this.deliver(node, other.node, () => other.node.step({ type: 'connectFailed', conn: c, sock: other.sock }));
      }
      return;
    }
    this.deliver(node, other.node, () => {
      if (!other.open) return;
      other.open = false;
      this.socks.delete(`${other.node.name}/${other.sock}`);
      if (other.conn !== undefined) other.node.step({ type: 'connectionError', conn: other.conn });
    });
  }

  /** The connection `conn` of `node` is reset by the network (a remote close or a fault). */
  resetConn(node: SimNode, conn: ConnId): void {
    for (const tcp of this.tcps.values()) {
      for (const [e, o] of [
        [tcp.a, tcp.b],
        [tcp.b, tcp.a],
      ] as const) {
        if (e && e.node === node && e.conn === conn && tcp.state === 'open') {
          this.resetTcp(tcp, e, o);
          return;
        }
      }
    }
  }

  /** The k-th open TCP connection is reset: both ends see their connection fail. */
  resetAny(k: number): void {
    const open = [...this.tcps.values()].filter((t) => t.state === 'open');
    const tcp = open[k % Math.max(1, open.length)];
    if (tcp) this.resetTcp(tcp, tcp.a, tcp.b);
  }

  private resetTcp(tcp: Tcp, e: End, o: End | undefined): void {
    this.stats.resets++;
    tcp.state = 'closed';
    this.tcps.delete(tcp.key);
    for (const [end, far] of [
      [e, o],
      [o, e],
    ] as const) {
      if (!end?.open) continue;
      this.deliver(far?.node ?? end.node, end.node, () => {
        if (!end.open) return;
        end.open = false;
        this.socks.delete(`${end.node.name}/${end.sock}`);
        if (end.conn !== undefined) end.node.step({ type: 'connectionError', conn: end.conn });
      });
    }
  }

  /** Sends a mini-protocol message on `node`'s connection `conn`: the far end's responder reacts. */
  toRemote(node: SimNode, conn: ConnId, ev: (farConn: ConnId) => NodeEvent): void {
    for (const tcp of this.tcps.values()) {
      if (tcp.state !== 'open' || !tcp.b) continue;
      for (const [e, o] of [
        [tcp.a, tcp.b],
        [tcp.b, tcp.a],
      ] as const) {
        // for a self connection both ends match: the dialling end (a, checked first) sends
        if (e.node === node && e.conn === conn && e.open) {
          this.deliver(node, o.node, () => {
            if (o.open && o.conn !== undefined && tcp.state === 'open') o.node.step(ev(o.conn));
          });
          return;
        }
      }
    }
  }
}
