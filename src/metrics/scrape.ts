/**
 * Fetching a node's metrics page over HTTP (undici), with a time limit for the whole exchange and a
 * cap on the body, and the errors an operator can act on (is the endpoint enabled, on which port).
 * The shell of `spo top`; parsing and reading are pure (prometheus-text.ts, read.ts).
 */
import { Agent, type Dispatcher, request } from 'undici';
import { timeLimit } from '../lib/abort.js';
import { describeError, InputError } from '../lib/errors.js';
import { printable } from '../lib/sanitize.js';
import { MetricsError } from './errors.js';

/** A node's page is tens of KiB; anything near this is not one. */
export const MAX_METRICS_BYTES = 8 * 1024 * 1024;

/** cardano-node's usual Prometheus port (hasPrometheus in the legacy configs, PrometheusSimple in the new ones). */
export const DEFAULT_METRICS_URL = 'http://127.0.0.1:12798/metrics';

export const ENDPOINT_HINT =
  'is the node\'s Prometheus endpoint enabled, and on which port? Legacy tracing: "hasPrometheus": ["127.0.0.1", 12798] in the node config; new tracing (UseTraceDispatcher, the default since 10.2): "PrometheusSimple 127.0.0.1 12798" among TraceOptions\' backends (cardano-node 10.3+). Point --metrics at it';

/**
 * `--metrics` as a URL: a full http(s) URL is taken as given; `HOST:PORT` or a bare port is
 * shorthand for http://HOST:PORT/metrics (127.0.0.1 when only the port is given).
 */
export function parseMetricsUrl(text: string): URL {
  const t = text.trim();
  let candidate: string;
  if (/^\d+$/.test(t)) candidate = `http://127.0.0.1:${t}/metrics`;
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(t)) candidate = t;
  else candidate = `http://${t}${t.includes('/') ? '' : '/metrics'}`;
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    throw new InputError('BAD_URL', `--metrics: "${text}" is not a URL`, {
      hint: `give a URL such as ${DEFAULT_METRICS_URL}, HOST:PORT or a port`,
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InputError('BAD_URL', `--metrics: ${url.protocol.replace(/:$/, '')} is not HTTP`, {
      hint: `give an http:// URL such as ${DEFAULT_METRICS_URL}`,
    });
  }
  if (url.username !== '' || url.password !== '') {
    throw new InputError('BAD_URL', '--metrics: credentials in the URL are not supported', {
      hint: "the node's endpoint takes none; put a reverse proxy's credentials elsewhere",
    });
  }
  return url;
}

export interface FetchPageOptions {
  url: URL;
  /** For the whole exchange: connect, headers and body. */
  timeoutMs: number;
  maxBytes?: number;
  signal?: AbortSignal;
  dispatcher?: Dispatcher;
}

export interface FetchedPage {
  text: string;
  bytes: number;
  contentType: string | undefined;
}

/** A keep-alive agent for repeated scrapes of one endpoint; close it when done. */
export function metricsAgent(): Agent {
  return new Agent({ connect: { timeout: 10_000 }, keepAliveTimeout: 30_000, connections: 1 });
}

export async function fetchMetricsPage(o: FetchPageOptions): Promise<FetchedPage> {
  const where = o.url.href;
  const limit = timeLimit(o.timeoutMs, { parent: o.signal });
  const maxBytes = o.maxBytes ?? MAX_METRICS_BYTES;
  try {
    let res: Dispatcher.ResponseData;
    try {
      res = await request(o.url, {
        method: 'GET',
        // never ask for OpenMetrics: the node's PrometheusSimple would switch format; text/plain is the 0.0.4 format
        headers: { accept: 'text/plain;version=0.0.4;q=1, */*;q=0.1' },
        signal: limit.signal,
        headersTimeout: o.timeoutMs,
        bodyTimeout: o.timeoutMs,
        ...(o.dispatcher ? { dispatcher: o.dispatcher } : {}),
      });
    } catch (error) {
      throw failure(error, where, o, limit.timedOut);
    }
    const rawType = res.headers['content-type'];
    const contentType = (Array.isArray(rawType) ? rawType[0] : rawType)?.trim();
    if (res.statusCode !== 200) {
      await res.body.dump().catch(() => {});
      throw statusError(res.statusCode, where);
    }
    const essence = contentType?.split(';')[0]?.trim().toLowerCase();
    if (essence === 'text/html' || essence === 'application/json') {
      discard(res.body);
      throw new MetricsError('METRICS_NOT_PROMETHEUS', `${where}: the answer is ${essence}, not a metrics page`, {
        hint:
          essence === 'text/html'
            ? "cardano-tracer lists its nodes on an HTML page: point --metrics at one node's route (http://HOST:PORT/NODE_ROUTE)"
            : 'this looks like a JSON endpoint (EKG?); the Prometheus endpoint is usually port 12798, path /metrics',
        details: { url: where, contentType: essence },
      });
    }
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      discard(res.body);
      throw tooLarge(where, maxBytes);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body) {
        const buf = chunk as Buffer;
        size += buf.length;
        if (size > maxBytes) {
          discard(res.body);
          throw tooLarge(where, maxBytes);
        }
        chunks.push(buf);
      }
    } catch (error) {
      if (error instanceof MetricsError) throw error;
      throw failure(error, where, o, limit.timedOut);
    }
    return { text: Buffer.concat(chunks, size).toString('utf8'), bytes: size, contentType };
  } finally {
    limit.dispose();
  }
}

function failure(error: unknown, where: string, o: FetchPageOptions, timedOut: boolean): unknown {
  if (o.signal?.aborted) return o.signal.reason; // Ctrl-C: InterruptedError
  const code = (error as { code?: string }).code ?? (error as { cause?: { code?: string } }).cause?.code;
  if (
    timedOut ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  ) {
    return new MetricsError('METRICS_TIMEOUT', `${where}: no complete answer within ${o.timeoutMs} ms`, {
      hint: `a node answers in milliseconds; check the address, or allow more time with --timeout. ${ENDPOINT_HINT}`,
      details: { url: where, timeoutMs: o.timeoutMs },
    });
  }
  const why =
    code === 'ECONNREFUSED'
      ? 'connection refused'
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? 'the host name does not resolve'
        : code === 'ECONNRESET' || code === 'UND_ERR_SOCKET'
          ? 'the connection was closed before an answer'
          : printable(describeError(error));
  return new MetricsError('METRICS_UNREACHABLE', `cannot read ${where}: ${why}`, {
    hint: ENDPOINT_HINT,
    details: { url: where, ...(code ? { errno: code } : {}) },
  });
}

function statusError(status: number, where: string): MetricsError {
  const hint =
    status === 404
      ? "the new tracing system's PrometheusSimple serves only the path /metrics; cardano-tracer serves one route per node (its root page lists them)"
      : status === 415
        ? 'the endpoint refused the content type spo asks for (text/plain); is this a Prometheus endpoint?'
        : ENDPOINT_HINT;
  return new MetricsError('METRICS_HTTP_STATUS', `${where}: HTTP ${status}`, {
    hint,
    details: { url: where, status },
  });
}

function tooLarge(where: string, maxBytes: number): MetricsError {
  return new MetricsError(
    'METRICS_TOO_LARGE',
    `${where}: the answer is larger than ${Math.round(maxBytes / 1024 / 1024)} MiB; a node's metrics page is tens of KiB`,
    {
      hint: "check that --metrics points at a node's Prometheus endpoint",
      details: { url: where, limitBytes: maxBytes },
    },
  );
}

/** Ends a body we will not read; the abort this causes inside undici is expected, not an error. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {});
  body.destroy();
}
