/**
 * What a driven governor reports, as typed events: the governor's decisions, the churn governor's
 * steps, the driver's own events and the events of a simulated world. One discriminated union on
 * `source`, each with its own closed set of `type`s (times in ms).
 */
import type { ChurnAction } from '../governor/churn.js';
import type { GovernorEventType, Peer, TraceEvent } from '../governor/types.js';
import type { Millis } from '../lib/clock.js';

/** A decision's trace event, as the governor wrote it. */
export interface GovernorTraceRecord extends TraceEvent {
  at: Millis;
  source: 'governor';
  type: GovernorEventType;
}

export type ChurnEventType = ChurnAction | `${ChurnAction}Timeout` | 'Startup' | 'FullTargets' | 'CycleDone';

/** A churn step: done (`type` = the action) or timed out (`<action>Timeout`). */
export interface ChurnTraceRecord {
  at: Millis;
  source: 'churn';
  type: ChurnEventType;
  /** How many peers the step changed. */
  count: number;
  /** The targets it installed, as JSON. */
  detail: string;
}

/** The driver's own events. */
export type DriverEventType =
  /** The bootstrap deadline passed: the node would restart; the driver stopped stepping. */
  'CriticalError';

export interface DriverTraceRecord {
  at: Millis;
  source: 'driver';
  type: DriverEventType;
  detail?: string;
}

/** Events of a simulated world (src/sim/world.ts). */
export type WorldEventType = 'AsyncError' | 'AsyncReturn';

export interface WorldTraceRecord {
  at: Millis;
  /** `env`: the name the dry run's trace has always used for the simulated network. */
  source: 'env';
  type: WorldEventType;
  peers?: Peer[];
  detail?: string;
}

export type TraceRecord = GovernorTraceRecord | ChurnTraceRecord | DriverTraceRecord | WorldTraceRecord;
