import { lookup } from 'node:dns/promises';
import { Args, Flags } from '@oclif/core';
import { SpoCommand } from '../base-command.js';
import { DnsResolver } from '../dns/index.js';
import { parseDnsServer } from '../dns/resolv-conf.js';
import { parseEndpoint } from '../lib/address.js';
import { systemClock } from '../lib/clock.js';
import { parseDuration } from '../lib/duration.js';
import { ExitCode, isSpoError, SpoError, UsageError } from '../lib/errors.js';
import { counted } from '../lib/plural.js';
import { round3 } from '../lib/round.js';
import { SUPPORTED_VERSIONS } from '../net/codec/handshake.js';
import { type N2CVersionData, n2cHandshake } from '../net/handshake-n2c.js';
import {
  type AddressResult,
  type NameResolver,
  type PingMode,
  type PingSample,
  pingTargets,
  type TargetResult,
} from '../net/ping.js';
import type { Palette } from '../ui/color.js';

export interface PingJson {
  mode: PingMode;
  network: string;
  magic: number;
  versions: number[];
  /** Mode ping only (keep-alive round trips; 0 = until Ctrl-C). */
  count?: number;
  /** Mode ping only. */
  intervalMs?: number;
  timeoutMs: number;
  targets: TargetResult[];
  summary: { targets: number; addresses: number; answered: number; failed: number };
  /** Ctrl-C/SIGTERM ended the run: the results are what was gathered before (exit 130). */
  interrupted?: true;
}

/** `spo ping --unix SOCKET`: the node-to-client handshake with the local node. */
export interface PingUnixJson {
  mode: 'unix';
  socket: string;
  network: string;
  magic: number;
  ok: boolean;
  connectMs?: number;
  handshakeMs?: number;
  /** The node-to-client version the node accepted (16..23; on the wire with bit 15 set). */
  version?: number;
  versionData?: N2CVersionData;
  /** Every version the node speaks (handshake query), with its data. */
  versions?: Array<{ version: number; data: N2CVersionData | undefined }>;
  error?: { code: string; message: string; hint?: string };
}

/**
 * `--format cncli`: cncli ping's flat result, one object per address (one line each), so cron and
 * jq scripts written for `cncli ping` read spo's unchanged (durations in whole ms, as cncli).
 */
export type CncliPingJson =
  | {
      status: 'ok';
      host: string;
      port: number;
      networkProtocolVersion: number;
      dnsDurationMs: number;
      connectDurationMs: number;
      handshakeDurationMs: number;
      durationMs: number;
    }
  | { status: 'error'; host: string; port: number; errorMessage: string };

/** The cncli shape of every address (a target whose name did not resolve: one error object). */
export function cncliResults(targets: readonly TargetResult[], defaultPort: number): CncliPingJson[] {
  const out: CncliPingJson[] = [];
  for (const t of targets) {
    let host = t.target;
    let port = defaultPort;
    try {
      const e = parseEndpoint(t.target, t.target.startsWith('_') ? 0 : defaultPort);
      host = e.host;
      port = e.port;
    } catch {
      // the target was checked before the run; keep it as given
    }
    const dns = Math.round(t.resolveMs ?? 0);
    if (t.error || t.addresses.length === 0) {
      out.push({ status: 'error', host, port, errorMessage: t.error?.message ?? 'interrupted' });
      continue;
    }
    for (const a of t.addresses) {
      if (a.connectMs === undefined || a.handshakeMs === undefined || a.version === undefined) {
        out.push({ status: 'error', host, port: a.port, errorMessage: a.error?.message ?? 'interrupted' });
        continue;
      }
      const connect = Math.round(a.connectMs);
      const handshake = Math.round(a.handshakeMs);
      out.push({
        status: 'ok',
        host,
        port: a.port,
        networkProtocolVersion: a.version,
        dnsDurationMs: dns,
        connectDurationMs: connect,
        handshakeDurationMs: handshake,
        durationMs: dns + connect + handshake,
      });
    }
  }
  return out;
}

