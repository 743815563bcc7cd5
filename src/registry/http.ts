/**
 * A small JSON-over-HTTP client on undici 7 for the registry APIs: an explicit dispatcher (never the
 * global one, architecture.md §2.8), retries with exponential backoff on 429/5xx and socket errors
 * honouring Retry-After, per-request and total timeouts, cancellation by AbortSignal, and errors that
 * name the service and path but never a secret.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, type Dispatcher, request } from 'undici';
import { type TimeLimit, timeLimit } from '../lib/abort.js';
import { describeError, SpoError } from '../lib/errors.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../lib/read-input.js';
import { printable } from '../lib/sanitize.js';

export interface HttpClientOptions {
  /** For messages: `Koios`, `Blockfrost`. */
  service: string;
  baseUrl: string;
  headers?: Record<string, string>;
  dispatcher?: Dispatcher | undefined;
  signal?: AbortSignal | undefined;
  /** Total time for everything this client does, in ms. */
  totalTimeoutMs: number;
  /** Time for one request (headers and body each), in ms (default 30 s). */
  requestTimeoutMs?: number;
  maxRetries?: number;
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Values never to appear in an error message (tokens, project ids). */
  secrets?: Array<string | undefined>;
  /** The most one answer may hold, in bytes (default MAX_RESPONSE_BYTES). */
  maxBodyBytes?: number;
}

export interface JsonResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** The most one answer may hold: a page of Koios or Blockfrost is well under 1 MiB. */
export const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);

export class HttpClient {
  private readonly deadline: number;
  private readonly limit: TimeLimit;
  private readonly dispatcher: Dispatcher;
  private readonly ownDispatcher: boolean;

  constructor(private readonly o: HttpClientOptions) {
    this.deadline = performance.now() + o.totalTimeoutMs;
    // a timer we hold (lib/abort.ts): AbortSignal.any's timeout stops firing after a GC on Node 20
    this.limit = timeLimit(o.totalTimeoutMs, { parent: o.signal });
    this.ownDispatcher = o.dispatcher === undefined;
    this.dispatcher = o.dispatcher ?? new Agent({ connect: { timeout: 10_000 }, keepAliveTimeout: 4_000 });
  }

  private get signal(): AbortSignal {
    return this.limit.signal;
  }

  async close(): Promise<void> {
    this.limit.dispose();
    if (this.ownDispatcher) await this.dispatcher.close().catch(() => {});
  }

