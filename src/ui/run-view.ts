/**
 * The live view of a running node: `spo run`'s table on a terminal, `spo top --control`'s dashboard
 * and `spo peers`' table. Rendering is pure (a snapshot and the recent events in, text out, fitted
 * to the terminal's width and height); the refresher at the end redraws it in place through
 * log-update (which rewrites only the lines that changed, inside the terminal's synchronized-output
 * mode, so nothing flickers).
 */
import { Chalk } from 'chalk';
import { createLogUpdate } from 'log-update';
import stringWidth from 'string-width';
import { atExit } from '../lib/at-exit.js';
import { type Clock, type Millis, systemClock, type Timer } from '../lib/clock.js';
import { counted } from '../lib/plural.js';
import { printable } from '../lib/sanitize.js';
import type { NodeEvent, NodeSnapshot, PeerRow, PeerTemperature } from '../node/snapshot.js';
import { type Palette, palette } from './color.js';
import { fitWidth } from './table.js';
import { cut } from './top.js';

export interface RunViewOptions {
  /** Terminal columns: no line is longer. */
  width: number;
  /** Terminal rows: the view has at most height - 1 lines (the cursor's line stays free). */
  height: number;
  /** Colour (semantic; the text says the same without it). */
  color: boolean;
  /** A line at the bottom instead of "Ctrl-C to stop" (a failed refresh, say). */
  status?: string | undefined;
}

const TEMPERATURE_ORDER: Record<PeerTemperature, number> = { hot: 0, warm: 1, cooling: 2, cold: 3 };
const collator = new Intl.Collator('en', { numeric: true });

/** Hot, warm, cooling, cold; then by address (numerically: 10.0.0.2 before 10.0.0.10). */
export function sortPeers(peers: readonly PeerRow[]): PeerRow[] {
  return [...peers].sort(
    (a, b) =>
      (TEMPERATURE_ORDER[a.temperature] ?? 9) - (TEMPERATURE_ORDER[b.temperature] ?? 9) ||
      collator.compare(a.peer, b.peer),
  );
}

/** An age as the table shows it: `45s`, `3m12s`, `2h05m`, `3d04h`. */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

const num = (v: number | undefined): string => (v === undefined ? '-' : v.toLocaleString('en-US'));

function makePalette(color: boolean): Palette {
  return palette(new Chalk({ level: color ? 1 : 0 }));
}

/** The node's counters, a few lines. */
export function counterLines(s: NodeSnapshot, p: Palette): string[] {
  const ps = s.counters.peerSelection ?? {};
  const cm = s.counters.connectionManager ?? {};
  const ig = s.counters.inboundGovernor ?? {};
  const big = ps.bigLedger ?? {};
  const lr = ps.localRoots ?? {};
  const listening = s.listening.length === 0 ? 'initiator only' : `listening ${s.listening.map(printable).join(', ')}`;
  const tip = s.tip
    ? `tip #${num(s.tip.blockNo)} slot ${num(s.tip.slot)} ${s.tip.hash.slice(0, 8)}…`
    : 'tip: no header yet';
  const kea = (g: { known?: number; established?: number; active?: number }) =>
    `${num(g.known)} / ${num(g.established)} / ${num(g.active)}`;
  const lines = [
    `${p.bold('spo run')}  pid ${s.pid}  ${listening}  ${p.dim('up')} ${formatAge(s.uptimeMs)}  ${p.dim('·')}  ${tip}`,
    `${p.dim('known / established / active')}  all ${kea(ps)}  ${p.dim('·')}  big ledger ${kea(big)}  ${p.dim('·')}  local roots ${kea(lr)}`,
    `${p.dim('inbound')} idle ${num(ig.idle)} cold ${num(ig.cold)} warm ${num(ig.warm)} hot ${num(ig.hot)}  ${p.dim('·')}  ${p.dim('connections')} in ${num(cm.inbound)} out ${num(cm.outbound)} duplex ${num(cm.duplex)} unidirectional ${num(cm.unidirectional)}`,
  ];
  // the bootstrap sensitive state changes what the node does: say so while it lasts
  const l = s.ledger;
  if (l?.sensitive)
    lines.push(
      `${p.warn('syncing')}: ledger state too old: bootstrap peers and trustable local roots only  ${p.dim('·')}  tip slot seen ${l.tipSlotSeen === null ? 'none' : num(l.tipSlotSeen)}, ledger peers from slot ${l.useLedgerAfterSlot === null ? 'never' : num(l.useLedgerAfterSlot)}`,
    );
  return lines;
}

