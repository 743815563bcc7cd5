/**
 * Test harness: a real dnsmasq on 127.0.0.1 at a free port, serving only the zone data given
 * (no upstream, no /etc/hosts, no config file), stopped after the tests.
 *
 * How dnsmasq 2.90 behaves as a local server (checked by hand before the tests were written):
 * - `--host-record=name,addr[,addr...][,TTL]` and `--cname=alias,target[,TTL]` take a TTL per
 *   record (so 5 s and 86,400 s live in one instance); everything else (SRV, addn-hosts,
 *   `--address`) gets `--local-ttl` (default 0). Several host-records for one name add addresses.
 * - `--srv-host=_svc._proto.name` with no target answers a single SRV record whose target is ".".
 * - A name under a `--local=/domain/` that is not defined is NXDOMAIN; a name outside any local
 *   domain is REFUSED (no upstream); a defined name without records of the asked type is NOERROR
 *   with no answer (NODATA). Local answers carry AA and the whole CNAME chain.
 * - A UDP answer larger than 512 bytes (no EDNS) or than the EDNS size the query advertises comes
 *   back with TC set and as many records as fit; dnsmasq answers the same port over TCP.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';

export const DNSMASQ = process.env.SPO_DNSMASQ ?? '/usr/sbin/dnsmasq';

export interface DnsmasqZone {
  /** `--host-record` values: `name,addr[,addr][,ttl]`. */
  hostRecords?: string[];
  /** `--cname` values: `alias,target[,ttl]`. */
  cnames?: string[];
  /** `--srv-host` values: `_service._proto.name[,target,port,priority,weight]` (no target: "."). */
  srvHosts?: string[];
  /** `--address` values: `/domain/addr`. */
  addresses?: string[];
  /** Lines of an addn-hosts file (`addr name...`), TTL from `localTtl`. */
  hosts?: string[];
  /** Domains answered locally: names under them that are not defined are NXDOMAIN (default: test). */
  localDomains?: string[];
  /** TTL of records without their own (`--local-ttl`), seconds. */
  localTtl?: number;
  /** Largest EDNS UDP answer dnsmasq sends (`--edns-packet-max`). */
  ednsPacketMax?: number;
  /** Extra raw arguments. */
  extra?: string[];
}

export interface Dnsmasq {
  host: string;
  port: number;
  /** `127.0.0.1:PORT`, as given to --dns-server. */
  server: string;
  /**
   * Replaces the addn-hosts lines (the zone must have started with `hosts`) and makes dnsmasq
   * re-read them (SIGHUP); resolves once its log says it read the file again.
   */
  setHosts(lines: string[]): Promise<void>;
  stop(): Promise<void>;
}

/** A free port on 127.0.0.1 for both TCP and UDP (dnsmasq listens on both). */
async function freePort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const s = createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no free port for dnsmasq');
}

/** Asks dnsmasq one query until it answers (it is ready), at most ~5 s. */
async function waitReady(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = performance.now() + 5000;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`dnsmasq exited (${child.exitCode}): ${stderr()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = createSocket('udp4');
      const timer = setTimeout(() => {
        s.close();
        resolve(false);
      }, 200);
      s.on('message', () => {
        clearTimeout(timer);
        s.close();
        resolve(true);
      });
      s.send(
        dnsPacket.encode({ type: 'query', id: 7, questions: [{ type: 'A', name: 'ready.invalid', class: 'IN' }] }),
        port,
        '127.0.0.1',
      );
    });
    if (ok) return;
  }
  throw new Error(`dnsmasq did not answer on 127.0.0.1:${port}: ${stderr()}`);
}

export async function startDnsmasq(zone: DnsmasqZone): Promise<Dnsmasq> {
  const dir = mkdtempSync(join(tmpdir(), 'spo-dnsmasq-'));
  const hostsFile = join(dir, 'hosts');
  const args = [
    '--no-resolv',
    '--no-hosts',
    '--keep-in-foreground',
    '--conf-file=/dev/null',
    '--listen-address=127.0.0.1',
    '--bind-interfaces',
    '--pid-file=',
    '--user=root',
    '--log-facility=-',
    `--local-ttl=${zone.localTtl ?? 300}`,
    '--cache-size=0',
  ];
  if (process.getuid && process.getuid() !== 0) args.splice(args.indexOf('--user=root'), 1);
  for (const d of zone.localDomains ?? ['test']) args.push(`--local=/${d}/`);
  for (const h of zone.hostRecords ?? []) args.push(`--host-record=${h}`);
  for (const c of zone.cnames ?? []) args.push(`--cname=${c}`);
  for (const s of zone.srvHosts ?? []) args.push(`--srv-host=${s}`);
  for (const a of zone.addresses ?? []) args.push(`--address=${a}`);
  if (zone.hosts && zone.hosts.length > 0) {
    writeFileSync(hostsFile, `${zone.hosts.join('\n')}\n`);
    args.push(`--addn-hosts=${hostsFile}`);
  }
  if (zone.ednsPacketMax !== undefined) args.push(`--edns-packet-max=${zone.ednsPacketMax}`);
  args.push(...(zone.extra ?? []));
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(DNSMASQ, [...args, `--port=${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    // dnsmasq logs "read FILE - N names" each time it reads the hosts file (at start, on SIGHUP)
    let partial = '';
    let hostsReads = 0;
    const onRead = new Set<() => void>();
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      if (err.length < 10_000) err += d;
      partial += d;
      for (let i = partial.indexOf('\n'); i >= 0; i = partial.indexOf('\n')) {
        if (partial.slice(0, i).includes(`read ${hostsFile} - `)) hostsReads++;
        partial = partial.slice(i + 1);
      }
      for (const f of [...onRead]) f();
    });
    try {
      await waitReady(port, child, () => err);
    } catch (error) {
      lastError = error;
      child.kill('SIGKILL');
      continue;
    }
    return {
      host: '127.0.0.1',
      port,
      server: `127.0.0.1:${port}`,
      setHosts: (lines) => {
        if (!zone.hosts || zone.hosts.length === 0) throw new Error('setHosts: the zone started without hosts');
        writeFileSync(hostsFile, `${lines.join('\n')}\n`);
        const want = hostsReads + 1;
        return new Promise<void>((resolve, reject) => {
          const done = (): void => {
            clearTimeout(timer);
            onRead.delete(check);
          };
          const check = (): void => {
            if (hostsReads >= want) {
              done();
              resolve();
            }
          };
          const timer = setTimeout(() => {
            done();
            reject(new Error(`dnsmasq did not re-read ${hostsFile} within 5 s: ${err.slice(-1000)}`));
          }, 5_000);
          onRead.add(check);
          child.kill('SIGHUP');
        });
      },
      stop: async () => {
        if (child.exitCode === null) {
          const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
          child.kill('SIGTERM');
          await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
          if (child.exitCode === null) child.kill('SIGKILL');
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}
