/**
 * The network stages of one probe, over src/net's client: TCP connect and handshake (magic and
 * version checked by connectPeer), keep-alive round trips, and optionally the tip by chain-sync.
 * Every stage has its own timeout; when it fires, the connection is aborted (not left to linger).
 */
import type { AttemptOutcome, FailureCode, PeerTip, ProbeEndpoint } from './model.js';
import type { AttemptContext, StageFunction } from './scheduler.js';
import { classifyError } from './status.js';

/** The part of src/net's PeerConnection a probe uses (INTERFACES.md). */
export interface ProbePeer {
  connectMs: number;
  handshakeMs: number;
  version: number;
  keepAlive(cookie?: number, timeoutMs?: number): Promise<number>;
  findTip(options: { timeoutMs: number }): Promise<PeerTip>;
  close(): void | Promise<void>;
  abort(): void;
}

/** src/net's connectPeer, injected (tests and benchmarks may pass their own). */
export type PeerConnector = (options: {
  host: string;
  port: number;
  family?: 4 | 6;
  magic: number;
  connectTimeoutMs: number;
  handshakeTimeoutMs: number;
  signal: AbortSignal;
}) => Promise<ProbePeer>;

export interface StageOptions {
  connect: PeerConnector;
  magic: number;
  /** Timeout of each stage (connect, handshake, each keep-alive, tip). */
  stageTimeoutMs: number;
  /** Keep-alive round trips after the handshake (0: handshake only). */
  samples: number;
  tip: boolean;
}

/** The longest an attempt can take: one timeout per stage it has, plus a small margin. */
export function attemptDeadline(o: Pick<StageOptions, 'stageTimeoutMs' | 'samples' | 'tip'>): number {
  const stages = 2 + o.samples + (o.tip ? 1 : 0);
  return stages * o.stageTimeoutMs + 250;
}

class StageTimeout extends Error {
  constructor(readonly code: FailureCode) {
    super(code);
  }
}

/**
 * Races a stage against its timeout; the caller aborts the connection when it loses. (A cancelled
 * attempt needs no listener here: the scheduler's watchdog has already reported it, and the abort
 * ends the connection, which rejects the stage.)
 */
async function timed<T>(p: Promise<T>, ms: number, code: FailureCode): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new StageTimeout(code)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** How long a graceful close (MsgDone, FIN) may take before the connection is reset. */
const CLOSE_GRACE_MS = 250;

/**
 * Closes politely but never lets a peer that is slow to close hold the attempt (and its slot):
 * after a short grace the connection is reset, as cardano-cli ping does at once.
 */
async function closeSoon(peer: ProbePeer): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.resolve(peer.close()).catch(() => {}),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_GRACE_MS);
    }),
  ]);
  clearTimeout(timer);
  peer.abort();
}

export function createStageFunction(o: StageOptions): StageFunction {
  return async (e: ProbeEndpoint, ctx: AttemptContext): Promise<AttemptOutcome> => {
    ctx.stage('connect');
    let peer: ProbePeer;
    try {
      peer = await o.connect({
        host: e.address,
        port: e.port,
        family: e.family,
        magic: o.magic,
        connectTimeoutMs: o.stageTimeoutMs,
        handshakeTimeoutMs: o.stageTimeoutMs,
        signal: ctx.signal,
      });
    } catch (error) {
      const c = classifyError(error, 'CONNECT_ERROR');
      // A protocol error needs bytes from the peer: TCP had connected, the handshake broke it.
      const stage = c.stage ?? (c.status === 'PROTOCOL_ERROR' ? 'handshake' : 'connect');
      return { status: c.status, stage, message: c.message };
    }
    const out: AttemptOutcome = {
      status: 'ok',
      connectMs: peer.connectMs,
      handshakeMs: peer.handshakeMs,
      version: peer.version,
    };
    try {
      if (o.samples > 0) {
        ctx.stage('keepalive');
        const rtts: number[] = [];
        for (let i = 0; i < o.samples; i++) {
          rtts.push(await timed(peer.keepAlive(i, o.stageTimeoutMs), o.stageTimeoutMs, 'KEEPALIVE_TIMEOUT'));
        }
        out.rttSamplesMs = rtts;
      }
      if (o.tip) {
        ctx.stage('tip');
        const started = performance.now();
        out.tip = await timed(peer.findTip({ timeoutMs: o.stageTimeoutMs }), o.stageTimeoutMs, 'CHAINSYNC_TIMEOUT');
        out.tipMs = performance.now() - started;
      }
      await closeSoon(peer);
      return out;
    } catch (error) {
      peer.abort();
      if (error instanceof StageTimeout) {
        return {
          ...out,
          status: error.code,
          stage: error.code === 'KEEPALIVE_TIMEOUT' ? 'keepalive' : 'tip',
          message: `${e.address}:${e.port}: no answer within ${o.stageTimeoutMs} ms`,
        };
      }
      const fallback: FailureCode =
        out.rttSamplesMs === undefined && o.samples > 0 ? 'KEEPALIVE_ERROR' : 'CHAINSYNC_ERROR';
      const c = classifyError(error, fallback);
      return {
        ...out,
        status: c.status,
        stage: c.stage ?? (fallback === 'KEEPALIVE_ERROR' ? 'keepalive' : 'tip'),
        message: c.message,
      };
    }
  };
}
