/**
 * Registry-wide reachability (`spo probe`, and `topology generate|lint --probe`): targets from the
 * registry or the command line, a bounded-concurrency scheduler streaming one result per address,
 * aggregation per relay and pool, and a whole run as one call (./run.ts). The network stages live
 * in ./attempt.ts; the renderers are src/ui/probe-report.ts.
 */
export {
  compareWorstFirst,
  type FailOn,
  failVerdict,
  HISTOGRAM_BOUNDS_MS,
  histogram,
  ProbeCollector,
  type ProbeReport,
  rttOf,
} from './aggregate.js';
export { attemptDeadline, createStageFunction, type PeerConnector, type ProbePeer } from './attempt.js';
export * from './model.js';
export { DEFAULT_SAMPLES, DEFAULT_STAGE_TIMEOUT_MS, type PipelineOptions, pipelineOptions } from './pipeline.js';
export { DEFAULT_WINDOW_SLOTS, majorityTipSlot, referenceFromPeers, slotLag } from './reference.js';
export { type PoolSelection, type ProbePlan, type ProbeRun, type ProbeRunOptions, planProbe, runProbe } from './run.js';
export {
  type AttemptContext,
  probeEndpoints,
  type ReducedOutcome,
  type ResolveFunction,
  type RetryPolicy,
  reduceOutcome,
  runAttempt,
  type ScheduleOptions,
  type ScheduleProgress,
  type StageFunction,
  toAddressResult,
} from './scheduler.js';
export { classifyError, severity, stageOf } from './status.js';
export { targetsFromArgs, targetsFromPools } from './targets.js';
