/**
 * The live view of spo run (and spo top --control, spo peers): sorting, ages, width and height
 * fitting (no line wider than the terminal at any size, the name column giving way first), the
 * events log, escapes in names shown and never sent, and the in-place refresher on a fake terminal.
 */
import { Writable } from 'node:stream';
import { Chalk } from 'chalk';
import stringWidth from 'string-width';
import stripAnsi from 'strip-ansi';
import { describe, expect, it } from 'vitest';
import type { NodeEvent, NodeSnapshot, PeerRow } from '../../src/node/snapshot.js';
import { Scheduler } from '../../src/sim/scheduler.js';
import { palette } from '../../src/ui/color.js';
import {
  createRunViewRefresher,
  eventLine,
  eventsBetween,
  formatAge,
  peerTableLines,
  renderRunView,
  sortPeers,
  startLiveTable,
} from '../../src/ui/run-view.js';
import { before, fixedSnapshot, SNAPSHOT_TIME } from '../node/control-fixture.js';

const plain = palette(new Chalk({ level: 0 }));
const t = (s: number) => new Date(Date.parse(SNAPSHOT_TIME) + s * 1000).toISOString();

const EVENTS: NodeEvent[] = [
  { time: t(-30), event: 'started', listening: ['127.0.0.1:3001'], network: 'preview', magic: 2, role: 'relay' },
  { time: t(-20), event: 'promoted', peer: '10.0.0.2:3001', from: 'warm', to: 'hot', source: 'local-root' },
  { time: t(-15), event: 'demoted', peer: '10.0.0.9:3001', from: 'hot', to: 'warm', reason: 'churn' },
  { time: t(-10), event: 'failed', peer: '10.0.0.10:3001', action: 'establish', error: 'connection refused' },
  { time: t(-5), event: 'churn', action: 'DecreasedActivePeers', count: 1 },
  { time: t(-1), event: 'header', blockNo: 1234, slot: 98765, hash: 'ab'.repeat(32), from: '10.0.0.2:3001' },
];

function manyPeers(n: number): PeerRow[] {
  return Array.from({ length: n }, (_, i) => ({
    peer: `192.168.${Math.floor(i / 250)}.${i % 250}:3001`,
    source: 'ledger' as const,
    temperature: i % 3 === 0 ? ('hot' as const) : ('cold' as const),
    since: before(i * 1000),
    failCount: 0,
  }));
}