/** `spo peers`' report: the counters, a blank line, the whole peer table; lines cut to `width`. */
export function peersReportLines(s: NodeSnapshot, width: number, p: Palette): string[] {
  return [...counterLines(s, p).map((l) => cut(l, width)), '', ...peerTableLines(s, width, p)];
}

interface Col {
  header: string;
  right: boolean;
  get: (r: PeerRow, snapshotMs: number) => string;
}

const COLUMNS: readonly Col[] = [
  { header: 'peer', right: false, get: (r) => printable(r.peer) },
  { header: 'name', right: false, get: (r) => (r.name === undefined ? '' : printable(r.name)) },
  { header: 'dir', right: false, get: (r) => r.direction ?? '-' },
  { header: 'source', right: false, get: (r) => (r.group === undefined ? r.source : `${r.source} #${r.group}`) },
  { header: 'temp', right: false, get: (r) => r.temperature },
  {
    header: 'since',
    right: true,
    get: (r, at) => {
      const t = Date.parse(r.since);
      return Number.isNaN(t) || Number.isNaN(at) ? '-' : formatAge(at - t);
    },
  },
  { header: 'RTT ms', right: true, get: (r) => (r.rttMs === undefined ? '-' : r.rttMs.toFixed(1)) },
  {
    header: 'upstream',
    right: true,
    get: (r) =>
      r.upstreamness === undefined
        ? '-'
        : Number.isInteger(r.upstreamness)
          ? String(r.upstreamness)
          : r.upstreamness.toFixed(2),
  },
  { header: 'first', right: true, get: (r) => num(r.headersFirst) },
  { header: 'fails', right: true, get: (r) => String(r.failCount) },
];
const NAME = 1;
const PEER = 0;
const TEMP = 4;
const FAILS = 9;
const GAP = 2;
/** The peer column is shrunk (middle ellipsis) to this at least, once the name column is gone. */
const MIN_PEER = 15;

/**
 * The peer table, sorted, fitted to `width`: the name column gives way first (cut, then left out),
 * then the peer column (middle ellipsis); a terminal narrower still gets its lines cut.
 */
export function peerTableLines(s: NodeSnapshot, width: number, p: Palette): string[] {
  const at = Date.parse(s.time);
  const rows = sortPeers(s.peers);
  const cells = rows.map((r) => COLUMNS.map((c) => c.get(r, at)));
  const natural = COLUMNS.map((c, i) => Math.max(stringWidth(c.header), ...cells.map((r) => stringWidth(r[i] ?? ''))));
  const widths = [...natural];
  let shown = COLUMNS.map(() => true);
  if (cells.every((r) => r[NAME] === '')) shown[NAME] = false; // no peer has a name: no empty column
  const total = (): number =>
    widths.reduce((sum, w, i) => sum + (shown[i] ? w : 0), 0) + GAP * (shown.filter(Boolean).length - 1);
  if (total() > width && shown[NAME]) {
    const over = total() - width;
    const nameWidth = (widths[NAME] ?? 0) - over;
    if (nameWidth >= 6) widths[NAME] = nameWidth;
    else shown = shown.map((v, i) => (i === NAME ? false : v));
  }
  if (total() > width) widths[PEER] = Math.max(MIN_PEER, (widths[PEER] ?? 0) - (total() - width));
  const fmt = (texts: string[], style: (text: string, i: number) => string): string =>
    texts
      .map((t0, i) => {
        const w = widths[i] ?? 0;
        const t = stringWidth(t0) > w ? fitWidth(t0, w) : t0;
        const gap = ' '.repeat(Math.max(0, w - stringWidth(t)));
        return style(COLUMNS[i]?.right ? gap + t : t + gap, i);
      })
      .filter((_, i) => shown[i])
      .join(' '.repeat(GAP))
      .trimEnd();
  const lines = [
    p.bold(
      fmt(
        COLUMNS.map((c) => c.header),
        (t) => t,
      ),
    ),
  ];
  rows.forEach((row, r) => {
    lines.push(
      fmt(cells[r] ?? [], (t, i) => {
        if (i === TEMP) return temperatureStyle(row.temperature, p)(t);
        if (i === FAILS && row.failCount > 0) return p.warn(t);
        return t;
      }),
    );
  });
  if (rows.length === 0) lines.push(p.dim('no peers yet'));
  return lines.map((l) => cut(l, width));
}