  /** GET a JSON document, retrying what is worth retrying. */
  async getJson(path: string, headers: Record<string, string> = {}): Promise<JsonResponse> {
    const url = this.o.baseUrl.replace(/\/+$/, '') + path;
    const maxRetries = this.o.maxRetries ?? 5;
    let lastProblem = '';
    // what the last failed attempt was, so that giving up names the real cause
    let lastCode: 'HTTP_STATUS' | 'HTTP_TIMEOUT' | 'HTTP_UNREACHABLE' = 'HTTP_UNREACHABLE';
    for (let attempt = 0; attempt <= maxRetries; attempt++) {
      this.checkAborted(path);
      let retryAfterMs: number | undefined;
      try {
        const remaining = Math.max(1, this.deadline - performance.now());
        const perRequest = Math.min(this.o.requestTimeoutMs ?? 30_000, remaining);
        const res = await request(url, {
          method: 'GET',
          headers: { accept: 'application/json', ...this.o.headers, ...headers },
          dispatcher: this.dispatcher,
          signal: this.signal,
          headersTimeout: perRequest,
          bodyTimeout: perRequest,
        });
        if (res.statusCode >= 200 && res.statusCode < 300) {
          const text = await this.readText(url, path, res);
          if (nestsDeeperThan(text)) {
            throw this.error(
              'HTTP_MALFORMED',
              `${path}: the answer nests deeper than ${MAX_JSON_DEPTH} levels; no real answer does`,
              {
                hint: this.apiHint(),
              },
            );
          }
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch (error) {
            // the parser quotes the body: a hostile one may hold terminal escapes
            throw this.error(
              'HTTP_MALFORMED',
              `${path}: the response is not valid JSON (${printable(describeError(error))})`,
              {
                hint: this.apiHint(),
              },
            );
          }
          return { status: res.statusCode, headers: res.headers, body };
        }
        await res.body.dump().catch(() => {});
        if (res.statusCode === 401 || res.statusCode === 403) {
          throw this.error('HTTP_AUTH', `${path}: HTTP ${res.statusCode} (not authorised)`, {
            hint:
              this.o.service === 'Blockfrost'
                ? 'check the project id (--blockfrost-project-id or BLOCKFROST_PROJECT_ID) and that it is for this network'
                : 'check the token (--koios-token or KOIOS_TOKEN)',
            details: { status: res.statusCode },
          });
        }
        if (!RETRY_STATUS.has(res.statusCode)) {
          const hint =
            res.statusCode === 418
              ? `${this.o.service} has banned this address for flooding (HTTP 418); wait before trying again`
              : res.statusCode === 402
                ? `the daily request quota of this ${this.o.service} project is used up (HTTP 402)`
                : res.statusCode === 404
                  ? `check the URL (--${this.o.service.toLowerCase()}-url) and the network`
                  : undefined;
          throw this.error('HTTP_STATUS', `${path}: HTTP ${res.statusCode}`, {
            ...(hint ? { hint } : {}),
            details: { status: res.statusCode },
          });
        }
        lastProblem = `HTTP ${res.statusCode}`;
        lastCode = 'HTTP_STATUS';
        retryAfterMs = parseRetryAfter(res.headers['retry-after']);
      } catch (error) {
        if (error instanceof SpoError) throw error;
        this.checkAborted(path);
        const code = (error as { code?: string }).code;
        if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
          lastProblem = 'no answer in time';
          lastCode = 'HTTP_TIMEOUT';
        } else {
          lastProblem = describeError(error);
          lastCode = 'HTTP_UNREACHABLE';
        }
      }
      if (attempt === maxRetries) break;
      const backoff = Math.min(this.o.maxDelayMs ?? 30_000, (this.o.minDelayMs ?? 500) * 2 ** attempt);
      const wait = retryAfterMs ?? backoff;
      if (performance.now() + wait > this.deadline) {
        throw this.error(
          lastCode,
          `${path}: ${lastProblem}; gave up, as retrying after ${wait} ms would pass the time limit`,
          {
            hint: 'try again later, or allow more time with --source-timeout',
            ...(lastCode === 'HTTP_STATUS' ? { details: { status: Number(lastProblem.slice(5)) } } : {}),
          },
        );
      }
      try {
        await sleep(wait, undefined, { signal: this.signal });
      } catch {
        this.checkAborted(path);
      }
    }
    throw this.error(
      lastCode,
      `${path}: ${lastProblem} after ${maxRetries + 1} attempts`,
      lastCode === 'HTTP_STATUS' ? { details: { status: Number(lastProblem.slice(5)) } } : {},
    );
  }

  /**
   * The body of a 2xx answer as text, refused unless it says it is JSON, and read counting bytes:
   * more than the limit (declared up front, or streamed) ends the request. An endless or huge body
   * thus costs at most the limit in memory.
   */
  private async readText(url: string, path: string, res: Dispatcher.ResponseData): Promise<string> {
    const rawType = res.headers['content-type'];
    const type = (Array.isArray(rawType) ? rawType[0] : rawType)?.trim();
    if (type === undefined || type === '' || !isJsonType(type)) {
      discard(res.body);
      const what = type ? printable(type) : undefined;
      throw this.error(
        'HTTP_CONTENT_TYPE',
        `${path}: the answer ${what ? `is ${what}` : 'has no content type'}, not JSON`,
        { hint: this.apiHint(), ...(what ? { details: { contentType: what } } : {}) },
      );
    }
    const limit = this.o.maxBodyBytes ?? MAX_RESPONSE_BYTES;
    const tooLarge = (why: string, extra: Record<string, unknown> = {}): SpoError =>
      this.error('HTTP_TOO_LARGE', `${this.redact(url)}: ${why}`, {
        hint: `${this.apiHint()}; spo reads at most ${mib(limit)} per answer`,
        details: { url: this.redact(url), limitBytes: limit, ...extra },
      });
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      discard(res.body);
      throw tooLarge(
        `the response is ${mib(declared)} (Content-Length), larger than ${mib(limit)} (the limit for one answer); not read`,
        { contentLength: declared },
      );
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      const buf = chunk as Buffer;
      size += buf.length;
      if (size > limit) {
        discard(res.body);
        throw tooLarge(`the response is larger than ${mib(limit)} (the limit for one answer); stopped reading`);
      }
      chunks.push(buf);
    }
    return Buffer.concat(chunks, size).toString('utf8');
  }

  private apiHint(): string {
    return `check --${this.o.service.toLowerCase()}-url points at the ${this.o.service} API`;
  }

  private checkAborted(path: string): void {
    if (!this.signal.aborted) return;
    if (this.o.signal?.aborted) throw this.o.signal.reason; // Ctrl-C: InterruptedError
    throw this.error('HTTP_TIMEOUT', `${path}: the total time limit of ${this.o.totalTimeoutMs} ms was reached`, {
      hint: 'try again later, or allow more time with --source-timeout',
    });
  }

  error(code: string, message: string, extra: { hint?: string; details?: Record<string, unknown> } = {}): SpoError {
    return new SpoError(code, this.redact(`${this.o.service}: ${message}`), {
      hint: extra.hint ?? `check that ${this.o.service} at ${this.redact(this.o.baseUrl)} is reachable`,
      details: { service: this.o.service.toLowerCase(), ...extra.details },
    });
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.o.secrets ?? []) if (s && s.length > 0) out = out.split(s).join('***');
    return out;
  }
}

/** Ends a body we will not read; the abort this causes inside undici is expected, not an error. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {});
  body.destroy();
}

/** application/json, or a JSON-based type such as PostgREST's application/vnd.pgrst.object+json. */
function isJsonType(type: string): boolean {
  const essence = (type.split(';')[0] ?? '').trim().toLowerCase();
  return essence === 'application/json' || /^application\/[a-z0-9.!#$&^_-]+\+json$/.test(essence);
}

/** Bytes in MiB for messages: whole when whole, else one decimal. */
function mib(bytes: number): string {
  const m = bytes / (1024 * 1024);
  return `${Number.isInteger(m) ? m : m.toFixed(1)} MiB`;
}

/** Retry-After as seconds or an HTTP date, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}
