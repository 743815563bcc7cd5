/**
 * A real HTTP server on 127.0.0.1 standing in for a node's Prometheus endpoint: serves the page a
 * handler returns (a fixture, a prom-client registry), counts requests, and closes everything.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type PageHandler = (req: IncomingMessage, res: ServerResponse, n: number) => void | Promise<void>;

export interface PageServer {
  url: string;
  port: number;
  requests: IncomingMessage['headers'][];
  /** TCP connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

export function fixture(name: string): string {
  return readFileSync(new URL(`../fixtures/metrics/${name}`, import.meta.url), 'utf8');
}

/** Serves `text` as text/plain (as the new system's PrometheusSimple does) on /metrics. */
export function sendPage(
  res: ServerResponse,
  text: string,
  contentType: string | null = 'text/plain; charset=utf-8',
): void {
  res.writeHead(200, contentType === null ? {} : { 'content-type': contentType });
  res.end(text);
}

export async function startPageServer(handler: PageHandler): Promise<PageServer> {
  const requests: IncomingMessage['headers'][] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.headers);
    Promise.resolve(handler(req, res, requests.length)).catch((error: unknown) => {
      res.destroy(error as Error);
    });
  });
  let connections = 0;
  server.on('connection', () => {
    connections++;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/metrics`,
    port,
    requests,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
