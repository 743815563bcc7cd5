/** Turning whatever a stage threw into a precise status and stage. Pure. */
import { describeError, isSpoError } from '../lib/errors.js';
import { FAILURE_CODES, type FailureCode, type ProbeStage, type ProbeStatus } from './model.js';

const KNOWN: ReadonlySet<string> = new Set(FAILURE_CODES);

/** The stage a failure code belongs to. */
export function stageOf(code: ProbeStatus): ProbeStage | undefined {
  if (code === 'ok') return undefined;
  if (code.startsWith('DNS_') || code === 'UNUSABLE_ADDRESS') return 'resolve';
  if (code.startsWith('CONNECT_') || code === 'LOCAL_RESOURCES') return 'connect';
  if (code.startsWith('HANDSHAKE_')) return 'handshake';
  if (code.startsWith('KEEPALIVE_')) return 'keepalive';
  if (code.startsWith('CHAINSYNC_')) return 'tip';
  return undefined;
}

/** Socket errno values seen when connecting, by the code they are reported as. */
const ERRNO: Record<string, FailureCode> = {
  ECONNREFUSED: 'CONNECT_REFUSED',
  ETIMEDOUT: 'CONNECT_TIMEOUT',
  EHOSTUNREACH: 'CONNECT_UNREACHABLE',
  ENETUNREACH: 'CONNECT_UNREACHABLE',
  EADDRNOTAVAIL: 'CONNECT_UNREACHABLE',
  // Our own side ran out: too many sockets or ephemeral ports. Worth a retry at lower concurrency.
  EMFILE: 'LOCAL_RESOURCES',
  ENFILE: 'LOCAL_RESOURCES',
  ENOBUFS: 'LOCAL_RESOURCES',
};

/**
 * The status of a thrown error: a SpoError's code when it is one of ours (DNS_*, CONNECT_*,
 * HANDSHAKE_*...), a socket errno mapped to its stage, else `fallback` (the stage in progress).
 */
export function classifyError(
  error: unknown,
  fallback: FailureCode,
): { status: FailureCode; stage: ProbeStage | undefined; message: string } {
  let status: FailureCode = fallback;
  if (isSpoError(error)) {
    if (KNOWN.has(error.code)) status = error.code as FailureCode;
    else if (error.code.startsWith('DNS_')) status = 'DNS_ERROR';
    else if (error.code.startsWith('MUX_') || error.code === 'SIZE_LIMIT_EXCEEDED') status = 'PROTOCOL_ERROR';
    else if (error.code === 'CONNECT_FAILED') {
      const errno = error.details.errno;
      status = typeof errno === 'string' && ERRNO[errno] ? ERRNO[errno] : 'CONNECT_ERROR';
    } else {
      const errno = (error.cause as NodeJS.ErrnoException | undefined)?.code;
      if (errno && ERRNO[errno]) status = ERRNO[errno];
    }
  } else {
    const errno = (error as NodeJS.ErrnoException | undefined)?.code;
    if (errno && ERRNO[errno]) status = ERRNO[errno];
  }
  return { status, stage: stageOf(status), message: describeError(error) };
}

/** Worst first: the order failures are shown in (resolution problems first, then by stage), ok last. */
export function severity(status: ProbeStatus): number {
  return status === 'ok' ? 0 : stageSeverity(stageOf(status));
}

/** The rank of a failure at this stage (resolution worst); 1 for a failure of no known stage. */
export function stageSeverity(stage: ProbeStage | undefined): number {
  switch (stage) {
    case 'resolve':
      return 6;
    case 'connect':
      return 5;
    case 'handshake':
      return 4;
    case 'keepalive':
      return 3;
    case 'tip':
      return 2;
    default:
      return 1;
  }
}
