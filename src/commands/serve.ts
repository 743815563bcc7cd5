import { isIPv4, isIPv6 } from 'node:net';
import { Flags } from '@oclif/core';
import { SpoCommand } from '../base-command.js';
import { parseEndpoint } from '../lib/address.js';
import { parseDuration } from '../lib/duration.js';
import { UsageError } from '../lib/errors.js';
import { readInput } from '../lib/read-input.js';
import type { PeerAddress } from '../net/codec/peer-sharing.js';
import { parseFault, type ServerFault, startServer } from '../net/serve.js';
import { parseVersions } from './ping.js';

export interface ServeJson {
  event: 'stopped';
  address: string;
  stats: { accepted: number; handshakes: number; refused: number; errors: number };
  blocks: number;
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
        'close a connection on which no mini-protocol runs for this long, as the node does after 5s (0 = never)',
      default: '0',
      helpValue: 'DURATION',
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
    let server: Awaited<ReturnType<typeof startServer>>;
    try {
      server = await startServer({
        host: flags.host,
        port: flags.port,
        magic: this.network.magic,
        blockIntervalMs,
        peers,
        versions,
        fault,
        idleTimeoutMs: parseDuration(flags['idle-timeout'], '--idle-timeout'),
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
      address: server.address,
      host: server.host,
      port: server.port,
      magic: this.network.magic,
      network: this.network.name,
      versions,
      blockIntervalMs,
      peers: peers.length,
      ...(fault.kind === 'none' ? {} : { fault: flags.fault }),
    };
    if (this.jsonEnabled()) process.stdout.write(`${JSON.stringify(hello)}\n`);
    else {
      this.out(
        `listening ${server.address} magic=${this.network.magic} versions=${versions.join(',')}${fault.kind === 'none' ? '' : ` fault=${flags.fault}`}`,
      );
      process.stderr.write(
        `${this.c.dim(`spo serve: answering node-to-node on ${server.address} (${this.network.name}); Ctrl-C to stop`)}\n`,
      );
    }
    server.events.on('handshake', (remote, outcome) => {
      if (this.jsonEnabled()) process.stdout.write(`${JSON.stringify({ event: 'handshake', remote, outcome })}\n`);
      else process.stderr.write(`${remote} handshake ${outcome}\n`);
    });
    await new Promise<void>((resolve) => {
      if (this.signal.aborted) resolve();
      this.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await server.close();
    if (!this.jsonEnabled()) process.stderr.write('spo serve: stopped\n');
    return { event: 'stopped', address: server.address, stats: server.stats(), blocks: server.chain.blocks.length };
  }
}
