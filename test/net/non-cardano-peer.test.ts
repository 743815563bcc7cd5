import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJsonOutput, runCli } from '../lib/cli.js';

// A port answered by another service (here an HTTP reply) must fail at once, not after --timeout.
describe('spo ping against a peer that is not speaking node-to-node', () => {
  let server: Server;
  let port = 0;
  const connections = new Set<Socket>();
  beforeAll(async () => {
    server = createServer((c) => {
      connections.add(c);
      c.on('close', () => connections.delete(c));
      c.on('error', () => {});
      c.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  // server.close waits for every connection, strays included (a test elsewhere that picked this port
  // as a "closed" one before it was taken here may hold one open): end them, never wait on them
  afterAll(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const c of connections) c.destroy();
      }),
  );

  it('reports MUX_UNKNOWN_PROTOCOL from the first header, well before the timeout', async () => {
    const r = await runCli(['ping', `127.0.0.1:${port}`, '--timeout', '10s', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.stringify(parseJsonOutput(r))).toContain('MUX_UNKNOWN_PROTOCOL');
    expect(r.ms).toBeLessThan(8000);
  });
});
