import { isIPv4, isIPv6 } from 'node:net';
import { Flags } from '@oclif/core';
import { SpoCommand } from '../base-command.js';
import { loadNodeConfig } from '../config/index.js';
import { parseEndpoint } from '../lib/address.js';
import { parseDuration } from '../lib/duration.js';
import { UsageError } from '../lib/errors.js';
import { readInput } from '../lib/read-input.js';
import type { PeerAddress } from '../net/codec/peer-sharing.js';
import { parseFault, type ServerFault, startServer } from '../net/serve.js';
import type { NodeCounters } from '../node/connection-manager/shell.js';
import type { ServerTrace } from '../node/server/accept-loop.js';
import type { AcceptedConnectionsLimit } from '../node/server/rate-limit.js';
import { parseVersions } from './ping.js';

export interface ServeJson {
  event: 'stopped';
  address: string;
  stats: { accepted: number; handshakes: number; refused: number; errors: number };
  blocks: number;
  /** The connection manager's and inbound governor's counters at the end (the node's names). */
  counters: NodeCounters;
  /** The most inbound connections held at once. */
  maxInbound: number;
}

/** `--accepted-connections-limit HARD,SOFT,DELAY` (DELAY a duration: `5s`, `500ms`; a bare number is seconds). */
export function parseAcceptedConnectionsLimit(text: string): AcceptedConnectionsLimit {
  const parts = text.split(',').map((p) => p.trim());
  const bad = (why: string): UsageError =>
    new UsageError('BAD_ACCEPTED_CONNECTIONS_LIMIT', `--accepted-connections-limit "${text}": ${why}`, {
      hint: "write HARD,SOFT,DELAY, e.g. 512,384,5s (the node's default): no accepts at HARD, slower ones from SOFT on",
    });
  if (parts.length !== 3) throw bad('expected three values');
  const [h, so, d] = parts as [string, string, string];
  if (!/^\d+$/.test(h) || !/^\d+$/.test(so)) throw bad('HARD and SOFT are whole numbers');
  const hard = Number(h);
  const soft = Number(so);
  if (hard < 1) throw bad('HARD must be at least 1');
  if (soft > hard) throw bad(`SOFT (${soft}) is above HARD (${hard})`);
  let delay: number;
  try {
    delay = parseDuration(d, '--accepted-connections-limit DELAY');
  } catch (e) {
    throw bad((e as Error).message);
  }
  return { hard, soft, delay };
}

/** An ISO timestamp for log lines. */
function stamp(): string {
  return new Date().toISOString();
}

