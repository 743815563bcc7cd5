/** Loopback ports for tests, asked of the kernel (port 0) and released at once. */
import { createServer } from 'node:net';

/**
 * A TCP port on `host` that was free a moment ago (bound with port 0, then closed): a test can
 * listen on it, or dial it to meet a refusal, since nothing listens there any more.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen({ host, port: 0 }, () => resolve()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** A port on `host` that refuses connections: `freePort`, named for what the caller wants of it. */
export const closedPort = freePort;
