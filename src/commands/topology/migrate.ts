import { isDeepStrictEqual } from 'node:util';
import { Args, Flags } from '@oclif/core';
import { SpoCommand } from '../../base-command.js';
import { SpoError, UsageError } from '../../lib/errors.js';
import type { NetworkName } from '../../lib/networks.js';
import { counted } from '../../lib/plural.js';
import { readInput, topologyInput } from '../../lib/read-input.js';
import type { Role } from '../../topology/generate.js';
import { lintTopology } from '../../topology/lint.js';
import { type LegacyAs, lineDiff, migrateTopology } from '../../topology/migrate.js';
import type { TopologyFinding, TopologyFormat } from '../../topology/model.js';
import { parseTopology, parseTopologyText } from '../../topology/parse.js';
import { inquirerPrompter } from '../../topology/wizard.js';
import { saveTopology } from '../../topology/write.js';

export interface TopologyMigrateJson {
  file: string;
  from: TopologyFormat;
  /** Where the result goes (FILE itself unless --out). */
  out: string;
  /** false when nothing changed, when not confirmed, or without --yes and no terminal. */
  written: boolean;
  changes: string[];
  /** Line diff of the file: ` ` kept, `-` removed, `+` added; empty when nothing changes. */
  diff: string;
  /** Lint findings of the migrated file (no errors, or nothing is written). */
  findings: TopologyFinding[];
  /** Legacy files only: the role migrated for (given with --role, or told from the Producers). */
  role?: Role;
}

export default class TopologyMigrate extends SpoCommand {
  static override summary = 'Rewrite an older topology file in the current format, keeping its meaning.';
  static override description =
    `Reads a topology in any format the node has accepted and writes it in the current one: the early grouped P2P format is flattened, "valency" becomes "hotValency", a legacy "Producers" list becomes local roots (one group per producer, --legacy-as local-roots, the default: the legacy node kept them all connected) or one public root group (--legacy-as public-roots). A legacy relay's file (its Producers list a public relay such as relays-new.cardano-mainnet.iohk.io; or --role relay) becomes a relay that finds its own peers: ledger peers on and the network's bootstrap peers (--network) in place of those public relays, the pool's own machines kept as local roots, and an absent useLedgerAfterSlot, which the node reads as "never", is written as -1. Keys the node ignores inside access points (descriptions, pool names) are kept.

The diff is shown first. The file is then written (to --out, or in place with the original kept as FILE.bak) with --yes, or after you confirm at a terminal; without --yes and without a terminal nothing is written. Nothing is written either when the migrated file would not lint clean. A file already in the current format (differing at most in spaces, line breaks or key order) needs no change: the command says so and exits 0.`;
  static override examples = [
    '<%= config.bin %> topology migrate topology.json',
    '<%= config.bin %> topology migrate old-topology.json --out topology.json --yes',
    '<%= config.bin %> topology migrate legacy-topology.json --legacy-as public-roots --yes',
  ];
  static override args = {
    file: Args.string({ description: 'topology file to migrate', required: true }),
  };
  static override flags = {
    out: Flags.string({ char: 'o', description: 'write the result to FILE (default: FILE itself, kept as FILE.bak)' }),
    yes: Flags.boolean({ char: 'y', description: 'write without asking' }),
    role: Flags.string({
      description:
        'legacy files: the machine the file is for (default: relay when its Producers list a known public relay, else producer)',
      options: ['relay', 'producer'],
    }),
    'legacy-as': Flags.string({
      description: 'legacy Producers become local roots or public roots',
      options: ['local-roots', 'public-roots'],
      default: 'local-roots',
    }),
  };