function temperatureStyle(t: PeerTemperature, p: Palette): (s: string) => string {
  if (t === 'hot') return p.ok;
  if (t === 'warm') return p.accent;
  return p.dim;
}

/** One event as a log line: time, what, the details. */
export function eventLine(e: NodeEvent, p: Palette): string {
  const time = p.dim(e.time.length >= 19 ? e.time.slice(11, 19) : e.time);
  const what = (word: string, style: (s: string) => string = (s) => s): string => style(word.padEnd(9));
  switch (e.event) {
    case 'started':
      return `${time} ${what('started', p.ok)} ${e.role} on ${e.network} (magic ${e.magic}), ${e.listening.length === 0 ? 'initiator only' : `listening ${e.listening.map(printable).join(', ')}`}`;
    case 'promoted':
      return `${time} ${what('promoted', p.ok)} ${printable(e.peer)} ${e.from}→${e.to} (${e.source})`;
    case 'demoted':
      return `${time} ${what('demoted', p.warn)} ${printable(e.peer)} ${e.from}→${e.to}${e.reason ? `: ${printable(e.reason)}` : ''}`;
    case 'failed':
      return `${time} ${what('failed', p.fail)} ${printable(e.peer)} ${e.action}: ${printable(e.error)}`;
    case 'churn':
      return `${time} ${what('churn', p.accent)} ${printable(e.action)} ${e.count}`;
    case 'inbound':
      return `${time} ${what('inbound')} ${printable(e.peer)} ${e.state}${e.error ? `: ${printable(e.error)}` : ''}`;
    case 'header':
      return `${time} ${what('header', p.dim)} #${num(e.blockNo)} slot ${num(e.slot)} ${e.hash.slice(0, 8)}… ${e.minted ? 'minted' : `from ${printable(e.from)}`}`;
    case 'localRoots':
      return `${time} ${what('roots', p.accent)} local roots: ${e.groups} groups, ${e.peers} peers (${e.reason})`;
    case 'ledgerState':
      return `${time} ${what('ledger', p.accent)} ${e.sensitive ? 'ledger state too old: only bootstrap peers and trustable local roots' : `judgement ${e.judgement}, ledger peers ${e.useLedgerPeers ? 'in use' : 'not used'}`} (tip slot seen ${e.tipSlotSeen ?? 'none'}, useLedgerAfterSlot ${e.useLedgerAfterSlot ?? 'never'})`;
    case 'peersReceived':
      return `${time} ${what('peers', p.dim)} ${printable(e.peer)} shared ${counted(e.peers.length + (e.refused?.length ?? 0), 'peer')} with us${e.refused ? ` (${e.refused.length} refused: loopback/private)` : ''}`;
    case 'peersShared':
      return `${time} ${what('peers', p.dim)} shared ${counted(e.peers.length, 'peer')} with ${printable(e.peer)}`;
    case 'warning':
      return `${time} ${what('warning', p.warn)} ${printable(e.code)}: ${printable(e.message)}`;
    case 'stopped':
      return `${time} ${what('stopped', p.warn)} ${printable(e.reason)}`;
    default:
      return `${time} ${printable(JSON.stringify(e))}`;
  }
}

/**
 * The whole view: counters, the peer table, the last events. At most `height - 1` lines (the
 * events and then the peer rows give way, with a line saying how many are left out), none wider
 * than `width`.
 */
