/**
 * The transition oracle: which connection-manager and inbound-governor state changes the reference
 * considers valid (governor.md §8.3 and §10.2; restated from `verifyAbstractTransition` and
 * `verifyRemoteTransition` in ouroboros-network's framework test library), the chain check (each
 * transition of a connection starts where the previous one ended) and the timeout check (no
 * connection stays in a timed state longer than 1.1x its timeout). Pure; used by the property
 * tests and available to the live node's self-checks.
 */
import type { Millis } from '../lib/clock.js';

/**
 * A connection's abstract state (the reference's `AbstractState`, with the data flow and the
 * Ticking/Expired flag folded into the name). `Unknown` = no entry (before the first and after the
 * last transition).
 */
export type CmSt =
  | 'Unknown'
  | 'ReservedOutbound'
  | 'UnnegotiatedIn'
  | 'UnnegotiatedOut'
  | 'OutboundUni'
  | 'OutboundDupTicking'
  | 'OutboundDupExpired'
  | 'OutboundIdleUni'
  | 'OutboundIdleDup'
  | 'InboundIdleUni'
  | 'InboundIdleDup'
  | 'InboundUni'
  | 'InboundDup'
  | 'Duplex'
  | 'Terminating'
  | 'Terminated';

export const ALL_CM_STATES: readonly CmSt[] = [
  'Unknown',
  'ReservedOutbound',
  'UnnegotiatedIn',
  'UnnegotiatedOut',
  'OutboundUni',
  'OutboundDupTicking',
  'OutboundDupExpired',
  'OutboundIdleUni',
  'OutboundIdleDup',
  'InboundIdleUni',
  'InboundIdleDup',
  'InboundUni',
  'InboundDup',
  'Duplex',
  'Terminating',
  'Terminated',
];

/** The inbound governor's view of what the remote does with a connection; `null` = not tracked. */
export type RemoteSt = 'RemoteIdle' | 'RemoteCold' | 'RemoteWarm' | 'RemoteHot';
export type RemoteStOrNone = RemoteSt | null;

/**
 * The explicit valid pairs of the reference's table (the named transitions of §8.3), as
 * `from>to`. The catch-all rules (anything to Terminated except Terminated itself, anything to
 * Unknown except Unknown itself) are in `validCmTransition`.
 */
const VALID_CM = new Set<string>([
  // outbound: Reserve, Connected, Negotiated^Uni_Out, Negotiated^Dup_Out, handshake failure
  'Terminated>ReservedOutbound',
  'Unknown>ReservedOutbound',
  'ReservedOutbound>UnnegotiatedOut',
  'UnnegotiatedOut>OutboundUni',
  'UnnegotiatedOut>OutboundDupTicking',
  'UnnegotiatedOut>Terminating',
  'UnnegotiatedIn>Terminating',
  // DemotedToCold^Uni_Local, TimeoutExpired, DemotedToCold^Dup_Local, identities of demotedToColdRemote
  'OutboundUni>OutboundIdleUni',
  'OutboundDupTicking>OutboundDupExpired',
  'OutboundDupExpired>OutboundIdleDup',
  'OutboundIdleUni>OutboundIdleUni',
  'OutboundIdleDup>OutboundIdleDup',
  // outbound <-> inbound
  'OutboundDupTicking>InboundIdleDup',
  'InboundIdleDup>OutboundDupTicking',
  'OutboundDupTicking>Duplex',
  'OutboundDupExpired>Duplex',
  'OutboundDupTicking>OutboundDupTicking',
  'OutboundDupExpired>OutboundDupExpired',
  'InboundDup>Duplex',
  'Duplex>OutboundDupTicking',
  'Duplex>InboundDup',
  // inbound: Accepted, Overwritten, Negotiated^*_In, SelfConn negotiated inbound
  'Terminated>UnnegotiatedIn',
  'Unknown>UnnegotiatedIn',
  'ReservedOutbound>UnnegotiatedIn',
  'UnnegotiatedIn>InboundIdleDup',
  'UnnegotiatedIn>InboundIdleUni',
  'UnnegotiatedOut>InboundIdleDup',
  'UnnegotiatedOut>InboundIdleUni',
  'InboundIdleDup>InboundIdleDup',
  'InboundIdleDup>InboundDup',
  'InboundIdleDup>Terminating',
  'InboundDup>InboundIdleDup',
  'InboundIdleUni>InboundUni',
  'InboundIdleUni>Terminating',
  'InboundUni>InboundIdleUni',
  // outbound idle: remote awake, Commit^*_Local
  'OutboundIdleDup>InboundDup',
  'OutboundIdleUni>Terminating',
  'OutboundIdleDup>Terminating',
  // self connection: SelfConn, SelfConn^-1
  'UnnegotiatedOut>UnnegotiatedIn',
  'UnnegotiatedIn>UnnegotiatedOut',
  'InboundIdleUni>OutboundUni',
  // Terminate
  'Terminating>Terminated',
  // a new inbound connection is accepted while the old one is terminating
  'Terminating>UnnegotiatedIn',
]);