/** One line per keep-alive round trip with `--count 0` (with --json: one object per line). */
export interface PingSampleJson {
  timestamp: string;
  endpoint: string;
  cookie: number;
  rttMs: number;
}

/** A target's result with its figures at three decimals, as every `--json` (docs/json.md). */
function jsonTarget(t: TargetResult): TargetResult {
  const out: TargetResult = { ...t, addresses: t.addresses.map(jsonAddress) };
  if (t.resolveMs !== undefined) out.resolveMs = round3(t.resolveMs);
  return out;
}

function jsonAddress(a: AddressResult): AddressResult {
  const out: AddressResult = { ...a };
  if (a.connectMs !== undefined) out.connectMs = round3(a.connectMs);
  if (a.handshakeMs !== undefined) out.handshakeMs = round3(a.handshakeMs);
  if (a.tip) out.tip = { ...a.tip, rttMs: round3(a.tip.rttMs) };
  if (a.rtt) {
    const r = a.rtt;
    out.rtt = {
      ...r,
      samplesMs: r.samplesMs.map(round3),
      minMs: round3(r.minMs),
      medianMs: round3(r.medianMs),
      p90Ms: round3(r.p90Ms),
      meanMs: round3(r.meanMs),
      maxMs: round3(r.maxMs),
      stdMs: round3(r.stdMs),
    };
  }
  return out;
}

/** Milliseconds in text: one decimal, as every spo table (docs/CONVENTIONS.md). */
const ms = (n: number | undefined): string => (n === undefined ? '-' : n.toFixed(1));

/**
 * Name resolution for ping: spo's DNS client when servers are given, else the system resolver (so
 * /etc/hosts works); SRV names always through spo's client (the system resolver gives no SRV TTLs).
 */
function pingResolver(
  servers: ReturnType<typeof parseDnsServer>[],
  timeoutMs: number,
): NameResolver & { close(): void } {
  const given = servers.length > 0 ? new DnsResolver({ servers, timeoutMs: Math.min(timeoutMs, 3000) }) : undefined;
  let srvResolver = given;
  return {
    addresses: async (name, signal) => {
      if (given) {
        const r = await given.resolveAddresses(name, { family: 'both', signal });
        return r.addresses.map((a) => ({ address: a.address, family: a.family }));
      }
      const all = await systemLookup(name, timeoutMs, signal);
      return all.map((a) => ({ address: a.address, family: a.family === 6 ? (6 as const) : (4 as const) }));
    },
    srv: async (name, signal) => {
      srvResolver ??= new DnsResolver();
      const r = await srvResolver.resolveSrv(name, { signal, wholeGroup: true, asIs: true });
      return r.addresses.map((a) => ({ address: a.address, family: a.family, port: a.port }));
    },
    close: () => srvResolver?.close(),
  };
}

/**
 * The system resolver (getaddrinfo) under a timeout and the signal: it has neither of its own, and
 * a resolver that never answers would hold the ping forever (the lookup thread is left to finish).
 */
function systemLookup(
  name: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<Array<{ address: string; family: number }>> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      timer.cancel();
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      done();
      reject(signal?.reason);
    };
    const timer = systemClock.setTimer(timeoutMs, () => {
      done();
      reject(
        new SpoError('DNS_TIMEOUT', `${name}: the system resolver did not answer within ${timeoutMs} ms`, {
          hint: "check /etc/resolv.conf, or ask a server directly with --dns-server (spo's own DNS client)",
        }),
      );
    });
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    lookup(name, { all: true, verbatim: true }).then(
      (all) => {
        done();
        resolve(all);
      },
      (error: NodeJS.ErrnoException) => {
        done();
        // the name exists without A/AAAA records: say it as spo's DNS client does (DNS_NO_DATA)
        reject(
          error.code === 'ENODATA' ? new SpoError('DNS_NO_DATA', `${name}: the name has no A/AAAA records`) : error,
        );
      },
    );
  });
}

