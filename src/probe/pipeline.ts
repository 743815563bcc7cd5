/**
 * The real pipeline in one call, for `spo probe` and the commands that probe on the side
 * (`topology generate|lint --probe`): src/dns resolution (every A/AAAA address, SRV by the node's
 * rule) and src/net stages, under the scheduler. Pass the result to `probeEndpoints(targets, options)`.
 */
import type { AddressFamily, DnsResolver } from '../dns/index.js';
import { resolveRelay } from '../dns/relays.js';
import { attemptDeadline, createStageFunction, type PeerConnector } from './attempt.js';
import { effectiveConcurrency } from './limits.js';
import type { ProbeEndpoint } from './model.js';
import { loadConnector } from './net-client.js';
import type { RetryPolicy, ScheduleOptions, ScheduleProgress } from './scheduler.js';

export interface PipelineOptions {
  magic: number;
  resolver: DnsResolver;
  family?: AddressFamily;
  /** Port of a DNS relay registered without one (default 3001). */
  defaultPort?: number;
  /** SRV: every target of the lowest priority group instead of the node's weighted choice. */
  wholeGroup?: boolean;
  /** Timeout of each stage (default 5 s). */
  stageTimeoutMs?: number;
  /** Keep-alive round trips (default 3). */
  samples?: number;
  tip?: boolean;
  /** Default 2000, capped by the open-file limit. */
  concurrency?: number;
  retry?: RetryPolicy;
  signal?: AbortSignal | undefined;
  onProgress?: (p: ScheduleProgress) => void;
  /** The wire client (default src/net's connectPeer). */
  connect?: PeerConnector;
}

export const DEFAULT_STAGE_TIMEOUT_MS = 5000;
export const DEFAULT_SAMPLES = 3;

export async function pipelineOptions(o: PipelineOptions): Promise<ScheduleOptions & { capped: boolean }> {
  const stageTimeoutMs = o.stageTimeoutMs ?? DEFAULT_STAGE_TIMEOUT_MS;
  const samples = o.samples ?? DEFAULT_SAMPLES;
  const tip = o.tip ?? false;
  const conc = effectiveConcurrency(o.concurrency);
  const connect = o.connect ?? (await loadConnector());
  return {
    resolve: async (relay, signal): Promise<ProbeEndpoint[]> =>
      (
        await resolveRelay(o.resolver, relay, {
          family: o.family ?? 'both',
          signal,
          defaultPort: o.defaultPort ?? 3001,
          ...(o.wholeGroup === undefined ? {} : { wholeGroup: o.wholeGroup }),
        })
      ).map((e) => ({
        address: e.address,
        port: e.port,
        family: e.family,
        ...(e.target === undefined ? {} : { srvTarget: e.target }),
      })),
    attempt: createStageFunction({ connect, magic: o.magic, stageTimeoutMs, samples, tip }),
    concurrency: conc.value,
    capped: conc.capped,
    attemptDeadlineMs: attemptDeadline({ stageTimeoutMs, samples, tip }),
    stageTimeoutMs,
    retry: o.retry ?? 'auto',
    signal: o.signal,
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  };
}