/** The reference's `verifyAbstractTransition`. */
export function validCmTransition(from: CmSt, to: CmSt): boolean {
  if (VALID_CM.has(`${from}>${to}`)) return true;
  if (to === 'Terminated') return from !== 'Terminated';
  if (to === 'Unknown') return from !== 'Unknown';
  return false;
}

/** The reference's `verifyRemoteTransition` (`null` = the inbound governor does not track it). */
export function validRemoteTransition(from: RemoteStOrNone, to: RemoteStOrNone): boolean {
  switch (from) {
    case null:
      return to === 'RemoteIdle' || to === null;
    case 'RemoteIdle':
      return to === 'RemoteWarm' || to === 'RemoteHot' || to === 'RemoteCold' || to === null || to === 'RemoteIdle';
    case 'RemoteCold':
      return to === 'RemoteWarm' || to === 'RemoteHot' || to === null || to === 'RemoteCold';
    case 'RemoteWarm':
      return to === 'RemoteHot' || to === 'RemoteIdle' || to === null || to === 'RemoteWarm';
    case 'RemoteHot':
      // no Hot -> Hot identity in the reference's table
      return to === 'RemoteWarm' || to === 'RemoteIdle' || to === null;
  }
}

export interface Transition<S> {
  /** The connection (the core's connection id). */
  conn: number;
  from: S;
  to: S;
  at: Millis;
}

/**
 * Groups transitions by connection and reports every place where a transition does not start
 * where the previous one of the same connection ended, where the first one does not start from
 * `start` states, or (when `final` is given) where the last one does not end in `final`.
 */
export function chainErrors<S>(
  transitions: readonly Transition<S>[],
  start: readonly S[],
  final?: readonly S[],
): string[] {
  const last = new Map<number, Transition<S>>();
  const errors: string[] = [];
  for (const t of transitions) {
    const prev = last.get(t.conn);
    if (prev === undefined) {
      if (!start.includes(t.from)) errors.push(`conn ${t.conn}: first transition starts at ${String(t.from)}`);
    } else if (prev.to !== t.from) {
      errors.push(`conn ${t.conn}: ${String(prev.from)}->${String(prev.to)} then ${String(t.from)}->${String(t.to)}`);
    }
    last.set(t.conn, t);
  }
  if (final) {
    for (const [conn, t] of last) {
      if (!final.includes(t.to)) errors.push(`conn ${conn}: ends in ${String(t.to)}`);
    }
  }
  return errors;
}

export interface Timeouts {
  handshake: Millis;
  protocolIdle: Millis;
  outboundIdle: Millis;
  timeWait: Millis;
}

/** The families of timed states; moving inside one family keeps the clock running (§12.2). */
function timedFamily(st: CmSt): keyof Timeouts | undefined {
  switch (st) {
    case 'UnnegotiatedIn':
    case 'UnnegotiatedOut':
      return 'handshake';
    // the remote's protocol-idle timer runs on across InboundIdle Duplex <-> OutboundDup Ticking
    case 'InboundIdleUni':
    case 'InboundIdleDup':
    case 'OutboundDupTicking':
      return 'protocolIdle';
    case 'OutboundIdleUni':
    case 'OutboundIdleDup':
      return 'outboundIdle';
    case 'Terminating':
      return 'timeWait';
    default:
      return undefined;
  }
}

/**
 * The reference's `prop_timeouts_enforced`: every stay in a timed state (a run of transitions
 * inside one family) lasts at most `factor` x its timeout. A connection still in a timed state
 * at `end` is measured up to `end`.
 */
export function timeoutViolations(
  transitions: readonly Transition<CmSt>[],
  timeouts: Timeouts,
  end: Millis,
  factor = 1.1,
): string[] {
  const open = new Map<number, { family: keyof Timeouts; since: Millis; st: CmSt }>();
  const errors: string[] = [];
  const check = (conn: number, o: { family: keyof Timeouts; since: Millis; st: CmSt }, until: Millis) => {
    if (until - o.since > factor * timeouts[o.family])
      errors.push(`conn ${conn}: ${o.st} (${o.family}) for ${until - o.since} ms from ${o.since}`);
  };
  for (const t of transitions) {
    const o = open.get(t.conn);
    const fam = timedFamily(t.to);
    if (o && fam === o.family && t.to !== 'Terminating') continue;
    if (o) {
      check(t.conn, o, t.at);
      open.delete(t.conn);
    }
    if (fam) open.set(t.conn, { family: fam, since: t.at, st: t.to });
  }
  for (const [conn, o] of open) check(conn, o, end);
  return errors;
}