describe('run view', () => {
  it('sorts hot, warm, cooling, cold, then by address, numerically', () => {
    expect(sortPeers(fixedSnapshot().peers).map((p) => `${p.temperature} ${p.peer}`)).toEqual([
      'hot 10.0.0.2:3001',
      'hot 10.0.0.3:3001',
      'warm [2001:db8::1]:3001',
      'cooling 127.0.0.1:40001',
      'cold 10.0.0.10:3001',
    ]);
  });

  it('shows ages as 45s, 3m12s, 1h02m, 2d03h', () => {
    expect([0, 45_400, 192_000, 3_725_000, 2 * 86_400_000 + 3 * 3_600_000, -5].map(formatAge)).toEqual([
      '0s',
      '45s',
      '3m12s',
      '1h02m',
      '2d03h',
      '0s',
    ]);
  });

  it('a wide terminal: counters, every column and row, the events, newest last', () => {
    const text = renderRunView(fixedSnapshot(), EVENTS, { width: 200, height: 50, color: false });
    const lines = text.split('\n');
    expect(lines[0]).toMatch(
      /spo run {2}pid 4242 {2}listening 127\.0\.0\.1:3001 {2}up 1h05m .*tip #1,234 slot 98,765 abababab…/,
    );
    expect(text).toMatch(/all 5 \/ 3 \/ 2 .*big ledger 1 \/ 0 \/ 0 .*local roots 1 \/ 1 \/ 1/);
    expect(text).toMatch(/inbound idle 1 cold 0 warm 1 hot 0 .*in 2 out 3 duplex 1/);
    const header = lines.find((l) => l.startsWith('peer'));
    expect(header).toMatch(/^peer +name +dir +source +temp +since +RTT ms +upstream +first +fails$/);
    const rows = lines.slice(lines.indexOf(header as string) + 1, lines.indexOf(header as string) + 6);
    expect(rows.map((r) => r.split(/\s+/)[0])).toEqual([
      '10.0.0.2:3001',
      '10.0.0.3:3001',
      '[2001:db8::1]:3001',
      '127.0.0.1:40001',
      '10.0.0.10:3001',
    ]);
    expect(rows[0]).toMatch(
      /^10\.0\.0\.2:3001 +relay1\.example\.com +out +local-root #0 +hot +3m12s +1\.3 +0\.50 +12 +0$/,
    );
    expect(rows[1]).toContain('a-very-long-relay-name-that-does-not-fit.relays.example-operator.com');
    expect(rows[1]).toMatch(/public-root +hot +1h02m +80\.0 +0\.25 +3 +1$/);
    expect(rows[4]).toMatch(/^10\.0\.0\.10:3001 +- +ledger +cold +5s +- +- +- +2$/);
    const ev = lines.slice(lines.indexOf('recent events') + 1, -1);
    expect(ev).toHaveLength(EVENTS.length);
    expect(ev[1]).toBe('11:59:40 promoted  10.0.0.2:3001 warm→hot (local-root)');
    expect(ev[3]).toBe('11:59:50 failed    10.0.0.10:3001 establish: connection refused');
    expect(ev.at(-1)).toMatch(/header +#1,234 slot 98,765 abababab… from 10\.0\.0\.2:3001/);
    expect(lines.at(-1)).toBe('Ctrl-C to stop');
  });

  it('a narrower terminal: the name column is cut first, then left out; the addresses stay whole', () => {
    const s = fixedSnapshot();
    const natural = peerTableLines(s, 1000, plain);
    const full = Math.max(...natural.map((l) => stringWidth(l)));
    const cutName = peerTableLines(s, full - 20, plain);
    expect(cutName.join('\n')).toContain('…');
    expect(cutName[0]).toMatch(/^peer +name /);
    for (const peer of ['10.0.0.3:3001', '[2001:db8::1]:3001']) expect(cutName.join('\n')).toContain(peer);
    const noName = peerTableLines(s, full - 66, plain);
    expect(noName[0]).toMatch(/^peer +dir +source/);
    expect(noName.join('\n')).not.toContain('relay1');
    expect(noName.join('\n')).toContain('[2001:db8::1]:3001');
    expect(noName.every((l) => stringWidth(l) <= full - 66)).toBe(true);
  });

  it('no line is wider than the terminal and the view never taller, at any size, in colour or not', () => {
    const big = { ...fixedSnapshot(), peers: [...fixedSnapshot().peers, ...manyPeers(120)] };
    for (const snapshot of [fixedSnapshot(), big]) {
      for (let width = 10; width <= 220; width += 7) {
        for (const height of [2, 5, 9, 16, 30, 60]) {
          for (const color of [false, true]) {
            const text = renderRunView(snapshot, EVENTS, { width, height, color });
            const lines = text.split('\n');
            expect(lines.length, `${width}x${height}`).toBeLessThanOrEqual(height - 1 || 1);
            for (const l of lines) expect(stringWidth(l), `${width}x${height}: ${l}`).toBeLessThanOrEqual(width);
            if (color && width > 40 && height > 9) expect(text).toContain('\x1b[');
            if (!color) expect(text).not.toContain('\x1b');
          }
        }
      }
    }
  });

  it('a short terminal: peers shown as far as they fit, a line says how many more, events keep a few rows', () => {
    const s = { ...fixedSnapshot(), peers: manyPeers(100) };
    const lines = renderRunView(s, EVENTS, { width: 120, height: 25, color: false }).split('\n');
    expect(lines).toHaveLength(24);
    const more = lines.find((l) => l.startsWith('…'));
    expect(more).toMatch(/^… (\d+) more peers \(spo peers lists them all\)$/);
    const shown = lines.filter((l) => l.startsWith('192.168.')).length;
    expect(Number(/(\d+)/.exec(more as string)?.[1]) + shown).toBe(100);
    expect(lines[lines.indexOf('recent events') + 1]).toBeDefined();
    expect(lines.filter((l) => /^\d\d:\d\d:\d\d /.test(l)).length).toBeGreaterThanOrEqual(2);
    // hot peers first even when cut
    expect(lines.filter((l) => l.startsWith('192.168.')).every((l) => /\bhot\b/.test(l))).toBe(true);
  });

  it('names and errors with escape sequences are shown escaped, never sent to the terminal', () => {
    const s = fixedSnapshot();
    (s.peers[0] as PeerRow).name = 'evil\x1b[2J\x1b]0;title\x07.example';
    const text = renderRunView(
      s,
      [{ time: t(0), event: 'failed', peer: '10.0.0.9:1', action: 'activate', error: 'bad\x1b[31m\nforged row' }],
      { width: 300, height: 40, color: false },
    );
    expect(text).not.toContain('\x1b');
    expect(text).toContain('evil\\u001b[2J');
    expect(text).toContain('bad\\u001b[31m\\u000aforged row');
  });

  it('no peers, no tip, initiator only', () => {
    const s: NodeSnapshot = { ...fixedSnapshot(), peers: [], listening: [] };
    delete s.tip;
    const text = renderRunView(s, [], { width: 100, height: 30, color: false });
    expect(text).toContain('initiator only');
    expect(text).toContain('tip: no header yet');
    expect(text).toContain('no peers yet');
    expect(text).not.toContain('recent events');
  });

  it('every event kind has its line', () => {
    const all: NodeEvent[] = [
      ...EVENTS,
      { time: t(0), event: 'inbound', peer: '10.1.1.1:5000', state: 'closed', error: 'reset' },
      { time: t(0), event: 'localRoots', groups: 2, peers: 3, reason: 'sighup' },
      { time: t(0), event: 'warning', code: 'TOPOLOGY_X', message: 'm' },
      { time: t(0), event: 'stopped', reason: 'SIGTERM' },
      { time: t(0), event: 'header', blockNo: 1, slot: 2, hash: 'cd'.repeat(32), from: 'self', minted: true },
    ];
    expect(all.map((e) => stripAnsi(eventLine(e, plain)).slice(9, 18).trim())).toEqual([
      'started',
      'promoted',
      'demoted',
      'failed',
      'churn',
      'header',
      'inbound',
      'roots',
      'warning',
      'stopped',
      'header',
    ]);
    expect(eventLine(all[6] as NodeEvent, plain)).toContain('10.1.1.1:5000 closed: reset');
    expect(eventLine(all[7] as NodeEvent, plain)).toContain('local roots: 2 groups, 3 peers (sighup)');
    expect(eventLine(all[10] as NodeEvent, plain)).toMatch(/#1 slot 2 cdcdcdcd… minted$/);
  });

  it('peer sharing, both ways: what a peer shared with us (and what was refused), what we shared', () => {
    const received: NodeEvent = {
      time: t(0),
      event: 'peersReceived',
      peer: '10.1.1.1:3001',
      asked: 8,
      peers: ['10.2.2.2:3001'],
      refused: ['127.0.0.1:3001', '192.168.1.1:3001'],
    };
    const shared: NodeEvent = { time: t(0), event: 'peersShared', peer: '10.3.3.3:3001', asked: 8, peers: [] };
    expect(stripAnsi(eventLine(received, plain)).slice(9)).toBe(
      'peers     10.1.1.1:3001 shared 3 peers with us (2 refused: loopback/private)',
    );
    expect(stripAnsi(eventLine(shared, plain)).slice(9)).toBe('peers     shared 0 peers with 10.3.3.3:3001');
  });

  it('eventsBetween: promotions, demotions and a new tip from two snapshots', () => {
    const a = fixedSnapshot(1);
    const b = fixedSnapshot(2);
    b.time = t(2);
    (b.peers[0] as PeerRow).temperature = 'warm'; // 10.0.0.10 cold -> warm
    (b.peers[1] as PeerRow).temperature = 'warm'; // 10.0.0.2 hot -> warm
    b.peers.push({ peer: '10.0.0.99:1', source: 'peer-share', temperature: 'hot', since: t(2), failCount: 0 });
    b.tip = { blockNo: 1235, slot: 98800, hash: 'ef'.repeat(32) };
    expect(eventsBetween(a, b)).toEqual([
      { time: t(2), event: 'promoted', peer: '10.0.0.99:1', from: 'cold', to: 'hot', source: 'peer-share' },
      { time: t(2), event: 'demoted', peer: '10.0.0.2:3001', from: 'hot', to: 'warm' },
      { time: t(2), event: 'promoted', peer: '10.0.0.10:3001', from: 'cold', to: 'warm', source: 'ledger' },
      { time: t(2), event: 'header', blockNo: 1235, slot: 98800, hash: 'ef'.repeat(32), from: 'tip' },
    ]);
    expect(eventsBetween(a, fixedSnapshot(2))).toEqual([]);
  });
});

/** A terminal stand-in: records every write; has a size; can be resized. */
class FakeTerminal extends Writable {
  writes: string[] = [];
  columns = 120;
  rows = 30;
  isTTY = true;
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.writes.push(chunk.toString());
    cb();
  }
}

describe('run view refresher', () => {
  it('draws in place: the first frame whole, then only the lines that changed, in synchronized output', () => {
    const term = new FakeTerminal();
    const view = createRunViewRefresher(term, { color: false });
    expect(term.writes.splice(0)).toEqual(['\x1b[?25l']); // the cursor hidden while the view is up
    const a = fixedSnapshot(1);
    view.update(a, EVENTS);
    expect(term.writes).toHaveLength(1);
    expect(term.writes[0]).toContain('spo run  pid 4242');
    const b = fixedSnapshot(2);
    (b.peers[0] as PeerRow).failCount = 3; // the cold peer's fail count
    view.update(b, EVENTS);
    expect(term.writes).toHaveLength(2);
    const patch = term.writes[1] as string;
    expect(patch.startsWith('\x1b[?2026h')).toBe(true); // the terminal shows it at once
    expect(patch).toContain('10.0.0.10:3001');
    expect(patch).not.toContain('spo run  pid'); // unchanged lines are not rewritten
    expect(patch).not.toContain('\x1b[2J'); // never a whole-screen clear
    view.update(b, EVENTS);
    expect(term.writes).toHaveLength(2); // nothing changed: nothing written
    view.persist('warning: something');
    expect(term.writes.slice(2).join('')).toContain('warning: something');
    expect(term.writes.at(-1)).toContain('spo run  pid 4242'); // the view is drawn again below
    term.columns = 60;
    term.emit('resize');
    const resized = term.writes.at(-1) as string;
    for (const l of stripAnsi(resized).split('\n')) expect(stringWidth(l)).toBeLessThanOrEqual(60);
    view.done();
    expect(term.writes.at(-1)).toBe('\x1b[?25h'); // and shown again
    const n = term.writes.length;
    view.update(a, []);
    expect(term.writes).toHaveLength(n);
    expect(term.listenerCount('resize')).toBe(0);
  });
});

describe('live table (spo run on a terminal)', () => {
  it('redraws every second and shortly after a burst of events (one frame for the burst), until stopped', () => {
    const term = new FakeTerminal();
    const clock = new Scheduler();
    let snapshots = 0;
    const snap = fixedSnapshot();
    const table = startLiveTable({
      stream: term,
      color: false,
      clock,
      snapshot: () => {
        snapshots++;
        return snap;
      },
    });
    expect(snapshots).toBe(1); // drawn at once
    expect(term.writes.join('')).toContain('spo run  pid 4242');
    clock.run({ until: 3_000 });
    expect(snapshots).toBe(4); // at 1, 2 and 3 s
    const before = term.writes.length;
    for (const e of EVENTS.slice(1, 5)) table.event(e);
    expect(snapshots).toBe(4); // not yet: bursts are coalesced
    clock.run({ until: 3_100 });
    expect(snapshots).toBe(5); // one frame for four events
    const frame = term.writes.slice(before).join('');
    expect(frame).toContain('recent events');
    expect(frame).toContain('promoted  10.0.0.2:3001 warm→hot (local-root)');
    expect(frame).toContain('churn     DecreasedActivePeers 1');
    // 80 more events: one frame again, the newest at the bottom of the log
    for (let i = 0; i < 80; i++) table.event({ time: t(i), event: 'churn', action: `step${i}`, count: i });
    clock.run({ until: 3_200 });
    expect(snapshots).toBe(6);
    expect(term.writes.at(-1)).toContain('step79 79');
    table.persist('warning: a topology finding');
    expect(term.writes.join('')).toContain('warning: a topology finding');
    table.stop();
    table.stop();
    const n = term.writes.length;
    const drawn = snapshots;
    clock.run({ until: 10_000 });
    table.event(EVENTS[0] as NodeEvent);
    clock.run({ until: 20_000 });
    expect(snapshots).toBe(drawn); // no timer left running
    expect(term.writes).toHaveLength(n);
    expect(clock.next()).toBeUndefined();
  });
});
