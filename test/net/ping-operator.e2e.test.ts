/**
 * Issue 15, operator expectations of `spo ping`: `--format cncli` prints cncli ping's flat JSON
 * (status, host, port, connectDurationMs, durationMs, errorMessage...) so scripts move over
 * unchanged; a port answered by an HTTP server says "the peer does not speak the node-to-node
 * protocol; is this the right port?" rather than MUX_UNKNOWN_PROTOCOL; a name with only SRV records
 * pinged as a plain name (DNS_NO_DATA) gets a hint naming _cardano._tcp.NAME. All on loopback.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CncliPingJson, PingJson } from '../../src/commands/ping.js';
import { type RunningServer, startServer } from '../../src/net/serve.js';
import { type Dnsmasq, startDnsmasq } from '../dns/dnsmasq.js';
import { parseJsonOutput, runCli } from '../lib/cli.js';
import { closedPort } from '../lib/ports.js';

let relay: RunningServer;
let http: Server;
let httpPort: number;
let dns: Dnsmasq;
const sockets = new Set<Socket>();

beforeAll(async () => {
  relay = await startServer({ host: '127.0.0.1', port: 0, magic: 764824073 });
  http = createServer((c) => {
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
    c.on('error', () => {});
    c.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  httpPort = (http.address() as { port: number }).port;
  dns = await startDnsmasq({
    hostRecords: ['relay.test,127.0.0.1', 'target.test,127.0.0.1'],
    srvHosts: [`_cardano._tcp.pool.test,target.test,${relay.port},0,10`],
  });
}, 30_000);

afterAll(async () => {
  await relay?.close();
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => http.close(() => resolve()));
  await dns?.stop();
});

describe('spo ping --format cncli', () => {
  it("a relay that answers: cncli's ok object, one line, exit 0", async () => {
    const r = await runCli(['ping', `127.0.0.1:${relay.port}`, '--format', 'cncli']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const o = JSON.parse(lines[0] as string) as CncliPingJson;
    expect(Object.keys(o).sort()).toEqual(
      [
        'status',
        'host',
        'port',
        'networkProtocolVersion',
        'dnsDurationMs',
        'connectDurationMs',
        'handshakeDurationMs',
        'durationMs',
      ].sort(),
    );
    if (o.status !== 'ok') throw new Error(JSON.stringify(o));
    expect(o).toMatchObject({ host: '127.0.0.1', port: relay.port, networkProtocolVersion: 15 });
    for (const k of ['dnsDurationMs', 'connectDurationMs', 'handshakeDurationMs', 'durationMs'] as const)
      expect(Number.isInteger(o[k])).toBe(true);
    expect(o.durationMs).toBe(o.dnsDurationMs + o.connectDurationMs + o.handshakeDurationMs);
  });

  it("a failure: cncli's error object (status, host, port, errorMessage), exit 1; a name keeps its host", async () => {
    const closed = await closedPort('127.0.0.1');
    const r = await runCli([
      'ping',
      `127.0.0.1:${closed}`,
      `relay.test:${relay.port}`,
      '--format',
      'cncli',
      '--dns-server',
      dns.server,
    ]);
    expect(r.code).toBe(1);
    const [bad, good] = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as CncliPingJson);
    expect(bad).toEqual({ status: 'error', host: '127.0.0.1', port: closed, errorMessage: expect.any(String) });
    expect(good).toMatchObject({ status: 'ok', host: 'relay.test', port: relay.port });
  });

  it('--format cncli with --json is a usage error', async () => {
    const r = await runCli(['ping', `127.0.0.1:${relay.port}`, '--format', 'cncli', '--json']);
    expect(r.code).toBe(2);
  });
});

describe('spo ping: a port that is not a Cardano node, a name that is only SRV', () => {
  it('an HTTP server: said in words, not MUX_UNKNOWN_PROTOCOL', async () => {
    const r = await runCli(['ping', `127.0.0.1:${httpPort}`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'NOT_NODE_TO_NODE: the peer does not speak the node-to-node protocol; is this the right port? (it answered like an HTTP server)',
    );
    expect(r.stdout).not.toContain('mini-protocol 12081');
    const j = parseJsonOutput<PingJson>(await runCli(['ping', `127.0.0.1:${httpPort}`, '--json']));
    expect(j.targets[0]?.addresses[0]?.error?.code).toBe('NOT_NODE_TO_NODE');
    expect(j.targets[0]?.addresses[0]?.error?.hint).toMatch(/MUX_UNKNOWN_PROTOCOL/);
  });

  it('a name with only SRV records pinged as a plain name: DNS_NO_DATA with a _cardano._tcp hint', async () => {
    const r = await runCli(['ping', 'pool.test', '--dns-server', dns.server]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/DNS_NO_DATA/);
    expect(r.stdout).toMatch(
      /hint: pool\.test has no A\/AAAA records; if it is registered as an SRV relay, ping _cardano\._tcp\.pool\.test/,
    );
    // and the hint is right: that name answers
    const srv = await runCli(['ping', '_cardano._tcp.pool.test', '--dns-server', dns.server, '--count', '1']);
    expect(srv.code, srv.stdout).toBe(0);
  });
});
