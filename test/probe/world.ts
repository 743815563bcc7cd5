/**
 * A loopback "registry world" for the probe's end-to-end tests: healthy relays on 127.0.0.1 and ::1,
 * names on a local dnsmasq (A/AAAA, SRV, NXDOMAIN), and injected faults (closed ports, silent
 * listeners, a wrong magic, slow answers, shared endpoints), with the status each must be reported with.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { startServer } from '../../src/net/serve.js';
import { type Dnsmasq, startDnsmasq } from '../dns/dnsmasq.js';
import { BIN, ROOT } from '../lib/cli.js';
import { closedPort } from '../lib/ports.js';
import { type FakeRelay, startFakeRelay } from './responder.js';

export const MAGIC = 764824073;

export interface ExpectedRelay {
  /** As registered: { address, port } (port absent for SRV). */
  address: string;
  port?: number;
  /** Expected status of every address of the relay. */
  expect: string;
}

export interface World {
  dns: Dnsmasq;
  pools: ExpectedRelay[][];
  relays: Array<{ close(): Promise<void> }>;
  stop(): Promise<void>;
}

export interface WorldOptions {
  /** Healthy fake relays (test/probe/responder.ts), alternating 127.0.0.1 and ::1. */
  fakes: number;
  /** Healthy in-process src/net startServer instances (spo serve's responder), alternating families. */
  servers?: number;
  /** Real `spo serve` child processes (bin/run.js): healthy on 127.0.0.1 and ::1, and one on another network. */
  spoServe?: boolean;
}

