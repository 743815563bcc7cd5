/**
 * What a running `spo run` tells the outside, as data: the periodic snapshot (the live table, the
 * control endpoint's answer to `spo peers`, the `--json` snapshot lines) and the notable events
 * (the log below the table, `--json` event lines). The node (src/node/live-node.ts) produces them;
 * the terminal view (src/ui), the control endpoint and `spo testnet` consume them. Pure types.
 *
 * Times: `*Ms` durations in milliseconds; `time`/`since` ISO 8601 UTC wall-clock timestamps (a
 * snapshot crosses processes, so monotonic times would mean nothing to the reader).
 */
import type { AssociationMode, LedgerStateJudgement, PeerOrigin } from '../governor/types.js';
import type { P2PCounters } from '../metrics/counters.js';

/** How a peer's connection came about (the live table's direction column). */
export type PeerDirection = 'out' | 'in' | 'duplex';

/** Where the governor learnt the peer (`inbound`: a peer only known from its connection to us). */
export type PeerSourceName = PeerOrigin;

/** `cooling`: the connection is being closed (time-wait) and the peer is not yet cold. */
export type PeerTemperature = 'cold' | 'warm' | 'hot' | 'cooling';

/** One row of the peer table. */
export interface PeerRow {
  /** `IP:PORT` or `[IPv6]:PORT` (a name-given peer: the address dialled). */
  peer: string;
  /** The DNS name it came from (local roots, public roots), when it had one. */
  name?: string;
  /** Undefined for a known peer with no connection. */
  direction?: PeerDirection;
  source: PeerSourceName;
  /** The governor's view (outbound) or the inbound governor's (an inbound-only peer). */
  temperature: PeerTemperature;
  /** When it entered that temperature (ISO). */
  since: string;
  /** Last keep-alive round trip. */
  rttMs?: number;
  /** The governor's upstreamness score (headers it delivered first within the metric window). */
  upstreamness?: number;
  /** Headers this peer delivered first since it became hot (all time, for the table). */
  headersFirst?: number;
  /** Headers received from it in all. */
  headers?: number;
  /** Consecutive connection failures (the governor's fail count). */
  failCount: number;
  /** Local-root group index, for local roots. */
  group?: number;
}

/** The node's own best header chain. */
export interface ChainTip {
  blockNo: number;
  slot: number;
  /** Lower-case hex. */
  hash: string;
}

/**
 * Where the node stands on bootstrap and ledger peers (governor.md §2.9). spo keeps no ledger, so
 * the ledger state's judgement is derived: with bootstrap peers in the topology it is `tooOld` until
 * the highest tip slot seen from peers passes `useLedgerAfterSlot`, `youngEnough` from then on (and
 * always without bootstrap peers or with `useLedgerAfterSlot` never / 0).
 */
export interface NodeLedgerState {
  consensusMode: 'praos' | 'genesis';
  ledgerStateJudgement: LedgerStateJudgement;
  /** The topology has bootstrap peers (`UseBootstrapPeers`). */
  useBootstrapPeers: boolean;
  /**
   * The bootstrap "sensitive" state (Praos, bootstrap peers, judgement `tooOld`): only bootstrap
   * peers and trustable local roots are used; no ledger peers, peer sharing or public roots.
   */
  sensitive: boolean;
  /** In the sensitive state: every untrusted peer has been shed (the governor's `hasOnlyBootstrapPeers`). */
  hasOnlyBootstrapPeers: boolean;
  /** While armed: when the node would give up waiting for only trusted peers (ISO; the node restarts then). */
  bootstrapPeersDeadline: string | null;
  /** Ledger peers (the registry) in use: the tip seen from peers passed `useLedgerAfterSlot`. */
  useLedgerPeers: boolean;
  /** The topology's `useLedgerAfterSlot` (null: ledger peers never used). */
  useLedgerAfterSlot: number | null;
  /** The highest tip slot any peer's chain-sync announced (null: none yet). */
  tipSlotSeen: number | null;
  associationMode: AssociationMode;
  /** What the governor would tell consensus about its outbound peers. */
  outboundConnectionsState: 'trusted' | 'untrusted';
  /** Known / established / active bootstrap peers. */
  bootstrapPeers: { known: number; established: number; active: number };
}

export interface NodeSnapshot {
  event: 'snapshot';
  /** 1, 2, ... */
  seq: number;
  time: string;
  /** Process id of the node (several nodes run on one machine in a testnet). */
  pid: number;
  /** Every address listened on (`IP:PORT`); empty with --initiator-only. */
  listening: string[];
  uptimeMs: number;
  /** The governor's, the connection manager's and the inbound governor's counters, under the node's names. */
  counters: P2PCounters;
  tip?: ChainTip;
  /** Bootstrap peers, the ledger-state judgement, ledger peers (always there in what `spo run` sends). */
  ledger?: NodeLedgerState;
  peers: PeerRow[];
}

/** A notable event, for the log under the table and the `--json` event lines. */
export type NodeEvent = { time: string } & (
  | {
      event: 'started';
      listening: string[];
      network: string;
      magic: number;
      role: 'relay' | 'producer';
      /** The Prometheus endpoint (`--metrics-port`), when served. */
      metrics?: string;
      /** The control endpoint's Unix socket (`spo peers --control`), when open. */
      control?: string;
    }
  | { event: 'promoted'; peer: string; from: 'cold' | 'warm'; to: 'warm' | 'hot'; source: PeerSourceName }
  | { event: 'demoted'; peer: string; from: 'warm' | 'hot'; to: 'cold' | 'warm'; reason?: string }
  | { event: 'failed'; peer: string; action: 'establish' | 'activate' | 'deactivate' | 'close'; error: string }
  | { event: 'churn'; action: string; count: number }
  | { event: 'inbound'; peer: string; state: 'connected' | 'closed'; error?: string }
  | { event: 'header'; blockNo: number; slot: number; hash: string; from: string; minted?: boolean }
  | { event: 'localRoots'; groups: number; peers: number; reason: 'start' | 'sighup' | 'dns' }
  | {
      /**
       * At start and whenever the judgement or the use of ledger peers changes (the tip seen from
       * peers passed `useLedgerAfterSlot`, a SIGHUP changed the topology): what `ledger` in the
       * snapshot says, told when it happens. `sensitive`: the governor is to use only bootstrap
       * peers and trustable local roots from now on.
       */
      event: 'ledgerState';
      judgement: LedgerStateJudgement;
      sensitive: boolean;
      useLedgerPeers: boolean;
      useLedgerAfterSlot: number | null;
      tipSlotSeen: number | null;
    }
  /** Peer sharing, as the client: `peer` answered our request for `asked` peers; `refused`: loopback or private addresses dropped (no --allow-private-peers). */
  | { event: 'peersReceived'; peer: string; asked: number; peers: string[]; refused?: string[] }
  /** Peer sharing, as the responder: `peer` asked us for `asked` peers and got `peers`. */
  | { event: 'peersShared'; peer: string; asked: number; peers: string[] }
  | { event: 'warning'; code: string; message: string }
  | { event: 'stopped'; reason: string }
);
