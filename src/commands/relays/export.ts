import { Flags } from '@oclif/core';
import { SpoCommand } from '../../base-command.js';
import { type WriteResult, writeOutput } from '../../lib/atomic-write.js';
import { UsageError } from '../../lib/errors.js';
import { checkOutputPath } from '../../lib/output-path.js';
import { counted } from '../../lib/plural.js';
import { printable } from '../../lib/sanitize.js';
import { EXPORT_FORMATS, type ExportFormat, exportRegistry } from '../../registry/export.js';
import { registryFlags, registryOptions } from '../../registry/flags.js';
import type { RegistryFinding } from '../../registry/model.js';
import { loadRegistryWithProgress } from '../../ui/registry-progress.js';

export interface RelaysExportJson {
  source: string;
  format: ExportFormat;
  scope: 'big' | 'all';
  /** The file written, or null when the export went to standard output. */
  out: string | null;
  pools: number;
  relays: number;
  bytes: number;
  /** What the export left out or assumed (hygiene findings of the source are in `spo relays list --json`). */
  findings: RegistryFinding[];
  /** With --json and no --out: the export itself (an object, or the CSV text). */
  data?: unknown;
}

export default class RelaysExport extends SpoCommand {
  static override summary = 'Export the registry as a peer snapshot (v2 or NodeToClientVersion form), JSON or CSV.';
  static override description =
    `Reads the registry from --source (embedded by default) and writes it in one of four formats:
  snapshot-v2    {"bigLedgerPools"|"allLedgerPools", "slotNo", "version": 2}, as cardano-cli writes it
  snapshot-n2c   {"NetworkMagic", "NodeToClientVersion": 23, "Point", "bigLedgerPools"|"allLedgerPools"}
  json           spo's normalised model: pools with id, ticker, stake, status, relays and flags, plus findings
  csv            one row per relay: pool,ticker,stake,status,kind,host,port,flags

--big-ledger keeps the largest pools until their cumulative stake reaches 90% (the pool crossing the line is kept, as cardano-node does); --all-pools keeps every pool. Default: --big-ledger for the snapshot formats, --all-pools for json and csv. Snapshots leave out relays the node cannot use (private, loopback, unspecified, port 0, malformed names) unless --keep-unusable; what was left out is reported on standard error and in --json.

With --out the file is written atomically (temporary file, fsync, rename; the previous file is kept as FILE.bak, unless FILE.bak is more than twice its size): a reader never sees a half-written file. A symlink is written through to its target, the file's mode and owner are kept, a read-only file is refused, and a device or FIFO (/dev/stdout, a named pipe) is written in place. Without --out, or with --out -, the export goes to standard output.

From koios or blockfrost, an empty registry, or one with fewer pools than any complete registry of the network has, is an error unless --allow-empty: a broken source never replaces good data.`;
  static override examples = [
    '<%= config.bin %> relays export --format snapshot-v2 --out peer-snapshot.json',
    '<%= config.bin %> relays export --source koios --format snapshot-n2c --big-ledger --out mainnet-peer-snapshot.json',
    '<%= config.bin %> relays export --source peer-snapshot.v1.json --format snapshot-v2 --all-pools',
    '<%= config.bin %> relays export --format csv > relays.csv',
    '<%= config.bin %> relays export --source pool-state.json --stake-snapshot stake.json --format json --out registry.json',
    '<%= config.bin %> relays export --source koios --koios-url http://localhost:8053/api/v1 --allow-empty --format json --out testnet-registry.json',
  ];
  static override flags = {
    ...registryFlags,
    // Required and exclusive are checked in run(): oclif's own messages for them are multi-line and
    // the first line alone ("The following error occurred:") does not say what is wrong.
    format: Flags.string({ description: 'output format (required)', options: [...EXPORT_FORMATS] }),
    'big-ledger': Flags.boolean({
      description: 'only the big ledger pools (90% cumulative stake); not with --all-pools',
    }),
    'all-pools': Flags.boolean({ description: 'every pool; not with --big-ledger' }),
    out: Flags.string({ char: 'o', description: 'write to FILE atomically (- or absent: standard output)' }),
    'keep-unusable': Flags.boolean({ description: 'keep relays the node cannot use in snapshot formats' }),
  };

  async run(): Promise<RelaysExportJson> {
    const { flags } = await this.parse(RelaysExport);
    if (flags.format === undefined) {
      throw new UsageError('USAGE', `--format is required: one of ${EXPORT_FORMATS.join(', ')}`, {
        hint: 'e.g. spo relays export --format snapshot-v2 --out peer-snapshot.json',
      });
    }
    if (flags['big-ledger'] && flags['all-pools']) {
      throw new UsageError('USAGE', '--big-ledger and --all-pools cannot be used together', {
        hint: 'choose one: --big-ledger for the 90% cumulative-stake cut, --all-pools for every pool',
      });
    }
    // A remote source can take minutes: an --out that cannot be written must fail now, not after it.
    if (flags.out !== undefined && flags.out !== '-') await checkOutputPath(flags.out);
    const format = flags.format as ExportFormat;
    const snapshot = format === 'snapshot-v2' || format === 'snapshot-n2c';
    const scope: 'big' | 'all' = flags['big-ledger'] ? 'big' : flags['all-pools'] ? 'all' : snapshot ? 'big' : 'all';
    const reg = await loadRegistryWithProgress(registryOptions(flags, this.network, this.signal), this.progress());
    const result = exportRegistry(reg, {
      format,
      scope,
      keepUnusable: flags['keep-unusable'],
      networkMagic: reg.networkMagic ?? this.network.magic,
    });
    const toStdout = flags.out === undefined || flags.out === '-';
    // Under --json the export itself must not share stdout with the JSON document.
    let written: WriteResult = {};
    if (!(toStdout && this.jsonEnabled())) {
      written = await writeOutput(flags.out, result.text, (s) => process.stdout.write(s));
    }
    for (const f of result.findings) this.note(printable(f.message));
    if (!toStdout && !this.jsonEnabled()) {
      process.stderr.write(
        `wrote ${flags.out}: ${counted(result.pools, 'pool')}, ${counted(result.relays, 'relay')} (${format}, ${scope === 'big' ? 'big ledger pools' : 'all pools'})\n`,
      );
    }
    if (written.backupKept) {
      this.note(`kept ${written.backup} as it was: the file it would have replaced was less than half its size`);
    }
    const doc: RelaysExportJson = {
      source: reg.source,
      format,
      scope,
      out: toStdout ? null : (flags.out as string),
      pools: result.pools,
      relays: result.relays,
      bytes: Buffer.byteLength(result.text),
      findings: result.findings,
    };
    // --json without --out: the exported data goes inside the one JSON document
    if (toStdout) doc.data = format === 'csv' ? result.text : (JSON.parse(result.text) as unknown);
    return doc;
  }
}