export function parseVersions(text: string): number[] {
  const vs = text.split(',').map((s) => Number(s.trim()));
  for (const v of vs) {
    if (!(SUPPORTED_VERSIONS as readonly number[]).includes(v)) {
      throw new UsageError('BAD_VERSION', `unsupported node-to-node version "${v}" in --versions`, {
        hint: `spo speaks ${SUPPORTED_VERSIONS.join(', ')} (16 is experimental)`,
      });
    }
  }
  return [...new Set(vs)].sort((a, b) => a - b);
}

function renderAddress(a: AddressResult, mode: PingMode, c: Palette): string[] {
  if (!a.ok && a.interrupted) {
    const reached = a.handshakeMs === undefined ? 'before an answer' : 'after the handshake';
    return [`${a.endpoint}  ${c.warn('INTERRUPTED')}  ${reached}`];
  }
  if (!a.ok) {
    const message = (a.error?.message ?? '').replace(`${a.endpoint}: `, '');
    const lines = [`${a.endpoint}  ${c.fail('FAILED')}  ${a.error?.code ?? ''}: ${message}`];
    if (a.error?.hint) lines.push(`  ${c.dim(`hint: ${a.error.hint}`)}`);
    if (a.rtt)
      lines.push(`  keep-alive before the failure: ${counted(a.rtt.count, 'sample')}, median ${ms(a.rtt.medianMs)} ms`);
    return lines;
  }
  if (mode === 'query') {
    const lines = [`${a.endpoint}  ${c.ok('ok')}  connect ${ms(a.connectMs)} ms  handshake ${ms(a.handshakeMs)} ms`];
    for (const v of a.versions ?? []) {
      const d = v.data;
      lines.push(
        d
          ? `  version ${v.version}: magic ${d.networkMagic}, ${d.initiatorOnly ? 'initiator-only' : 'initiator and responder'}, peer sharing ${d.peerSharing ? 'on' : 'off'}${d.perasSupport === undefined ? '' : `, peras ${d.perasSupport ? 'on' : 'off'}`}`
          : `  version ${v.version}: (version data not understood)`,
      );
    }
    return lines;
  }
  const d = a.versionData;
  const lines = [
    `${a.endpoint}  ${c.ok('ok')}  connect ${ms(a.connectMs)} ms  handshake ${ms(a.handshakeMs)} ms  version ${a.version}` +
      (d
        ? ` (magic ${d.networkMagic}, ${d.initiatorOnly ? 'initiator-only' : 'duplex'}, peer sharing ${d.peerSharing ? 'on' : 'off'})`
        : ''),
  ];
  if (a.rtt) {
    const r = a.rtt;
    lines.push(
      `  keep-alive rtt (${r.count}): min ${ms(r.minMs)}  median ${ms(r.medianMs)}  p90 ${ms(r.p90Ms)}  mean ${ms(r.meanMs)}  max ${ms(r.maxMs)}  std ${ms(r.stdMs)} ms`,
    );
  }
  if (a.peers) {
    lines.push(
      a.peers.length === 0
        ? '  shared no peers (peer sharing on, but it had none to give: a fresh node, or only private ones)'
        : `  shared ${a.peers.length} ${a.peers.length === 1 ? 'peer' : 'peers'}:`,
    );
    for (const p of a.peers) lines.push(`    ${p.endpoint}`);
  }
  if (a.tip) {
    lines.push(
      `  tip: slot ${a.tip.slot}  block ${a.tip.blockNo}  hash ${a.tip.hash || '(genesis)'}  rtt ${ms(a.tip.rttMs)} ms`,
    );
  }
  return lines;
}

