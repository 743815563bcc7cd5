/**
 * Serving a prom-client Registry the way cardano-node's PrometheusSimple backend serves its page,
 * for `spo run --metrics-port`: GET or HEAD on `/metrics` only (404 elsewhere, 405 for other
 * methods), the registry's text format, on 127.0.0.1 unless told otherwise (docs/CONVENTIONS.md:
 * nothing listens on a public address unless asked). A shell: it owns a socket.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { MetricsError } from './errors.js';

export interface MetricsServerOptions {
  registry: Registry;
  host?: string;
  /** 0 = any free port. */
  port: number;
}

export interface MetricsServer {
  /** http://HOST:PORT/metrics */
  url: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

export async function startMetricsServer(o: MetricsServerOptions): Promise<MetricsServer> {
  const host = o.host ?? '127.0.0.1';
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Not Found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end('Method Not Allowed\n');
      return;
    }
    o.registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': o.registry.contentType, 'content-length': Buffer.byteLength(text) });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      () => {
        res.writeHead(500);
        res.end();
      },
    );
  });
  // a scraper that stops mid-request must not hold a socket for ever
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((error: NodeJS.ErrnoException) => {
    throw new MetricsError(
      'METRICS_LISTEN_FAILED',
      `cannot serve metrics on ${host}:${o.port}: ${error.code ?? error.message}`,
      {
        hint:
          error.code === 'EADDRINUSE'
            ? 'the port is taken (a cardano-node on 12798?); choose another'
            : 'check the host',
        details: { host, port: o.port },
      },
    );
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/metrics`,
    host,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