export function renderRunView(s: NodeSnapshot, recentEvents: readonly NodeEvent[], o: RunViewOptions): string {
  const p = makePalette(o.color);
  const width = Math.max(1, Math.floor(o.width));
  const budget = Math.max(1, Math.floor(o.height) - 1);
  const head = counterLines(s, p).map((l) => cut(l, width));
  const table = peerTableLines(s, width, p);
  const [tableHeader = '', ...peerRows] = table;
  const events = recentEvents.map((e) => cut(eventLine(e, p), width));
  const hint = cut(o.status === undefined ? p.dim('Ctrl-C to stop') : p.warn(printable(o.status)), width);

  // fixed: the counters, a blank line, the table header; then peers, then (blank + title + events), then the hint
  const fixed = head.length + 2;
  let room = budget - fixed - 1;
  if (room < 1) return [...head, '', tableHeader].slice(0, budget).join('\n');
  // events get up to a third of what is left (at least 2 when there are some), peers the rest
  const eventsWanted = events.length === 0 ? 0 : Math.min(events.length, Math.max(2, Math.floor(room / 3)));
  let eventRows = 0;
  if (eventsWanted > 0 && room - 2 - eventsWanted >= Math.min(peerRows.length, 1)) {
    eventRows = eventsWanted;
    room -= eventRows + 2;
  } else if (events.length > 0 && room >= 3 + Math.min(peerRows.length, 1)) {
    eventRows = Math.max(1, room - 2 - Math.min(peerRows.length, 1));
    eventRows = Math.min(eventRows, events.length);
    room -= eventRows + 2;
  }
  let shownPeers = peerRows;
  if (peerRows.length > room) {
    const keep = Math.max(0, room - 1);
    const left = peerRows.length - keep;
    shownPeers = [
      ...peerRows.slice(0, keep),
      cut(p.dim(`… ${left} more peer${left === 1 ? '' : 's'} (spo peers lists them all)`), width),
    ];
  }
  const lines = [...head, '', tableHeader, ...shownPeers];
  if (eventRows > 0) lines.push('', p.bold('recent events'), ...events.slice(-eventRows));
  lines.push(hint);
  return lines
    .slice(0, budget)
    .map((l) => cut(l, width))
    .join('\n');
}

/**
 * What changed between two snapshots, as the node's events: temperature changes (promotions and
 * demotions) and a new tip. `spo top --control` has only snapshots; this gives its view a log too.
 */
export function eventsBetween(prev: NodeSnapshot, next: NodeSnapshot): NodeEvent[] {
  const out: NodeEvent[] = [];
  const before = new Map(prev.peers.map((r) => [r.peer, r]));
  const time = next.time;
  const rank = { cold: 0, cooling: 0, warm: 1, hot: 2 } as const;
  for (const r of sortPeers(next.peers)) {
    const old = before.get(r.peer);
    const from = old?.temperature ?? 'cold';
    const a = rank[from];
    const b = rank[r.temperature];
    if (b > a) {
      out.push({
        time,
        event: 'promoted',
        peer: r.peer,
        from: a === 0 ? 'cold' : 'warm',
        to: b === 2 ? 'hot' : 'warm',
        source: r.source,
      });
    } else if (b < a) {
      out.push({ time, event: 'demoted', peer: r.peer, from: a === 2 ? 'hot' : 'warm', to: b === 1 ? 'warm' : 'cold' });
    }
  }
  if (next.tip && (!prev.tip || next.tip.hash !== prev.tip.hash)) {
    out.push({
      time,
      event: 'header',
      blockNo: next.tip.blockNo,
      slot: next.tip.slot,
      hash: next.tip.hash,
      from: 'tip',
    });
  }
  return out;
}

/** A stream the refresher draws on (process.stdout on a terminal). */
export interface ViewStream extends NodeJS.WritableStream {
  columns?: number;
  rows?: number;
  isTTY?: boolean;
  on(event: 'resize', listener: () => void): this;
  on(event: string, listener: (...args: unknown[]) => void): this;
  removeListener(event: string, listener: (...args: unknown[]) => void): this;
}

const CURSOR_HIDE = '\x1b[?25l';
const CURSOR_SHOW = '\x1b[?25h';

export interface RunViewRefresher {
  /** Draws this snapshot and these events in place of the previous frame. */
  update(snapshot: NodeSnapshot, recentEvents: readonly NodeEvent[], status?: string): void;
  /** Writes lines above the view that stay (warnings, a final message), then redraws the view. */
  persist(text: string): void;
  /** Leaves the last frame on the screen, the cursor below it; later updates do nothing. */
  done(): void;
}