export default class Ping extends SpoCommand {
  static override summary =
    'Check relays the way a peer does: TCP connect, node-to-node handshake, keep-alive round trips, tip.';
  static override description =
    `Connects to each address, runs the Ouroboros node-to-node handshake (versions 14 and 15 by default) and then, by --mode:
  ping   keep-alive round trips (--count, --interval): min/median/p90/mean/max/std in ms
  tip    the peer's chain tip (slot, block number, hash) by chain-sync MsgFindIntersect []
  query  the peer's version table (handshake query), then close
  peers  the peers it shares over peer sharing (--amount; PEER_SHARING_OFF when it did not agree to peer sharing)

ADDR is HOST:PORT, [IPv6]:PORT, a DNS name (every A/AAAA address is pinged; port defaults to 3001) or an SRV name starting with _ (all targets of the lowest priority group). DNS names are resolved by the system resolver (so /etc/hosts works) unless --dns-server is given.

--timeout bounds the TCP connect, the handshake and each exchange separately (and a system-resolver lookup); an attempt that runs out is ended and reported (CONNECT_TIMEOUT, HANDSHAKE_TIMEOUT, KEEPALIVE_TIMEOUT, CHAINSYNC_TIMEOUT). Exit code 0 only when every address of every target answered, 1 otherwise.

--unix SOCKET (or, with no ADDR, CARDANO_NODE_SOCKET_PATH) checks your own node instead: the node-to-client handshake on its socket (versions 16 to 23, --network/--magic checked) and its version table.

--count 0 pings until Ctrl-C, one timestamped line per round trip (as cardano-cli ping); Ctrl-C (in any mode) prints the statistics gathered so far and exits 130.`;
  static override examples = [
    '<%= config.bin %> ping relay1.example.com:3001',
    '<%= config.bin %> ping 203.0.113.7:3001 [2001:db8::7]:3001 --count 10 --interval 0.5',
    '<%= config.bin %> ping relays.example.com --mode tip --network preview',
    '<%= config.bin %> ping relay1.example.com:3001 --count 0   # until Ctrl-C, a line per round trip',
    '<%= config.bin %> ping _cardano._tcp.example.com --mode query --json',
    '<%= config.bin %> ping relay1.example.com:3001 --mode peers   # who does it share?',
    '<%= config.bin %> ping --unix /opt/cardano/cnode/sockets/node.socket',
    '<%= config.bin %> ping relay1.example.com:3001 --format cncli | jq -r .status   # as cncli ping',
  ];
  static override strict = false;
  static override args = {
    addr: Args.string({
      description: 'HOST:PORT, [IPv6]:PORT, DNS name or SRV name (several allowed)',
      required: false,
    }),
  };
  static override flags = {
    mode: Flags.string({
      description: 'what to do after the handshake',
      options: ['ping', 'tip', 'query', 'peers'],
      default: 'ping',
    }),
    count: Flags.integer({
      char: 'c',
      description:
        'keep-alive round trips per address (mode ping); 0: until Ctrl-C, one timestamped line per round trip, then the statistics',
      default: 5,
      min: 0,
      max: 100_000,
    }),
    amount: Flags.integer({
      description: 'mode peers: how many peers to ask for (the node shares at most 10 per request)',
      default: 10,
      min: 1,
      max: 255,
    }),
    interval: Flags.string({
      char: 'i',
      description: 'pause between round trips (e.g. 1s, 250ms)',
      default: '1s',
      helpValue: 'DURATION',
    }),
    timeout: Flags.string({
      description: 'limit for the connect, the handshake and each exchange',
      default: '5s',
      helpValue: 'DURATION',
    }),
    versions: Flags.string({
      description: 'node-to-node versions to propose, comma-separated (16 is experimental)',
      default: '14,15',
      helpValue: 'LIST',
    }),
    format: Flags.string({
      description:
        "output in another tool's shape: cncli (cncli ping's flat JSON, one object per address per line: status, host, port, connectDurationMs, durationMs, errorMessage...; the handshake and one keep-alive, whatever --mode/--count)",
      options: ['cncli'],
    }),
    unix: Flags.string({
      description:
        "the local node's socket: node-to-client handshake and version query (as cardano-cli ping -u); without addresses, CARDANO_NODE_SOCKET_PATH is used",
      helpValue: 'SOCKET',
    }),
    'dns-server': Flags.string({
      description:
        "resolve names with spo's DNS client asking this server, IP[:PORT] (repeatable; default: the system resolver, so /etc/hosts works)",
      helpValue: 'HOST[:PORT]',
      multiple: true,
      helpGroup: 'DNS',
    }),
    concurrency: Flags.integer({ description: 'addresses pinged at once', default: 32, min: 1, max: 1024 }),
  };