/** Peer-sharing list: one IP:PORT / [IPv6]:PORT per line (# comments), or a JSON array of such strings. */
export function parsePeersText(text: string, file: string): PeerAddress[] {
  const trimmed = text.trim();
  let items: string[];
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (e) {
      throw new UsageError('BAD_PEERS_FILE', `${file}: not valid JSON: ${(e as Error).message}`);
    }
    if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string')) {
      throw new UsageError('BAD_PEERS_FILE', `${file}: expected a JSON array of "IP:PORT" strings`);
    }
    items = parsed as string[];
  } else {
    items = trimmed
      .split('\n')
      .map((l) => l.replace(/#.*/, '').trim())
      .filter((l) => l !== '');
  }
  return items.map((item, i) => {
    let ep: { host: string; port: number };
    try {
      ep = parseEndpoint(item);
    } catch (e) {
      throw new UsageError('BAD_PEERS_FILE', `${file}: entry ${i + 1} "${item}": ${(e as Error).message}`, {
        hint: 'peer sharing carries IP addresses only: write IPv4:PORT or [IPv6]:PORT',
      });
    }
    if (!isIPv4(ep.host) && !isIPv6(ep.host)) {
      throw new UsageError('BAD_PEERS_FILE', `${file}: entry ${i + 1} "${item}" is not an IP address`, {
        hint: 'peer sharing carries IP addresses only: write IPv4:PORT or [IPv6]:PORT',
      });
    }
    return { family: isIPv4(ep.host) ? 4 : 6, address: ep.host, port: ep.port };
  });
}

export default class Serve extends SpoCommand {
  static override summary =
    'Answer node-to-node connections on a port, to check a firewall before the node runs (and as a test peer).';
  static override description =
    `Listens on --host:--port and answers the Ouroboros node-to-node handshake (versions 14 and 15), keep-alive, peer sharing (addresses from --peers) and chain-sync over a synthetic chain that gains a header every --block-interval. A relay that makes it hot may also start block-fetch (every range is answered "no blocks") and tx-submission (its opening message is taken; no transactions are asked for). It is not a node: the headers are well-formed but signed by nobody.

The first line of standard output is the address listened on ("listening HOST:PORT ..."; with --json one JSON line {"event":"listening",...}), so scripts can read it. --port 0 picks a free port. Listens on 127.0.0.1 unless --host says otherwise (e.g. --host 0.0.0.0 or --host :: to be reachable from outside). Stops cleanly on Ctrl-C / SIGTERM with exit code 0 (a requested stop is its normal end).

--fault is for testing clients only: never-answer (accept and stay silent), close-mid-handshake, slow=MS (delay every answer).`;
  static override examples = [
    '<%= config.bin %> serve --port 3001 --network preview',
    '<%= config.bin %> serve --host :: --port 3001 --peers peers.txt --block-interval 20s',
    '<%= config.bin %> serve --port 0 --json',
  ];
  static override flags = {
    host: Flags.string({ description: 'address to listen on', default: '127.0.0.1' }),
    port: Flags.integer({
      char: 'p',
      description: 'port to listen on (0 = any free port)',
      default: 3001,
      min: 0,
      max: 65535,
    }),
    'block-interval': Flags.string({
      description: 'a new synthetic header every this long (0 = none)',
      default: '20s',
      helpValue: 'DURATION',
    }),
    'idle-timeout': Flags.string({
      description:
        "close a connection on which no mini-protocol runs for this long (default: the config's ProtocolIdleTimeout, else 5s as the node; 0 = never)",
      helpValue: 'DURATION',
    }),
    'accepted-connections-limit': Flags.string({
      description:
        "inbound limits HARD,SOFT,DELAY: no accepts at HARD connections, a delay growing to DELAY from SOFT on (default: the config's AcceptedConnectionsLimit, else 512,384,5s)",
      helpValue: 'HARD,SOFT,DELAY',
    }),
    config: Flags.string({
      description:
        'cardano-node configuration (JSON or YAML): AcceptedConnectionsLimit, ProtocolIdleTimeout and TimeWaitTimeout are taken from it',
      helpValue: 'FILE',
    }),
    peers: Flags.string({
      description: 'file of IP:PORT lines shared by peer sharing (- for stdin)',
      helpValue: 'FILE',
    }),
    versions: Flags.string({ description: 'versions offered, comma-separated', default: '14,15', helpValue: 'LIST' }),
    fault: Flags.string({
      description: 'TEST ONLY: misbehave (never-answer, close-mid-handshake, slow=MS)',
      helpValue: 'FAULT',
      helpGroup: 'TESTING',
    }),
  };

  override logJson(json: unknown): void {
    // serve is long-running: one JSON object per line
    process.stdout.write(`${JSON.stringify(json)}\n`);
  }

  async run(): Promise<ServeJson> {
    const { flags } = await this.parse(Serve);
    const blockIntervalMs = parseDuration(flags['block-interval'], '--block-interval');
    const versions = parseVersions(flags.versions);
    let fault: ServerFault = { kind: 'none' };
    if (flags.fault) {
      try {
        fault = parseFault(flags.fault);
      } catch (e) {
        throw new UsageError('BAD_FAULT', (e as Error).message);
      }
    }
    const peers = flags.peers ? parsePeersText(await readInput(flags.peers), flags.peers) : [];
    const cfg = flags.config ? await loadNodeConfig(flags.config, { signal: this.signal }) : undefined;
    const limit: AcceptedConnectionsLimit = flags['accepted-connections-limit']
      ? parseAcceptedConnectionsLimit(flags['accepted-connections-limit'])
      : cfg
        ? {
            hard: cfg.acceptedConnectionsLimit.hardLimit,
            soft: cfg.acceptedConnectionsLimit.softLimit,
            delay: cfg.acceptedConnectionsLimit.delayMs,
          }
        : { hard: 512, soft: 384, delay: 5_000 };
    const idleTimeoutMs = flags['idle-timeout']
      ? parseDuration(flags['idle-timeout'], '--idle-timeout')
      : (cfg?.protocolIdleTimeoutMs ?? 5_000);
    // IPv4 and IPv6 at once: --host 0.0.0.0,:: (one port for both)
    const hosts = flags.host
      .split(',')
      .map((h) => h.trim())
      .filter((h) => h !== '');
    let server: Awaited<ReturnType<typeof startServer>>;
    try {
      server = await startServer({
        hosts,
        port: flags.port,
        magic: this.network.magic,
        blockIntervalMs,
        peers,
        versions,
        fault,
        idleTimeoutMs,
        acceptedConnectionsLimit: limit,
        ...(cfg ? { timeWaitTimeoutMs: cfg.timeWaitTimeoutMs } : {}),
      });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new UsageError(
        'LISTEN_FAILED',
        `cannot listen on ${flags.host}:${flags.port}: ${err.code ?? err.message}`,
        {
          hint:
            err.code === 'EADDRINUSE'
              ? 'the port is taken; choose another with --port (0 = any free port)'
              : 'check --host',
        },
      );
    }
    const hello = {
      event: 'listening',
      at: stamp(),
      address: server.address,
      addresses: server.addresses,
      host: server.host,
      port: server.port,
      magic: this.network.magic,
      network: this.network.name,
      versions,
      blockIntervalMs,
      peers: peers.length,
      acceptedConnectionsLimit: { hard: limit.hard, soft: limit.soft, delayMs: limit.delay },
      idleTimeoutMs,
      ...(fault.kind === 'none' ? {} : { fault: flags.fault }),
    };
    if (this.jsonEnabled()) process.stdout.write(`${JSON.stringify(hello)}\n`);
    else {
      this.out(
        `listening ${server.addresses.join(' ')} magic=${this.network.magic} versions=${versions.join(',')}${fault.kind === 'none' ? '' : ` fault=${flags.fault}`}`,
      );
      process.stderr.write(
        `${this.c.dim(`spo serve: answering node-to-node on ${server.addresses.join(', ')} (${this.network.name}); accepted connections limit ${limit.hard},${limit.soft},${limit.delay}ms; idle timeout ${idleTimeoutMs > 0 ? `${idleTimeoutMs}ms` : 'off'}; Ctrl-C to stop`)}\n`,
      );
    }
    const json = this.jsonEnabled();
    const line = (doc: Record<string, unknown>, text: string): void => {
      if (json) process.stdout.write(`${JSON.stringify({ ...doc, at: stamp() })}\n`);
      else process.stderr.write(`${stamp()} ${text}\n`);
    };
    server.events.on('handshake', (remote, outcome) => {
      line({ event: 'handshake', remote, outcome }, `${remote} handshake ${outcome}`);
    });
    let maxInbound = 0;
    server.manager.on('inbound', (n) => {
      maxInbound = Math.max(maxInbound, n);
    });
    server.events.on('server', (e: ServerTrace) => {
      switch (e.type) {
        case 'accepted':
          // one line per accepted connection in the JSON stream (the text log has the handshake line)
          if (json) line({ event: 'accept', remote: e.peer, inbound: e.inbound, included: e.included }, '');
          return;
        case 'acceptBlocked':
          line(
            { event: 'acceptBlocked', address: e.address, inbound: e.inbound },
            `${e.address} accepting paused: ${e.inbound} inbound connections, the hard limit ${limit.hard}`,
          );
          return;
        case 'acceptResumed':
          line(
            { event: 'acceptResumed', address: e.address, inbound: e.inbound, pausedMs: e.pausedMs },
            `${e.address} accepting again after ${Math.round(e.pausedMs)} ms (${e.inbound} inbound)`,
          );
          return;
        case 'acceptError':
          line(
            { event: 'acceptError', address: e.address, code: e.code, action: e.action },
            `${e.address} accept failed: ${e.code}${e.action === 'stop' ? ' (the server stops)' : ' (pausing 0.5 s, going on)'}`,
          );
          return;
        case 'queueFull':
          line(
            { event: 'acceptQueueFull', address: e.address, remote: e.peer, queued: e.queued },
            `${e.address} ${e.peer} reset: ${e.queued} connections already wait to be accepted`,
          );
          return;
        default:
          return;
      }
    });
    let failure: unknown;
    await new Promise<void>((resolve) => {
      if (this.signal.aborted) resolve();
      this.signal.addEventListener('abort', () => resolve(), { once: true });
      server.done.then(resolve, (e: unknown) => {
        failure = e;
        resolve();
      });
    });
    await server.close();
    if (failure) throw failure;
    if (!json) process.stderr.write(`${stamp()} spo serve: stopped\n`);
    return {
      event: 'stopped',
      address: server.address,
      stats: server.stats(),
      blocks: server.chain.blocks.length,
      counters: server.manager.counters(),
      maxInbound,
    };
  }
}
