/**
 * Random scripts for the live shells' oracle tests (issue 12 "Done when"): several nodes, each a
 * connection manager shell, and a script of acquires (dials, or reuse of an inbound duplex
 * connection), mini-protocol activity on what was acquired (keep-alive = the remote's established
 * responder, chain-sync = its hot responder; each starts and ends the remote's responders), outbound
 * releases, resets (RST from one end), silent clients (the handshake timeout) and clients of another
 * network (a refusal, TIME_WAIT). The same scripts run on loopback TCP in real time and over the
 * memory transport in virtual time; the caller provides the network and the clock.
 */
import fc from 'fast-check';
import type { Connection } from '../../src/net/connection.js';
import type { ConnectionManager } from '../../src/node/connection-manager/shell.js';

export type Cmd =
  | { at: number; kind: 'acquire'; node: number; target: number }
  | { at: number; kind: 'warm' | 'cool' | 'hot' | 'unhot' | 'release' | 'abort'; node: number; k: number }
  | { at: number; kind: 'silent' | 'stranger'; target: number };

export function cmdArb(span: number): fc.Arbitrary<Cmd> {
  const at = fc.integer({ min: 0, max: span });
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({ at, kind: fc.constant('acquire' as const), node: fc.nat(3), target: fc.nat(3) }),
    },
    {
      weight: 6,
      arbitrary: fc.record({
        at,
        kind: fc.constantFrom('warm' as const, 'cool' as const, 'hot' as const, 'unhot' as const),
        node: fc.nat(3),
        k: fc.nat(5),
      }),
    },
    { weight: 2, arbitrary: fc.record({ at, kind: fc.constant('release' as const), node: fc.nat(3), k: fc.nat(5) }) },
    { weight: 1, arbitrary: fc.record({ at, kind: fc.constant('abort' as const), node: fc.nat(3), k: fc.nat(5) }) },
    {
      weight: 1,
      arbitrary: fc.record({ at, kind: fc.constantFrom('silent' as const, 'stranger' as const), target: fc.nat(3) }),
    },
  );
}

export interface ScriptNode {
  cm: ConnectionManager;
  address: string;
}

export interface ScriptEnv {
  nodes: ScriptNode[];
  /** Runs `fn` at script time `t` (ms from the start). */
  at(t: number, fn: () => void): void;
  /** A client that connects to `address` and never says anything. */
  silent(address: string): void;
  /** A client of another network that proposes to `address` (refused). */
  stranger(address: string): void;
}

interface Held {
  conn: number;
  connection: Connection;
  released: boolean;
}

/** What a script run did (for the report) and the errors it met that no peer explains. */
export interface ScriptRun {
  acquired: number;
  reused: number;
  refusedAcquires: number;
  failures: string[];
  /** Gives everything back and stops all activity (call at the end, then wait until quiet). */
  wrapUp(): void;
}

const expectedCodes =
  /CONNECTION_(CLOSED|RESET)|PROTOCOL_ERROR|NET_ABORTED|TIMEOUT|HANDSHAKE_|MUX_|agreed|initiator-only|already runs|closed/;

export function runScript(env: ScriptEnv, cmds: readonly Cmd[]): ScriptRun {
  const held: Held[][] = env.nodes.map(() => []);
  let wrapped = false;
  const run: ScriptRun = {
    acquired: 0,
    reused: 0,
    refusedAcquires: 0,
    failures: [],
    wrapUp: () => {
      wrapped = true;
      for (const [i, list] of held.entries()) {
        for (const h of list) {
          stopUsing(h);
          if (!h.released) {
            h.released = true;
            (env.nodes[i] as ScriptNode).cm.releaseOutbound(h.conn);
          }
        }
      }
    },
  };
  const note = (e: unknown): void => {
    const m = e instanceof Error ? `${(e as { code?: string }).code ?? ''} ${e.message}` : String(e);
    if (!expectedCodes.test(m)) run.failures.push(m);
  };
  const live = (node: number, k: number): Held | undefined => {
    const list = (held[node % held.length] as Held[]).filter((h) => !h.released && !h.connection.isClosed);
    return list.length === 0 ? undefined : list[k % list.length];
  };
  const stopUsing = (h: Held): void => {
    if (h.connection.isClosed) return;
    const c = h.connection;
    try {
      void c.keepAliveClient.done().catch(note);
      void c.chainSyncClient.done().catch(note);
    } catch (e) {
      note(e);
    }
  };
  for (const c of cmds) {
    env.at(c.at, () => {
      switch (c.kind) {
        case 'acquire': {
          const node = env.nodes[c.node % env.nodes.length] as ScriptNode;
          const target = env.nodes[c.target % env.nodes.length] as ScriptNode;
          const list = held[c.node % env.nodes.length] as Held[];
          void node.cm.acquireOutbound(target.address).then((r) => {
            if (r.kind === 'connected') {
              run.acquired++;
              if (r.reused) run.reused++;
              // an acquire that waited past the end (e.g. for a TIME_WAIT) is given back at once
              if (wrapped) node.cm.releaseOutbound(r.conn);
              else list.push({ conn: r.conn, connection: r.connection, released: false });
            } else run.refusedAcquires++;
          }, note);
          return;
        }
        case 'warm': {
          const h = live(c.node, c.k);
          if (h) void h.connection.keepAlive(c.k, 30_000).catch(note);
          return;
        }
        case 'hot': {
          const h = live(c.node, c.k);
          if (h) void h.connection.findTip({ timeoutMs: 30_000 }).catch(note);
          return;
        }
        case 'cool': {
          const h = live(c.node, c.k);
          if (h) {
            try {
              void h.connection.keepAliveClient.done().catch(note);
            } catch (e) {
              note(e);
            }
          }
          return;
        }
        case 'unhot': {
          const h = live(c.node, c.k);
          if (h) {
            try {
              void h.connection.chainSyncClient.done().catch(note);
            } catch (e) {
              note(e);
            }
          }
          return;
        }
        case 'release': {
          const h = live(c.node, c.k);
          if (h) {
            stopUsing(h);
            h.released = true;
            (env.nodes[c.node % env.nodes.length] as ScriptNode).cm.releaseOutbound(h.conn);
          }
          return;
        }
        case 'abort': {
          const h = live(c.node, c.k);
          h?.connection.abort();
          return;
        }
        case 'silent':
          env.silent((env.nodes[c.target % env.nodes.length] as ScriptNode).address);
          return;
        case 'stranger':
          env.stranger((env.nodes[c.target % env.nodes.length] as ScriptNode).address);
          return;
      }
    });
  }
  return run;
}
