/**
 * `spo run` as a library, in-process: the runner reads the operator's topology file, serves the
 * metrics page and the control socket, runs the node (a `spo serve` producer on loopback as its
 * local root), re-reads the file on reload (a broken file keeps the old topology) and closes
 * everything it opened. Its refusals at start are InputErrors that leave nothing open.
 * Synchronised on the node's events, never on sleeps.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DnsError } from '../../src/dns/errors.js';
import type { AddressAnswer, RootPeerResolver, SrvAnswer } from '../../src/driver/root-peers.js';
import { InputError, isSpoError } from '../../src/lib/errors.js';
import { selectNetwork } from '../../src/lib/networks.js';
import { parsePrometheusText, unlabelledValue } from '../../src/metrics/prometheus-text.js';
import { type RunningServer, startServer } from '../../src/net/serve.js';
import { querySnapshot } from '../../src/node/control.js';
import { type NodeRunner, type NodeRunnerOptions, startNodeRunner } from '../../src/node/node-runner.js';
import type { PeerResolver } from '../../src/node/peer-state-actions.js';
import type { NodeEvent, NodeSnapshot } from '../../src/node/snapshot.js';
import { NodeEventLog } from '../lib/node-events.js';

const MAGIC = 4243;
const network = selectNetwork(undefined, MAGIC);

const noDns: RootPeerResolver & PeerResolver = {
  resolveAddresses: (name: string): Promise<AddressAnswer> =>
    Promise.reject(new DnsError('DNS_NXDOMAIN', `${name}: no such name`)),
  resolveSrv: (name: string): Promise<SrvAnswer> =>
    Promise.reject(new DnsError('DNS_NXDOMAIN', `${name}: no such name`)),
  addresses: (name: string) => Promise.reject(new DnsError('DNS_NXDOMAIN', `${name}: no such name`)),
};

const dir = mkdtempSync(join(tmpdir(), 'spo-node-runner-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function topologyText(ports: number[]): string {
  return JSON.stringify({
    localRoots: [
      {
        accessPoints: ports.map((port) => ({ address: '127.0.0.1', port })),
        advertise: false,
        trustable: true,
        hotValency: ports.length,
      },
    ],
    publicRoots: [],
    useLedgerAfterSlot: -1,
  });
}

async function producer(): Promise<RunningServer> {
  const s = await startServer({ port: 0, magic: MAGIC, blockIntervalMs: 50, initialBlocks: 10 });
  cleanup.push(() => s.close());
  return s;
}

interface Started {
  runner: NodeRunner;
  events: NodeEvent[];
  until: (what: string, pred: (e: NodeEvent) => boolean, from?: number) => Promise<NodeEvent>;
}

async function start(o: Partial<NodeRunnerOptions>): Promise<Started> {
  const log = new NodeEventLog();
  const runner = await startNodeRunner({
    network,
    registry: { pools: [] },
    port: 0,
    resolver: noDns,
    node: { allowPrivatePeers: true, seed: 11 },
    onEvent: log.push,
    ...o,
  });
  cleanup.push(() => runner.close());
  return { runner, events: log.events, until: (what, pred, from) => log.until(what, pred, from) };
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return res.text();
}

describe('node runner', () => {
  it('runs the node from a topology file with its metrics page and control socket, reloads, and closes it all', async () => {
    const a = await producer();
    const b = await producer();
    const file = join(dir, 'topology.json');
    writeFileSync(file, topologyText([a.port]));
    const snapshots: NodeSnapshot[] = [];
    let twoSnapshots!: () => void;
    const gotTwo = new Promise<void>((r) => {
      twoSnapshots = r;
    });
    const { runner, events, until } = await start({
      topologyFile: file,
      metricsPort: 0,
      metricsNames: 'both',
      snapshotEveryMs: 100,
      onSnapshot: (s) => {
        snapshots.push(s);
        if (snapshots.length === 2) twoSnapshots();
      },
    });
    expect(runner.controlPath).toBe(`${file}.spo.sock`);
    expect(runner.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(events[0]).toMatchObject({ event: 'started', metrics: runner.metricsUrl, control: runner.controlPath });
    const aPeer = `127.0.0.1:${a.port}`;
    await until('A hot', (e) => e.event === 'promoted' && e.peer === aPeer && e.to === 'hot');

    // the page scraped now says what the node has now, in both generations
    const page = parsePrometheusText(await scrape(runner.metricsUrl as string));
    expect(unlabelledValue(page, 'cardano_node_metrics_peerSelection_ActiveLocalRootPeers_int')).toBe(1);
    expect(unlabelledValue(page, 'cardano_node_metrics_peerSelection_ActiveLocalRootPeers')).toBe(1);
    expect(unlabelledValue(page, 'cardano_node_metrics_peerSelection_hot')).toBe(1);
    // spo peers' view through the socket agrees
    const viaSocket = await querySnapshot(runner.controlPath as string);
    expect(viaSocket.peers.find((p) => p.peer === aPeer)).toMatchObject({ source: 'local-root', temperature: 'hot' });

    // snapshots on the interval
    await gotTwo;
    expect(snapshots[1]?.seq).toBeGreaterThan(snapshots[0]?.seq as number);

    // a broken file: a warning, the old topology stays
    writeFileSync(file, '{"localRoots": [ {"accessPoints": [');
    let from = events.length;
    await runner.reload();
    expect(events.slice(from).find((e) => e.event === 'warning')).toMatchObject({
      message: expect.stringMatching(/old topology stays in use/),
    });
    expect(events.slice(from).some((e) => e.event === 'localRoots')).toBe(false);
    // a good one: the local roots change live
    writeFileSync(file, topologyText([b.port]));
    from = events.length;
    await runner.reload();
    await until('local roots after reload', (e) => e.event === 'localRoots' && e.reason === 'sighup', from);
    await until('B hot', (e) => e.event === 'promoted' && e.peer === `127.0.0.1:${b.port}` && e.to === 'hot', from);

    await runner.close();
    expect(events.at(-1)).toMatchObject({ event: 'stopped' });
    expect(existsSync(`${file}.spo.sock`)).toBe(false);
    await expect(fetch(runner.metricsUrl as string)).rejects.toThrow();
    // no snapshot after the end (three intervals later)
    const n = snapshots.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(snapshots.length).toBe(n);
  }, 30_000);

  it('without a topology file: the preset relay; reload says there is nothing to re-read', async () => {
    const { runner, events } = await start({ control: false, network: selectNetwork('preview', undefined) });
    expect(runner.controlPath).toBeUndefined();
    expect(runner.metricsUrl).toBeUndefined();
    await runner.reload();
    expect(events.at(-1)).toMatchObject({ event: 'warning', code: 'SIGHUP_NO_TOPOLOGY' });
  }, 30_000);

  it('refuses a topology the node refuses, an unreadable file and a taken port with InputErrors, leaving nothing open', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ localRoots: [{ accessPoints: [{ address: '127.0.0.1' }] }], publicRoots: [] }));
    const e1 = await startNodeRunner({ network, registry: { pools: [] }, topologyFile: bad, port: 0 }).catch(
      (e: unknown) => e,
    );
    expect(e1).toBeInstanceOf(InputError);
    expect(existsSync(`${bad}.spo.sock`)).toBe(false);

    const e2 = await startNodeRunner({
      network,
      registry: { pools: [] },
      topologyFile: join(dir, 'missing.json'),
    }).catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(InputError);
    expect(isSpoError(e2) && e2.code).toBe('TOPOLOGY_READ');

    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise<void>((r) => taken.close(() => r())));
    const port = (taken.address() as { port: number }).port;
    const file = join(dir, 'taken.json');
    writeFileSync(file, topologyText([1]));
    const e3 = await startNodeRunner({
      network,
      registry: { pools: [] },
      topologyFile: file,
      port,
      metricsPort: 0,
      resolver: noDns,
    }).catch((e: unknown) => e);
    expect(e3).toBeInstanceOf(InputError);
    expect(isSpoError(e3) && e3.code).toBe('LISTEN_FAILED');
    expect(existsSync(`${file}.spo.sock`)).toBe(false);
  }, 30_000);
});