/** Starts `spo serve --port 0` and reads the address from its first line. */
async function spoServe(host: string, network: string): Promise<{ port: number; close(): Promise<void> }> {
  const child: ChildProcess = spawn(
    process.execPath,
    [BIN, 'serve', '--host', host, '--port', '0', '--network', network],
    {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', CI: 'true' },
      stdio: ['pipe', 'pipe', 'ignore'],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('spo serve did not say where it listens')), 20_000);
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const m = /listening \S*:(\d+)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`spo serve exited ${code}`)));
  });
  return {
    port,
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Two listeners, on 127.0.0.1 and ::1, with the same port (for a name with A and AAAA records). */
async function dualRelay(magic: number): Promise<[FakeRelay, FakeRelay]> {
  for (let i = 0; i < 50; i++) {
    const v4 = await startFakeRelay('127.0.0.1', { kind: 'ok', magic });
    const v6 = await startFakeRelay('::1', { kind: 'ok', magic }, v4.port).catch(() => undefined);
    if (v6) return [v4, v6];
    await v4.close();
  }
  throw new Error('no port free on both 127.0.0.1 and ::1');
}

/**
 * Builds `healthy` single-relay pools (alternating IPv4/IPv6) plus the fault pools. Every pool's
 * relays list says what each must be reported as.
 */
export async function buildWorld(o: WorldOptions): Promise<World> {
  const relays: World['relays'] = [];
  try {
    return await build(o, relays);
  } catch (error) {
    // A setup that fails half-way (e.g. no dnsmasq on the machine) must not leave the relays and
    // `spo serve` children it already started running after the test run (they outlived it once).
    await Promise.allSettled(relays.map((r) => r.close()));
    throw error;
  }
}

async function build(o: WorldOptions, relays: World['relays']): Promise<World> {
  const pools: ExpectedRelay[][] = [];
  const keep = <T extends { close(): Promise<void> }>(r: T): T => {
    relays.push(r);
    return r;
  };
  for (let i = 0; i < (o.servers ?? 0); i++) {
    const host = i % 2 === 0 ? '127.0.0.1' : '::1';
    const r = keep(await startServer({ host, port: 0, magic: MAGIC }));
    pools.push([{ address: host, port: r.port, expect: 'ok' }]);
  }
  if ((o.servers ?? 0) > 0) {
    const never = keep(
      await startServer({ host: '127.0.0.1', port: 0, magic: MAGIC, fault: { kind: 'never-answer' } }),
    );
    const closes = keep(
      await startServer({ host: '::1', port: 0, magic: MAGIC, fault: { kind: 'close-mid-handshake' } }),
    );
    const other = keep(await startServer({ host: '::1', port: 0, magic: 2 }));
    pools.push(
      [{ address: '127.0.0.1', port: never.port, expect: 'HANDSHAKE_TIMEOUT' }],
      [{ address: '::1', port: closes.port, expect: 'HANDSHAKE_CLOSED' }],
      [{ address: '::1', port: other.port, expect: 'HANDSHAKE_REFUSED_MAGIC' }],
    );
  }
  if (o.spoServe) {
    const [s4, s6, preprod] = await Promise.all([
      spoServe('127.0.0.1', 'mainnet'),
      spoServe('::1', 'mainnet'),
      spoServe('127.0.0.1', 'preprod'),
    ]);
    keep(s4);
    keep(s6);
    keep(preprod);
    pools.push([
      { address: '127.0.0.1', port: s4.port, expect: 'ok' },
      { address: '::1', port: s6.port, expect: 'ok' },
      { address: '127.0.0.1', port: preprod.port, expect: 'HANDSHAKE_REFUSED_MAGIC' },
    ]);
  }
  for (let i = 0; i < o.fakes; i++) {
    const host = i % 2 === 0 ? '127.0.0.1' : '::1';
    const r = keep(await startFakeRelay(host, { kind: 'ok', magic: MAGIC, tipSlot: 5000 + (i % 3) }));
    pools.push([{ address: host, port: r.port, expect: 'ok' }]);
  }
  const [a4, a6] = await dualRelay(MAGIC);
  keep(a4);
  keep(a6);
  const srvTarget = keep(await startFakeRelay('127.0.0.1', { kind: 'ok', magic: MAGIC }));
  const silent = keep(await startFakeRelay('127.0.0.1', { kind: 'silent' }));
  const silent6 = keep(await startFakeRelay('::1', { kind: 'silent' }));
  const wrongMagic = keep(await startFakeRelay('127.0.0.1', { kind: 'wrong-magic', magic: 1 }));
  // Answers after 10 s: beyond every probe limit the tests use (2 s in the pipeline test, 5 s end to end).
  const slow = keep(await startFakeRelay('127.0.0.1', { kind: 'ok', magic: MAGIC, delayMs: 10_000 }));
  const slowButOk = keep(await startFakeRelay('::1', { kind: 'ok', magic: MAGIC, delayMs: 300 }));
  const shared = keep(await startFakeRelay('127.0.0.1', { kind: 'ok', magic: MAGIC }));
  const noKeepAlive = keep(await startFakeRelay('::1', { kind: 'ok', magic: MAGIC, noKeepAlive: true }));
  const noTip = keep(await startFakeRelay('127.0.0.1', { kind: 'ok', magic: MAGIC, noTip: true }));
  const closed4 = await closedPort('127.0.0.1');
  const closed6 = await closedPort('::1');
  const dns = await startDnsmasq({
    hostRecords: ['both.test,127.0.0.1,::1', 'srvtarget.test,127.0.0.1'],
    srvHosts: [`_cardano._tcp.srv.test,srvtarget.test,${srvTarget.port},0,10`],
  });
  pools.push(
    [
      { address: 'both.test', port: a4.port, expect: 'ok' },
      { address: '127.0.0.1', port: closed4, expect: 'CONNECT_REFUSED' },
    ],
    [{ address: 'srv.test', expect: 'ok' }],
    [{ address: 'gone.test', port: 3001, expect: 'DNS_NXDOMAIN' }],
    [
      { address: '127.0.0.1', port: silent.port, expect: 'HANDSHAKE_TIMEOUT' },
      { address: '::1', port: silent6.port, expect: 'HANDSHAKE_TIMEOUT' },
    ],
    [{ address: '127.0.0.1', port: wrongMagic.port, expect: 'HANDSHAKE_REFUSED_MAGIC' }],
    [{ address: '127.0.0.1', port: slow.port, expect: 'HANDSHAKE_TIMEOUT' }],
    [{ address: '::1', port: slowButOk.port, expect: 'ok' }],
    [{ address: '::1', port: closed6, expect: 'CONNECT_REFUSED' }],
    [{ address: '::1', port: noKeepAlive.port, expect: 'KEEPALIVE_TIMEOUT' }],
    /* the e2e and pipeline tests ask for tips (--tip) */
    [{ address: '127.0.0.1', port: noTip.port, expect: 'CHAINSYNC_TIMEOUT' }],
    [{ address: '127.0.0.1', port: shared.port, expect: 'ok' }],
    [{ address: '127.0.0.1', port: shared.port, expect: 'ok' }],
  );
  return {
    dns,
    pools,
    relays,
    stop: async () => {
      await Promise.all(relays.map((r) => r.close()));
      await dns.stop();
    },
  };
}

/** A peer snapshot v2 file (`cardano-cli query ledger-peer-snapshot`) of the world's pools. */
export function snapshotV2(pools: ExpectedRelay[][]): string {
  let acc = 0;
  const n = pools.length;
  return JSON.stringify({
    version: 2,
    slotNo: 5000,
    bigLedgerPools: pools.map((relays) => {
      acc += 1 / n;
      return {
        accumulatedStake: Math.min(1, acc),
        relativeStake: 1 / n,
        relays: relays.map((r) =>
          r.port === undefined ? { address: r.address } : { address: r.address, port: r.port },
        ),
      };
    }),
  });
}