  async run(): Promise<TopologyMigrateJson> {
    const { args, flags } = await this.parse(TopologyMigrate);
    if (args.file === '-' && flags.out === undefined)
      throw new UsageError('USAGE', 'migrating standard input needs --out', {
        hint: 'give --out FILE (or --out - for standard output)',
      });
    const before = await readInput(args.file, topologyInput(this.signal));
    const raw = parseTopologyText(before, args.file);
    const parsed = parseTopology(raw, args.file);
    // An entry the node refuses is left out of the model: migrating it would silently drop it
    // (or turn a refused file into an accepted one with a different meaning). Make the user decide.
    const oldFormat = new Set(['TOPOLOGY_LEGACY_FORMAT', 'TOPOLOGY_EARLY_P2P_FORMAT']);
    const sourceErrors = parsed.findings.filter((f) => f.severity === 'error' && !oldFormat.has(f.code));
    if (sourceErrors.length > 0) {
      const first = sourceErrors[0] as TopologyFinding;
      throw new SpoError(
        'TOPOLOGY_MIGRATE_INVALID',
        `${args.file}: ${first.path}: ${first.message} (${counted(sourceErrors.length, 'error')} in the file to migrate; nothing written)`,
        {
          hint: `${first.fix}, then migrate again; see spo topology lint ${args.file}`,
          details: { findings: sourceErrors },
        },
      );
    }
    const result = migrateTopology(parsed, {
      legacyAs: flags['legacy-as'] as LegacyAs,
      raw,
      role: flags.role as Role | undefined,
      network: this.network.name as NetworkName | 'custom',
    });
    const out = flags.out ?? args.file;
    const lint = lintTopology(parseTopology(JSON.parse(result.text), out));
    const errors = lint.findings.filter((f) => f.severity === 'error');
    if (errors.length > 0) {
      const first = errors[0] as TopologyFinding;
      throw new SpoError(
        'TOPOLOGY_MIGRATE_INVALID',
        `${args.file}: the migrated file would not lint clean (${counted(errors.length, 'error')}), nothing written: ${first.path}: ${first.message}`,
        { hint: `${first.fix}; see spo topology lint ${args.file}`, details: { findings: errors } },
      );
    }
    // A current file whose JSON says exactly what the migrated one says differs at most in layout
    // (spaces, line breaks, key order): there is nothing to migrate, and no whitespace diff to confirm.
    const sameContent = result.changes.length === 0 && isDeepStrictEqual(raw, JSON.parse(result.text));
    const diff = sameContent ? '' : lineDiff(before, result.text);
    const doc: TopologyMigrateJson = {
      file: args.file,
      from: result.from,
      out,
      written: false,
      changes: result.changes,
      diff,
      findings: lint.findings,
      ...(result.role ? { role: result.role } : {}),
    };
    if (diff === '' && out === args.file) {
      this.out(`${this.c.ok('✓')} ${args.file} is already in the current format; nothing to change`);
      return doc;
    }
    if (!this.jsonEnabled()) {
      const err = this.stderrPalette();
      process.stderr.write(
        `${err.dim(`--- ${args.file} (${result.from})`)}\n${err.dim(`+++ ${out} (current format)`)}\n`,
      );
      for (const line of diff === '' ? [] : diff.replace(/\n$/, '').split('\n')) {
        process.stderr.write(
          `${line.startsWith('+') ? err.ok(line) : line.startsWith('-') ? err.fail(line) : err.dim(line)}\n`,
        );
      }
      for (const c of result.changes) process.stderr.write(`${err.dim('change:')} ${c}\n`);
    }
    let go = flags.yes;
    if (!go && out === '-') go = true;
    if (!go) {
      const interactive = process.stdin.isTTY === true && process.stderr.isTTY === true && !this.jsonEnabled();
      if (interactive) {
        go = await inquirerPrompter(this.signal).confirm({ message: `Write ${out}?`, default: false });
      } else {
        this.note(`not written: re-run with --yes to write ${out}`);
      }
    }
    if (go) {
      if (out === '-') {
        if (!this.jsonEnabled()) process.stdout.write(result.text);
      } else {
        const written = await saveTopology(out, result.text);
        // through a symlink, the target is written and its previous content kept beside it
        const into = written.file !== undefined && written.file !== out ? ` (${written.file})` : '';
        const kept = written.backup ? ` (previous file kept as ${written.backup})` : '';
        this.out(`${this.c.ok('✓')} wrote ${out}${into}${kept}`);
      }
      doc.written = out !== '-';
    }
    return doc;
  }
}
