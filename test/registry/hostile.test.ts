/**
 * Hostile registry servers on 127.0.0.1 (issue 16): an endless chunked body, a huge Content-Length,
 * a body sent a byte at a time (with garbage collections, which used to silence the time limit), a
 * wrong content type, terminal escapes in a broken body, and a JSON value nested far too deep.
 * Every server bounds what it sends, so a regression fails an assertion instead of eating the machine.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { SpoError } from '../../src/lib/errors.js';
import { HttpClient, MAX_RESPONSE_BYTES } from '../../src/registry/http.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MiB = 1024 * 1024;
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
}

/** Writes `chunk` as fast as the socket takes it until `cap` bytes or the client goes away; counts what went out. */
function flood(res: ServerResponse, chunk: Buffer, cap: number, sent: { bytes: number }): void {
  const more = (): void => {
    while (sent.bytes < cap && !res.destroyed) {
      sent.bytes += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', more);
    }
    if (!res.destroyed) res.end();
  };
  res.on('close', () => res.removeAllListeners('drain'));
  more();
}

async function failure(p: Promise<unknown>): Promise<SpoError> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(SpoError);
    return error as SpoError;
  }
  throw new Error('expected a failure');
}

const client = (baseUrl: string, extra: Partial<ConstructorParameters<typeof HttpClient>[0]> = {}): HttpClient =>
  new HttpClient({ service: 'Koios', baseUrl, totalTimeoutMs: 20_000, maxRetries: 0, ...extra });

describe('hostile registry server', () => {
  it('an endless chunked body is cut at the limit, naming the URL (HTTP_TOO_LARGE)', async () => {
    const sent = { bytes: 0 };
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[');
      flood(res, Buffer.alloc(64 * 1024, 0x20), 64 * MiB, sent);
    });
    const http = client(url, { maxBodyBytes: MiB });
    const e = await failure(http.getJson('/pool_relays?offset=0&limit=1000'));
    await http.close();
    expect(e.code).toBe('HTTP_TOO_LARGE');
    expect(e.message).toBe(
      `Koios: ${url}/pool_relays?offset=0&limit=1000: the response is larger than 1 MiB (the limit for one answer); stopped reading`,
    );
    expect(e.hint).toMatch(/--koios-url/);
    expect(e.details).toMatchObject({ url: `${url}/pool_relays?offset=0&limit=1000`, limitBytes: MiB });
    // reading stopped: the server got rid of little more than the limit (socket buffers hold the rest)
    expect(sent.bytes).toBeLessThan(32 * MiB);
  });

  it('a huge Content-Length is refused before the body is read', async () => {
    const sent = { bytes: 0 };
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(2 * 1024 * MiB) });
      flood(res, Buffer.alloc(64 * 1024, 0x20), 64 * MiB, sent);
    });
    const http = client(url);
    const e = await failure(http.getJson('/tip'));
    await http.close();
    expect(e.code).toBe('HTTP_TOO_LARGE');
    expect(e.message).toBe(
      `Koios: ${url}/tip: the response is 2048 MiB (Content-Length), larger than ${MAX_RESPONSE_BYTES / MiB} MiB (the limit for one answer); not read`,
    );
    expect(sent.bytes).toBeLessThan(32 * MiB);
  });

  it('the total time limit fires on a body sent a byte at a time, even after garbage collections', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[', () => {
        // the client has its headers: collect garbage now, as a long run eventually does
        gc();
        setImmediate(gc);
      });
      const drip = setInterval(() => res.write(' '), 100);
      res.on('close', () => clearInterval(drip));
    });
    // as every command does: Ctrl-C's signal is the parent of the time limit
    const http = client(url, { totalTimeoutMs: 1000, signal: new AbortController().signal });
    const started = performance.now();
    const bounded = new Promise<'still running'>((r) => setTimeout(() => r('still running'), 15_000).unref());
    const outcome = await Promise.race([http.getJson('/pool_list').catch((e: unknown) => e), bounded]);
    expect(outcome).toBeInstanceOf(SpoError);
    await http.close();
    expect((outcome as SpoError).code).toBe('HTTP_TIMEOUT');
    expect((outcome as SpoError).message).toBe('Koios: /pool_list: the total time limit of 1000 ms was reached');
    expect(performance.now() - started).toBeLessThan(6000);
  });

  it('a content type that is not JSON is refused (HTTP_CONTENT_TYPE), even when the body is JSON', async () => {
    const url = await serve((req, res) => {
      const type = req.url?.includes('html') ? 'text/html; charset=utf-8' : undefined;
      if (type) res.setHeader('content-type', type);
      res.end('[]');
    });
    const http = client(url);
    const html = await failure(http.getJson('/html'));
    expect(html.code).toBe('HTTP_CONTENT_TYPE');
    expect(html.message).toBe('Koios: /html: the answer is text/html; charset=utf-8, not JSON');
    expect(html.hint).toMatch(/--koios-url/);
    const none = await failure(http.getJson('/none'));
    expect(none.code).toBe('HTTP_CONTENT_TYPE');
    expect(none.message).toBe('Koios: /none: the answer has no content type, not JSON');
    await http.close();
    // JSON in its usual spellings is taken
    for (const type of ['application/json', 'application/json; charset=utf-8', 'application/vnd.pgrst.object+json']) {
      const ok = await serve((_req, res) => {
        res.writeHead(200, { 'content-type': type });
        res.end('[1]');
      });
      const h = client(ok);
      expect((await h.getJson('/x')).body).toEqual([1]);
      await h.close();
    }
  });

  it('terminal escapes in a body that is not JSON are shown escaped in the error', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('\u001b]0;pwned\u0007\u001b[2J{"oops"');
    });
    const http = client(url);
    const e = await failure(http.getJson('/pool_list'));
    await http.close();
    expect(e.code).toBe('HTTP_MALFORMED');
    expect(e.message).toMatch(/not valid JSON/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: what must not appear
    expect(e.message).not.toMatch(/[\u0000-\u001f\u007f]/);
    expect(e.message).toContain('\\u001b');
  });

  it('a value nested 100,000 levels deep is a clear error, not a stack overflow', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    });
    const http = client(url);
    const e = await failure(http.getJson('/pool_list'));
    await http.close();
    expect(e.code).toBe('HTTP_MALFORMED');
    expect(e.message).toBe('Koios: /pool_list: the answer nests deeper than 512 levels; no real answer does');
  });
});