  /**
   * `--unix`: the node-to-client handshake on a local node's socket (src/net/handshake-n2c.ts), as
   * `cardano-cli ping -u`: one handshake for the version the node accepts, one with query for the
   * versions it speaks.
   */
  private async pingUnix(socket: string, timeoutMs: number): Promise<PingUnixJson> {
    if (timeoutMs <= 0) throw new UsageError('BAD_DURATION', '--timeout must be positive');
    const doc: PingUnixJson = {
      mode: 'unix',
      socket,
      network: this.network.name,
      magic: this.network.magic,
      ok: false,
    };
    const common = { path: socket, magic: this.network.magic, timeoutMs, signal: this.signal };
    try {
      const accepted = await n2cHandshake({ ...common, query: false });
      if (accepted.kind === 'accepted') {
        doc.connectMs = round3(accepted.connectMs);
        doc.handshakeMs = round3(accepted.handshakeMs);
        doc.version = accepted.version;
        doc.versionData = accepted.data;
      }
      const queried = await n2cHandshake({ ...common, query: true });
      if (queried.kind === 'query') doc.versions = queried.versions;
      doc.ok = true;
    } catch (e) {
      if (this.signal.aborted) throw e;
      doc.error = isSpoError(e)
        ? { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) }
        : { code: 'FAILED', message: String(e) };
    }
    const c = this.c;
    const lines: string[] = [];
    if (doc.ok) {
      lines.push(
        `${socket}  ${c.ok('ok')}  connect ${ms(doc.connectMs)} ms  handshake ${ms(doc.handshakeMs)} ms  node-to-client version ${doc.version} (magic ${doc.versionData?.networkMagic})`,
      );
      const vs = doc.versions ?? [];
      lines.push(`  versions the node speaks: ${vs.map((v) => v.version).join(', ') || 'none listed'}`);
    } else {
      lines.push(
        `${socket}  ${c.fail('FAILED')}  ${doc.error?.code}: ${doc.error?.message.replace(`${socket}: `, '')}`,
      );
      if (doc.error?.hint) lines.push(`  ${c.dim(`hint: ${doc.error.hint}`)}`);
    }
    this.out(lines.join('\n'));
    if (!doc.ok) process.exitCode = ExitCode.failed;
    return doc;
  }

  /** `--count 0 --json` streams one object per line: the final document is one line too. */
  private streaming = false;

  override logJson(json: unknown): void {
    if (this.streaming) process.stdout.write(`${JSON.stringify(json)}\n`);
    else super.logJson(json);
  }

  async run(): Promise<PingJson | PingUnixJson> {
    const { argv, flags } = await this.parse(Ping);
    const targets = (argv as string[]).map((s) => s.trim()).filter((s) => s !== '');
    // --unix, or no address with CARDANO_NODE_SOCKET_PATH set: the local node's socket
    const envSocket = process.env.CARDANO_NODE_SOCKET_PATH?.trim();
    const socket = flags.unix ?? (targets.length === 0 && envSocket ? envSocket : undefined);
    if (socket !== undefined) {
      if (targets.length > 0)
        throw new UsageError('USAGE', '--unix pings the local node: give no addresses with it', {
          hint: 'spo ping --unix /path/to/node.socket, or spo ping ADDR... for relays',
        });
      return this.pingUnix(socket, parseDuration(flags.timeout, '--timeout'));
    }
    if (targets.length === 0)
      throw new UsageError('USAGE', 'no address to ping', {
        hint: 'e.g. spo ping relay.example.com:3001, or spo ping --unix /path/to/node.socket (or set CARDANO_NODE_SOCKET_PATH)',
      });
    // a malformed address is a usage error (exit 2), before any network work
    for (const t of targets) parseEndpoint(t, t.startsWith('_') ? 0 : 3001);
    const timeoutMs = parseDuration(flags.timeout, '--timeout');
    const intervalMs = parseDuration(flags.interval, '--interval');
    if (timeoutMs <= 0) throw new UsageError('BAD_DURATION', `invalid --timeout: "${flags.timeout}" must be positive`);
    const versions = parseVersions(flags.versions);
    const mode = flags.mode as PingMode;
    const servers = (flags['dns-server'] ?? []).map(parseDnsServer);
    const resolver = pingResolver(servers, timeoutMs);
    const cncli = flags.format === 'cncli';
    if (cncli && this.jsonEnabled())
      throw new UsageError('USAGE', '--format cncli and --json cannot be used together', {
        hint: "--format cncli is JSON already, in cncli ping's shape",
      });
    this.streaming = !cncli && mode === 'ping' && flags.count === 0;
    const onSample = this.streaming
      ? (x: PingSample): void => {
          const line: PingSampleJson = {
            timestamp: new Date().toISOString(),
            endpoint: x.endpoint,
            cookie: x.cookie,
            rttMs: round3(x.rttMs),
          };
          if (this.jsonEnabled()) process.stdout.write(`${JSON.stringify(line)}\n`);
          else
            process.stdout.write(
              `${line.timestamp}  ${line.endpoint}  cookie ${String(x.cookie).padStart(5)}  rtt ${ms(x.rttMs)} ms\n`,
            );
        }
      : undefined;
    const results = await pingTargets(targets, {
      // cncli ping is a handshake: one keep-alive round trip shows the connection works, no more
      mode: cncli ? 'ping' : mode,
      magic: this.network.magic,
      count: cncli ? 1 : flags.count,
      amount: flags.amount,
      ...(onSample ? { onSample } : {}),
      intervalMs: cncli ? 0 : intervalMs,
      timeoutMs,
      versions,
      defaultPort: this.network.preset?.defaultPort ?? 3001,
      signal: this.signal,
      resolver,
      concurrency: flags.concurrency,
    }).finally(() => resolver.close());
    if (cncli) {
      const lines = cncliResults(results, this.network.preset?.defaultPort ?? 3001);
      for (const l of lines) process.stdout.write(`${JSON.stringify(l)}\n`);
      process.exitCode = this.signal.aborted
        ? ExitCode.interrupted
        : lines.every((l) => l.status === 'ok')
          ? ExitCode.ok
          : ExitCode.failed;
    }
    const addresses = results.flatMap((t) => t.addresses);
    const answered = addresses.filter((a) => a.ok).length;
    const summary = {
      targets: results.length,
      addresses: addresses.length,
      answered,
      failed: addresses.length - answered + results.filter((t) => t.error).length,
    };
    const lines: string[] = [];
    for (const t of results) {
      if (t.error) {
        lines.push(`${t.target}  ${this.c.fail('FAILED')}  ${t.error.code}: ${t.error.message}`);
        if (t.error.hint) lines.push(`  ${this.c.dim(`hint: ${t.error.hint}`)}`);
      }
      for (const a of t.addresses) {
        const own = a.endpoint === t.target ? [] : [this.c.dim(`(${t.target})`)];
        const [first, ...rest] = renderAddress(a, mode, this.c);
        lines.push([first, ...own].join(' '), ...rest);
      }
    }
    lines.push(
      this.c.dim(
        `${summary.answered} of ${counted(summary.addresses, 'address', 'addresses')} answered${summary.failed ? `, ${summary.failed} failed` : ''}`,
      ),
    );
    const interrupted = this.signal.aborted;
    if (interrupted) lines.unshift(this.c.dim('--- interrupted: the statistics so far ---'));
    // (--format cncli printed its lines and set the exit code above)
    if (!cncli) {
      this.out(lines.join('\n'));
      if (interrupted) {
        process.exitCode = ExitCode.interrupted;
        if (!this.jsonEnabled()) process.stderr.write(`${this.stderrPalette().fail('spo:')} interrupted\n`);
      } else if (!results.every((t) => t.ok)) process.exitCode = ExitCode.failed;
    }
    return {
      mode,
      network: this.network.name,
      magic: this.network.magic,
      versions,
      // count and interval only mean something to keep-alive round trips
      ...(mode === 'ping' && !cncli ? { count: flags.count, intervalMs } : {}),
      timeoutMs,
      targets: results.map(jsonTarget),
      summary,
      ...(interrupted ? { interrupted: true as const } : {}),
    };
  }
}
