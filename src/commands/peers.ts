import { Flags } from '@oclif/core';
import { SpoCommand } from '../base-command.js';
import { parseDuration } from '../lib/duration.js';
import { UsageError } from '../lib/errors.js';
import { defaultControlPath, querySnapshot } from '../node/control.js';
import type { NodeSnapshot } from '../node/snapshot.js';
import { peersReportLines } from '../ui/run-view.js';

/** The control socket a command reads: --control, else the one spo run opens for --topology, else the runtime one. */
export function controlPathFromFlags(flags: { control?: string | undefined; topology?: string | undefined }): string {
  return flags.control ?? defaultControlPath({ topologyFile: flags.topology });
}

export const CONTROL_FLAG_DESCRIPTION =
  'the control socket of the spo run to read (default: <TOPOLOGY>.spo.sock with --topology, else $XDG_RUNTIME_DIR/spo/run.sock or a per-user folder under the temporary directory)';

export default class Peers extends SpoCommand {
  static override summary = 'The peer table of a running spo run, read from its control socket.';
  static override description =
    `Asks a running spo run for its snapshot through its local control socket (a Unix socket only its owner can open) and prints its counters and its peer table: every peer the governor knows and every inbound peer, with the direction of the connection (out, in, duplex), where the peer came from (local-root with its group, public-root, bootstrap, ledger, big-ledger, peer-share, inbound), its temperature (hot, warm, cooling, cold) and since when, the last keep-alive round trip, its upstreamness (headers it delivered first within the governor's metric window), the headers it delivered first since it became hot, and its consecutive failures. Hot peers come first, then warm, cooling and cold ones, each by address.

spo run opens the socket next to its topology file (<TOPOLOGY>.spo.sock) when it runs with --topology, otherwise in $XDG_RUNTIME_DIR/spo/run.sock (or a per-user folder under the temporary directory); give the same --topology here, or the socket with --control.

With --json the snapshot itself is printed (docs/json.md, "spo run": the snapshot), the same object spo run writes in its --json lines.`;
  static override examples = [
    '<%= config.bin %> peers',
    '<%= config.bin %> peers --topology /opt/cardano/cnode/files/topology.json',
    '<%= config.bin %> peers --control /run/user/1000/spo/run.sock --json | jq -r \'.peers[] | select(.temperature == "hot") | .peer\'',
  ];
  static override flags = {
    control: Flags.string({ description: CONTROL_FLAG_DESCRIPTION, helpValue: 'PATH', env: 'SPO_CONTROL' }),
    topology: Flags.string({
      description: 'the topology file the spo run was started with: its socket is <TOPOLOGY>.spo.sock',
      helpValue: 'FILE',
      exclusive: ['control'],
    }),
    timeout: Flags.string({
      description: 'time limit for the answer',
      default: '5s',
      helpValue: 'DURATION',
    }),
  };

  async run(): Promise<NodeSnapshot> {
    const { flags } = await this.parse(Peers);
    const timeoutMs = parseDuration(flags.timeout, '--timeout');
    if (timeoutMs <= 0) throw new UsageError('BAD_DURATION', '--timeout must be more than 0');
    const snapshot = await querySnapshot(controlPathFromFlags(flags), { timeoutMs, signal: this.signal });
    const width = process.stdout.isTTY && (process.stdout.columns ?? 0) > 0 ? process.stdout.columns : 100_000;
    this.out(peersReportLines(snapshot, width, this.c).join('\n'));
    return snapshot;
  }
}