/**
 * The in-place refresher: log-update redraws only the lines that changed and clips to the screen;
 * a resize redraws the last frame at the new size. Only for a terminal: off one, print JSON lines.
 */
export function createRunViewRefresher(stream: ViewStream, options: { color: boolean }): RunViewRefresher {
  // The cursor is hidden here, not by log-update: its cursor hiding installs signal-exit's handlers,
  // which re-raise SIGINT/SIGTERM when no other listener is left, so a Ctrl-C would kill the
  // process before the node's (or spo top's) orderly stop ran.
  const log = createLogUpdate(stream, { showCursor: true });
  stream.write(CURSOR_HIDE);
  // a forced exit (exit 130 on a second Ctrl-C) never reaches done(): the cursor must not stay
  // hidden in the user's terminal (a write to a terminal is synchronous on Linux)
  const offExit = atExit(() => stream.write(CURSOR_SHOW));
  let last: { snapshot: NodeSnapshot; events: readonly NodeEvent[]; status: string | undefined } | undefined;
  let finished = false;
  const draw = (): void => {
    if (!last || finished) return;
    log(
      renderRunView(last.snapshot, last.events, {
        width: stream.columns && stream.columns > 0 ? stream.columns : 100,
        height: stream.rows && stream.rows > 0 ? stream.rows : 40,
        color: options.color,
        status: last.status,
      }),
    );
  };
  const onResize = (): void => {
    log.clear();
    draw();
  };
  stream.on('resize', onResize);
  return {
    update(snapshot, recentEvents, status) {
      last = { snapshot, events: recentEvents, status };
      draw();
    },
    persist(text) {
      if (finished) {
        stream.write(text.endsWith('\n') ? text : `${text}\n`);
        return;
      }
      log.persist(text); // erases the frame, writes the text for good
      draw();
    },
    done() {
      if (finished) return;
      finished = true;
      offExit();
      stream.removeListener('resize', onResize);
      log.done();
      stream.write(CURSOR_SHOW);
    },
  };
}

export interface LiveTableOptions {
  /** The terminal (process.stdout). */
  stream: ViewStream;
  color: boolean;
  /** The node's snapshot now (LiveNode.snapshot). */
  snapshot: () => NodeSnapshot;
  /** Default systemClock. */
  clock?: Clock;
  /** Redrawn this often even without events (ages, RTTs move); default 1 s. */
  refreshMs?: Millis;
  /** Events kept for the log (the view shows as many as fit); default 50. */
  maxEvents?: number;
}

export interface LiveTable {
  /** A node event: into the log, and the view redrawn shortly (bursts coalesced). */
  event(e: NodeEvent): void;
  /** Text that stays above the view (a warning, a lint finding). */
  persist(text: string): void;
  /** Last redraw, timers cancelled, the last frame left on the screen. Idempotent. */
  stop(): void;
}

/** Redraws after an event wait this long, so a burst of events costs one frame. */
const EVENT_REDRAW_MS: Millis = 50;

/**
 * spo run's live table on a terminal, driven: give it the node's snapshot function and its events;
 * it redraws every `refreshMs` and shortly after events, in place, until stop().
 */
export function startLiveTable(o: LiveTableOptions): LiveTable {
  const clock = o.clock ?? systemClock;
  const refreshMs = o.refreshMs ?? 1_000;
  const maxEvents = o.maxEvents ?? 50;
  const view = createRunViewRefresher(o.stream, { color: o.color });
  const events: NodeEvent[] = [];
  let stopped = false;
  let soon: Timer | undefined;
  let tick: Timer | undefined;
  const draw = (): void => {
    soon?.cancel();
    soon = undefined;
    view.update(o.snapshot(), events);
  };
  const every = (): void => {
    draw();
    tick = clock.setTimer(refreshMs, every);
  };
  every();
  return {
    event(e) {
      if (stopped) return;
      events.push(e);
      if (events.length > maxEvents) events.splice(0, events.length - maxEvents);
      soon ??= clock.setTimer(EVENT_REDRAW_MS, draw);
    },
    persist(text) {
      view.persist(text);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      tick?.cancel();
      draw();
      view.done();
    },
  };
}
