/**
 * The text rendering of `spo governor dry-run` (src/sim/dry-run.ts): the run's header line, the
 * decision trace and a peer temperature table per snapshot. Returns lines; the command prints them.
 */
import type { TraceRecord } from '../driver/trace.js';
import { formatDuration } from '../lib/duration.js';
import { counted } from '../lib/plural.js';
import { printable } from '../lib/sanitize.js';
import type { DryRunJson } from '../sim/dry-run.js';
import type { Snapshot } from '../sim/simulated-node.js';
import type { Palette } from './color.js';
import { renderTable } from './table.js';

/**
 * Simulated milliseconds as h:mm:ss.s (`toFixed(1)` of the seconds: a time exactly on a half
 * tenth rounds as its binary value does).
 */
export function simClock(ms: number): string {
  const t = ms / 1000;
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const s = t % 60;
  return `${h}:${String(m).padStart(2, '0')}:${s.toFixed(1).padStart(4, '0')}`;
}

export function renderDryRun(
  c: Palette,
  doc: DryRunJson,
  snapshots: Snapshot[],
  final: Snapshot,
  trace: TraceRecord[],
  showTrace: boolean,
): string[] {
  const out: string[] = [];
  const s = doc.summary;
  out.push(DRY_RUN_CAPTION);
  out.push(
    c.dim(
      `seed ${doc.seed}, ${formatDuration(doc.simulatedMs)} simulated${doc.interrupted ? ' (interrupted: the table is as of then)' : ''}; targets: ${s.targetsFrom}; ` +
        `${counted(s.localRoots, 'local root')}, ${counted(s.publicRoots, 'public root')}; ledger peers ${s.ledgerPeers ? 'on' : 'off'} ` +
        `(${s.registry.source}, ${counted(s.registry.pools, 'pool')})`,
    ),
  );
  if (showTrace) {
    out.push(c.bold('\ntrace'));
    for (const r of trace) {
      const list = 'peers' in r ? r.peers : undefined;
      const peers =
        list && list.length > 0 ? ` ${list.slice(0, 4).join(' ')}${list.length > 4 ? ` +${list.length - 4}` : ''}` : '';
      const n = 'count' in r ? r.count : undefined;
      const count = n === undefined ? '' : ` (${n})`;
      const detail = r.detail ? c.dim(` ${r.detail}`) : '';
      out.push(`${simClock(r.at).padStart(9)}  ${r.source.padEnd(8)} ${r.type}${count}${peers}${detail}`);
    }
  }
  for (const snap of [...snapshots, final]) out.push(...table(c, snap));
  out.push('', ...DRY_RUN_LEGEND.map((l) => c.dim(l)));
  return out;
}

/** The first line of the dry run's text: what the tables are (the first screen of npm start). */
export const DRY_RUN_CAPTION =
  'Governor dry run: which peers a node with these settings would know, connect to and use (simulated time, no traffic)';

/** Under the last table: what its columns and counts mean (spo governor dry-run --help says more). */
export const DRY_RUN_LEGEND = [
  'TEMP: cold = known, warm = connected, hot = fetching headers and blocks; SOURCE: how the node learnt the peer;',
  'FAILS: failed attempts; UPSTREAM: headers it delivered first (churn keeps the best); SINCE: when it took its TEMP;',
  'counts above the table are now/target (big ledger: known, established, active); more in spo governor dry-run --help',
];

/** Warnings to print after the tables (stderr). */
export function dryRunNotes(doc: DryRunJson): string[] {
  const notes: string[] = [];
  if (doc.criticalError)
    notes.push(
      `${doc.criticalError.kind} at ${simClock(doc.criticalError.atMs)}: the node did not reach a state with only trusted peers within 15 minutes and would restart; the simulation stopped there`,
    );
  if (doc.summary.invariantViolations > 0)
    notes.push(`${counted(doc.summary.invariantViolations, 'invariant violation')} (a bug in the governor port)`);
  return notes;
}

function table(c: Palette, snap: Snapshot): string[] {
  const out: string[] = [];
  const t = snap.targets;
  const k = snap.counters;
  out.push(c.bold(`\nat ${simClock(snap.at)}`));
  const b = snap.cardano;
  out.push(
    c.dim(
      `${b.consensusMode}, ledger state ${b.ledgerStateJudgement === 'tooOld' ? 'too old' : 'young enough'}` +
        (b.useBootstrapPeers
          ? `, bootstrap peers ${b.bootstrapPeers.known}/${b.bootstrapPeers.established}/${b.bootstrapPeers.active} (known/established/active)`
          : ', bootstrap peers off') +
        (b.sensitive
          ? b.hasOnlyBootstrapPeers
            ? ', sensitive: only trusted peers'
            : ', sensitive: shedding untrusted peers'
          : '') +
        `, ${b.associationMode === 'localRootsOnly' ? 'local roots only' : 'unrestricted'}, outbound ${b.outboundConnectionsState}`,
    ),
  );
  out.push(
    `known ${k.known}/${t.known}  established ${k.established}/${t.established}  active ${k.active}/${t.active}  ` +
      `big ledger ${k.knownBigLedger}/${t.knownBigLedger} ${k.establishedBigLedger}/${t.establishedBigLedger} ` +
      `${k.activeBigLedger}/${t.activeBigLedger}  root ${k.root}/${t.root}`,
  );
  const temp = (x: string) => (x === 'hot' ? c.ok(x) : x === 'warm' ? c.warn(x) : c.dim(x));
  out.push(
    renderTable(
      snap.peers,
      [
        { header: 'PEER', get: (p) => printable(p.peer) },
        // The name an address was resolved from (topology or registry), so operators recognise it.
        { header: 'NAME', get: (p) => (p.name === undefined ? '-' : printable(p.name)) },
        { header: 'SOURCE', get: (p) => p.source },
        {
          header: 'TEMP',
          get: (p) => p.temperature,
          style: (text, p) => temp(p.temperature) + text.slice(p.temperature.length),
        },
        { header: 'FAILS', get: (p) => p.failCount, align: 'right' },
        { header: 'UPSTREAM', get: (p) => p.upstreamness, align: 'right' },
        { header: 'SINCE', get: (p) => simClock(p.since), align: 'right' },
      ],
      (h) => c.bold(h),
    ),
  );
  return out;
}
