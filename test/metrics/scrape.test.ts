/**
 * Fetching a metrics page from a real HTTP server on 127.0.0.1: the answer, what is asked for
 * (never OpenMetrics), and each failure an operator can meet, with its code and hint.
 */
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { InterruptedError, type SpoError } from '../../src/lib/errors.js';
import { fetchMetricsPage, metricsAgent, parseMetricsUrl } from '../../src/metrics/scrape.js';
import { closedPort } from '../lib/ports.js';
import { fixture, type PageServer, sendPage, startPageServer } from './page-server.js';

const servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function serve(...args: Parameters<typeof startPageServer>): Promise<PageServer> {
  const s = await startPageServer(...args);
  servers.push(s);
  return s;
}

async function failure(p: Promise<unknown>): Promise<SpoError> {
  try {
    await p;
  } catch (error) {
    return error as SpoError;
  }
  throw new Error('no error');
}

describe('parseMetricsUrl', () => {
  it.each([
    ['http://127.0.0.1:12798/metrics', 'http://127.0.0.1:12798/metrics'],
    ['12798', 'http://127.0.0.1:12798/metrics'],
    ['relay1:12798', 'http://relay1:12798/metrics'],
    ['[::1]:12798', 'http://[::1]:12798/metrics'],
    ['10.0.0.5:3100/12700130004', 'http://10.0.0.5:3100/12700130004'],
    ['https://mon.example/metrics', 'https://mon.example/metrics'],
  ])('%s -> %s', (text, href) => {
    expect(parseMetricsUrl(text).href).toBe(href);
  });

  it.each([['ftp://x/metrics'], ['http://'], ['http://u:p@x/metrics']])('refuses %s (exit 2)', (text) => {
    expect(() => parseMetricsUrl(text)).toThrow(expect.objectContaining({ code: 'BAD_URL', exitCode: 2 }));
  });
});

describe('fetchMetricsPage', () => {
  it('reads the page and asks for the text format, not OpenMetrics', async () => {
    const page = fixture('new-10.5.3.prom');
    const s = await serve((_req, res) => sendPage(res, page));
    const got = await fetchMetricsPage({ url: new URL(s.url), timeoutMs: 5000 });
    expect(got.text).toBe(page);
    expect(got.bytes).toBe(Buffer.byteLength(page));
    expect(s.requests[0]?.accept).toMatch(/^text\/plain/);
    expect(s.requests[0]?.accept).not.toMatch(/openmetrics/);
  });

  it('takes a page without a content type (the legacy exporter sends none)', async () => {
    const s = await serve((_req, res) => sendPage(res, 'a 1\n', null));
    expect((await fetchMetricsPage({ url: new URL(s.url), timeoutMs: 5000 })).text).toBe('a 1\n');
  });

  it('a keep-alive agent reuses one connection for several scrapes', async () => {
    const s = await serve((_req, res) => sendPage(res, 'a 1\n'));
    const agent = metricsAgent();
    try {
      for (let i = 0; i < 3; i++) await fetchMetricsPage({ url: new URL(s.url), timeoutMs: 5000, dispatcher: agent });
    } finally {
      await agent.close();
    }
    expect(s.requests).toHaveLength(3);
    expect(s.connections()).toBe(1);
  });

  it('nothing listening: METRICS_UNREACHABLE, with the hint about hasPrometheus / PrometheusSimple', async () => {
    const port = await closedPort();
    const err = await failure(fetchMetricsPage({ url: new URL(`http://127.0.0.1:${port}/metrics`), timeoutMs: 5000 }));
    expect(err.code).toBe('METRICS_UNREACHABLE');
    expect(err.message).toMatch(/connection refused/);
    expect(err.hint).toMatch(/hasPrometheus/);
    expect(err.hint).toMatch(/PrometheusSimple/);
    expect(err.hint).toMatch(/port/);
  });

  it('an endpoint that accepts and never answers: METRICS_TIMEOUT at the time limit', async () => {
    const silent: Server = createServer(() => {});
    const sockets: import('node:net').Socket[] = [];
    silent.on('connection', (s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    servers.push({
      close: () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          silent.close(() => resolve());
        }),
    });
    const { port } = silent.address() as import('node:net').AddressInfo;
    const started = performance.now();
    const err = await failure(fetchMetricsPage({ url: new URL(`http://127.0.0.1:${port}/metrics`), timeoutMs: 300 }));
    expect(err.code).toBe('METRICS_TIMEOUT');
    expect(err.details).toMatchObject({ timeoutMs: 300 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('a body that stalls half-way: METRICS_TIMEOUT too (the limit covers the body)', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('a 1\n'); // and never ends
    });
    const err = await failure(fetchMetricsPage({ url: new URL(s.url), timeoutMs: 300 }));
    expect(err.code).toBe('METRICS_TIMEOUT');
  });

  it('404: METRICS_HTTP_STATUS, with the /metrics-only hint', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(404);
      res.end('Not Found');
    });
    const err = await failure(fetchMetricsPage({ url: new URL(s.url), timeoutMs: 5000 }));
    expect(err.code).toBe('METRICS_HTTP_STATUS');
    expect(err.details).toMatchObject({ status: 404 });
    expect(err.hint).toMatch(/only the path \/metrics/);
  });

  it("an HTML page (cardano-tracer's list of nodes): METRICS_NOT_PROMETHEUS", async () => {
    const s = await serve((_req, res) => sendPage(res, '<html></html>', 'text/html; charset=utf-8'));
    const err = await failure(fetchMetricsPage({ url: new URL(s.url), timeoutMs: 5000 }));
    expect(err.code).toBe('METRICS_NOT_PROMETHEUS');
    expect(err.hint).toMatch(/cardano-tracer/);
  });

  it('too large, declared or streamed: METRICS_TOO_LARGE, read no further', async () => {
    const declared = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(64 * 1024) });
      res.end('x'.repeat(64 * 1024));
    });
    const err1 = await failure(fetchMetricsPage({ url: new URL(declared.url), timeoutMs: 5000, maxBytes: 1024 }));
    expect(err1.code).toBe('METRICS_TOO_LARGE');
    let written = 0;
    const endless = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(16 * 1024, 0x61);
      const pump = (): void => {
        while (written < 64 * 1024 * 1024 && res.write(chunk)) written += chunk.length;
        if (written < 64 * 1024 * 1024) res.once('drain', pump);
        else res.end();
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
    });
    const err2 = await failure(fetchMetricsPage({ url: new URL(endless.url), timeoutMs: 5000, maxBytes: 64 * 1024 }));
    expect(err2.code).toBe('METRICS_TOO_LARGE');
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });

  it("Ctrl-C while waiting: rejects with the signal's reason", async () => {
    const ac = new AbortController();
    // the request has arrived (and will never be answered): now the user presses Ctrl-C
    const s = await serve(() => ac.abort(new InterruptedError()));
    const p = fetchMetricsPage({ url: new URL(s.url), timeoutMs: 5000, signal: ac.signal });
    const err = await failure(p);
    expect(err).toBeInstanceOf(InterruptedError);
  });
});
