/**
 * One DNS exchange with one server: UDP from a fresh socket (a random source port chosen by the
 * kernel) with a random id, or TCP when the UDP answer was truncated. A UDP datagram is used only
 * when it comes from the server and answers the query (id, name, type, class); anything else is
 * dropped and counted, and waiting goes on until the timeout.
 */
import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6, connect as tcpConnect } from 'node:net';
import dnsPacket from 'dns-packet';
import type { Endpoint } from '../lib/address.js';
import { formatEndpoint } from '../lib/address.js';
import { describeError } from '../lib/errors.js';
import { DnsError } from './errors.js';
import {
  type DnsResponse,
  decodeResponse,
  encodeQuery,
  MAX_MESSAGE,
  matchesQuery,
  type QueryType,
  queryPacket,
} from './packet.js';

export interface ExchangeOptions {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Counters updated as datagrams are dropped. */
  stats?: TransportStats;
}

export interface TransportStats {
  /** Datagrams dropped because id, source or question did not match. */
  mismatched: number;
  /** Datagrams dropped because they could not be decoded safely. */
  malformed: number;
}

export interface ExchangeResult {
  response: DnsResponse;
  transport: 'udp' | 'tcp';
}

export function newQueryId(): number {
  return randomInt(0, 0x10000);
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

function sameHost(a: string, b: string): boolean {
  if (a === b) return true;
  // A v4 server may answer as ::ffff:a.b.c.d on a dual-stack socket.
  return a.replace(/^::ffff:/i, '') === b.replace(/^::ffff:/i, '');
}

/** Sends the query over UDP and waits for the matching answer. */
export function udpExchange(
  server: Endpoint,
  name: string,
  type: QueryType,
  options: ExchangeOptions,
): Promise<ExchangeResult> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  const id = newQueryId();
  const query = encodeQuery(id, name, type);
  return new Promise<ExchangeResult>((resolve, reject) => {
    let socket: Socket | undefined;
    let malformed: DnsError | undefined;
    let mismatched = 0;
    let done = false;
    const finish = (error: Error | undefined, result?: ExchangeResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      try {
        socket?.close();
      } catch {
        // already closed
      }
      if (error) reject(error);
      else resolve(result as ExchangeResult);
    };
    const onAbort = (): void => finish(abortReason(signal as AbortSignal));
    const timer = setTimeout(() => {
      const where = formatEndpoint(server);
      if (malformed) {
        finish(
          new DnsError('DNS_MALFORMED', `${name} ${type}: only malformed answers from ${where}: ${malformed.message}`, {
            details: { name, type, server: where, mismatched, ...malformed.details },
          }),
        );
      } else {
        finish(
          new DnsError('DNS_TIMEOUT', `${name} ${type}: no answer from ${where} within ${options.timeoutMs} ms`, {
            details: { name, type, server: where, timeoutMs: options.timeoutMs, mismatched },
          }),
        );
      }
    }, options.timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      socket = createSocket(isIPv6(server.host) ? 'udp6' : 'udp4');
    } catch (error) {
      finish(networkError(server, name, type, error));
      return;
    }
    socket.on('error', (error) => finish(networkError(server, name, type, error)));
    socket.on('message', (msg, rinfo) => {
      if (done) return;
      if (rinfo.port !== server.port || !sameHost(rinfo.address, server.host)) {
        mismatched++;
        if (options.stats) options.stats.mismatched++;
        return;
      }
      let response: DnsResponse;
      try {
        response = decodeResponse(msg);
      } catch (error) {
        // A forged or broken datagram must not end the wait for the genuine answer.
        malformed = error instanceof DnsError ? error : new DnsError('DNS_MALFORMED', describeError(error));
        if (options.stats) options.stats.malformed++;
        return;
      }
      if (!matchesQuery(response, id, name, type)) {
        mismatched++;
        if (options.stats) options.stats.mismatched++;
        return;
      }
      finish(undefined, { response, transport: 'udp' });
    });
    socket.send(query, server.port, server.host, (error) => {
      if (error) finish(networkError(server, name, type, error));
    });
  });
}

function networkError(server: Endpoint, name: string, type: QueryType, error: unknown): DnsError {
  const where = formatEndpoint(server);
  return new DnsError('DNS_NETWORK', `${name} ${type}: cannot query ${where}: ${describeError(error)}`, {
    details: { name, type, server: where },
    cause: error,
  });
}

/** Sends the query over TCP (RFC 7766 framing) and reads exactly one framed answer. */
export function tcpExchange(
  server: Endpoint,
  name: string,
  type: QueryType,
  options: ExchangeOptions,
): Promise<ExchangeResult> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  const id = newQueryId();
  const where = formatEndpoint(server);
  const query = dnsPacket.streamEncode(queryPacket(id, name, type));
  return new Promise<ExchangeResult>((resolve, reject) => {
    let done = false;
    let buffered: Buffer = Buffer.alloc(0);
    const socket = tcpConnect({ host: server.host, port: server.port });
    const finish = (error: Error | undefined, result?: ExchangeResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (error) reject(error);
      else resolve(result as ExchangeResult);
    };
    const onAbort = (): void => finish(abortReason(signal as AbortSignal));
    const timer = setTimeout(
      () =>
        finish(
          new DnsError('DNS_TIMEOUT', `${name} ${type}: no TCP answer from ${where} within ${options.timeoutMs} ms`, {
            details: { name, type, server: where, timeoutMs: options.timeoutMs, transport: 'tcp' },
          }),
        ),
      options.timeoutMs,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.setNoDelay(true);
    socket.on('error', (error) => finish(networkError(server, name, type, error)));
    socket.on('connect', () => socket.write(query));
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      // The answer is complete only once its 2-byte length prefix and that many bytes are here.
      if (buffered.length < 2) return;
      const length = buffered.readUInt16BE(0);
      if (buffered.length < length + 2) return;
      if (buffered.length > MAX_MESSAGE + 2) {
        finish(new DnsError('DNS_MALFORMED', `${name} ${type}: oversized TCP answer from ${where}`));
        return;
      }
      try {
        const response = decodeResponse(buffered.subarray(2, length + 2));
        if (!matchesQuery(response, id, name, type)) {
          finish(
            new DnsError('DNS_MALFORMED', `${name} ${type}: the TCP answer from ${where} is for another query`, {
              details: { name, type, server: where, transport: 'tcp' },
            }),
          );
          return;
        }
        finish(undefined, { response, transport: 'tcp' });
      } catch (error) {
        finish(error instanceof Error ? error : new Error(String(error)));
      }
    });
    socket.on('end', () =>
      finish(
        new DnsError('DNS_MALFORMED', `${name} ${type}: ${where} closed the TCP connection before a full answer`, {
          details: { name, type, server: where, transport: 'tcp' },
        }),
      ),
    );
  });
}
