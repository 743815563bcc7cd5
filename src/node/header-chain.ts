/**
 * The live node's best header chain (issue 13's header relay): headers its hot peers' chain-sync
 * clients receive, linked by hash, the best chain among them served to downstream peers by the
 * chain-sync responder (a `ChainProvider`, as `spo serve` serves its synthetic chain).
 *
 * - A header joins only when its `prevHash` is a header we hold; the very first one received on an
 *   empty chain becomes the anchor. A header whose parent we do not hold yet waits in a small
 *   orphan pool (a peer ahead of the others delivers children before the parents reach us) and
 *   joins as soon as its parent does.
 * - Best chain = most blocks (highest block number); on a tie the one we had first stays.
 * - Forks are kept while their fork point is inside the window (default k = 2160 blocks on the best
 *   chain); the anchor moves up as the best chain grows and whatever does not descend from it goes.
 * - When the best chain switches fork, every follower (a downstream session's read pointer) past
 *   the fork point gets MsgRollBackward to it and then rolls forward along the new best chain.
 *
 * spo validates no ledger rules: no signatures, VRF, KES or body checks. A header is taken when it
 * decodes, links to one we hold and its block number is its parent's plus one.
 *
 * Pure: no clock (arrival times are given), no I/O. It imports src/net for the header codec and
 * the chain-sync types (test/node/purity.test.ts lists it among the files allowed to).
 */
import type { Millis } from '../lib/clock.js';
import type { Term } from '../net/cbor.js';
import { type ChainBlock, makeHeaderBytes, SYNTHETIC_ERA } from '../net/chain.js';
import type { Point, Tip } from '../net/codec/point.js';
import { blake2b256, type HeaderInfo, wrapByronHeader, wrapHeader } from '../net/header.js';
import type { ChainSyncEvent } from '../net/protocols/chain-sync/client.js';
import type { ChainFollower, ChainProvider, ChainUpdate } from '../net/protocols/chain-sync/source.js';

/** The security parameter k of mainnet and the public testnets: the deepest roll back allowed. */
export const DEFAULT_WINDOW = 2160;
/** Headers waiting for their parent, at most (the oldest goes first). */
export const DEFAULT_MAX_ORPHANS = 256;

/** A peer's address (`IP:PORT`); the chain only uses it as a name. */
export type PeerName = string;

/** A block on the chain, with who delivered its header first and when. */
export interface RelayedBlock extends ChainBlock {
  /** The peer that delivered it first; undefined when this node minted it. */
  readonly from: PeerName | undefined;
  /** Arrival of that first delivery (or the mint). */
  readonly at: Millis;
}

/** What one chain-sync event did to the chain. */
export interface ReceiveResult {
  /**
   * - `new`: first arrival; the header joined the chain (the peer is to be credited).
   * - `known`: we had it already (on the chain or waiting for its parent).
   * - `orphan`: first arrival, but its parent is not one we hold: it waits in the orphan pool.
   * - `stale`: unconnected and no newer than the anchor: it can never join; dropped.
   * - `invalid`: its block number is not its parent's plus one; dropped.
   * - `rollback`: a MsgRollBackward (the peer's read position moved).
   */
  status: 'new' | 'known' | 'orphan' | 'stale' | 'invalid' | 'rollback';
  /**
   * Headers that joined the chain through this event, in the order they joined: the one received
   * and any orphans waiting on it. Each carries its first deliverer and arrival time (an orphan's
   * may be another peer's, earlier): the peer metrics credit them.
   */
  joined: RelayedBlock[];
  /** The best chain changed (its tip moved). */
  change: BestChainChange | undefined;
}

/** A change of the best chain, for the listeners (the live table's log, the JSON lines, metrics). */
export interface BestChainChange {
  tip: RelayedBlock;
  /** Where the new best chain leaves the old one (the old tip when it only grew). */
  forkPoint: Point;
  /** Blocks of the old best chain no longer on it (0 when it only grew). */
  rolledBack: number;
  /** Blocks of the new best chain after the fork point, oldest first (the last is `tip`). */
  added: RelayedBlock[];
}

export interface HeaderChainOptions {
  /** Blocks kept on the best chain, and so the deepest fork followed (default 2160). */
  window?: number;
  /** Headers kept waiting for their parent (default 256). */
  maxOrphans?: number;
}

/** One header we hold. `onBest` and `gone` are kept current so followers can tell where they are. */
/** A header held (on the chain or waiting): its own bytes and hash, found by slot without hashing. */
interface Held {
  readonly bytes: Uint8Array;
  hash: Uint8Array;
}

interface Node extends RelayedBlock, Held {
  readonly hex: string;
  readonly parent: Node | undefined;
  /** Position on its branch: the anchor is `height` 0 when first set, children one more. */
  readonly height: number;
  readonly children: Node[];
  onBest: boolean;
  /** Dropped from the chain (pruned out of the window). */
  gone: boolean;
}

interface Orphan extends Held {
  info: HeaderInfo;
  hex: string;
  prevHex: string;
  from: PeerName | undefined;
  at: Millis;
}

interface FollowerState {
  /** The last header sent; null: nothing yet (next is the anchor). */
  pos: Node | null;
  /** A MsgRollBackward to send first (null = to origin); undefined: none pending. */
  rollback: Point | undefined;
  wakers: Set<() => void>;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const pointOf = (n: Node): Point => ({ slot: n.slot, hash: n.hash });

/** The wrapped header term (as MsgRollForward carries it) of a received header, with its own bytes. */
function wrapped(info: HeaderInfo, bytes: Uint8Array): Term {
  if (info.era === 0) return wrapByronHeader(info.byron?.kind ?? 'main', info.byron?.sizeHint ?? 0, bytes);
  return wrapHeader(info.era, bytes);
}

export class HeaderChain implements ChainProvider {
  readonly window: number;
  private readonly maxOrphans: number;
  private readonly nodes = new Map<string, Node>();
  /** The best chain, anchor first; `best[i].height === best[0].height + i`. */
  private best: Node[] = [];
  /** Orphans by their own hash, and by the hash of the parent they wait for. */
  private readonly orphans = new Map<string, Orphan>();
  private readonly waiting = new Map<string, Orphan[]>();
  private readonly followers = new Set<FollowerState>();
  private readonly listeners = new Set<(c: BestChainChange) => void>();
  /**
   * Every header held (chain and orphans) by slot: every hot peer sends the same header, and
   * comparing its bytes with the few held at its slot spares hashing all but the first copy
   * (blake2b in JavaScript costs ten times the decoding).
   */
  private readonly bySlot = new Map<number, Held[]>();
  /** Each peer's read position: the last header it sent or where it rolled back to. */
  private readonly positions = new Map<PeerName, Point>();

  constructor(o: HeaderChainOptions = {}) {
    this.window = Math.max(1, Math.floor(o.window ?? DEFAULT_WINDOW));
    this.maxOrphans = Math.max(0, Math.floor(o.maxOrphans ?? DEFAULT_MAX_ORPHANS));
  }

  // -------------------------------------------------------------------------------------------
  // Reading

  tip(): Tip {
    const t = this.best[this.best.length - 1];
    return t ? { point: pointOf(t), blockNo: t.blockNo } : { point: null, blockNo: 0 };
  }

  /** The tip block, undefined while the chain is empty. */
  tipBlock(): RelayedBlock | undefined {
    return this.best[this.best.length - 1];
  }

  /** The best chain, anchor first (a copy). */
  bestChain(): RelayedBlock[] {
    return [...this.best];
  }

  /** Headers held, on every fork (orphans not counted). */
  get size(): number {
    return this.nodes.size;
  }

  get orphanCount(): number {
    return this.orphans.size;
  }

  /** Whether a header (by hash) is on the chain, any fork. */
  has(hash: Uint8Array): boolean {
    return this.nodes.has(hex(hash));
  }

  /** The read position a peer's chain-sync last reported (undefined: none yet). */
  position(peer: PeerName): Point | undefined {
    return this.positions.get(peer);
  }

  /** Forgets a peer's read position (its chain-sync ended). */
  forget(peer: PeerName): void {
    this.positions.delete(peer);
  }

  /**
   * Points of the best chain for MsgFindIntersect, newest first: the tip, then 1, 2, 4, 8, ...
   * blocks back, ending at the anchor. Empty while the chain is empty.
   */
  points(): Point[] {
    const n = this.best.length;
    if (n === 0) return [];
    const out: Point[] = [];
    let back = 0;
    let step = 1;
    while (back < n - 1) {
      out.push(pointOf(this.best[n - 1 - back] as Node));
      back += step;
      if (back > 1) step *= 2;
    }
    out.push(pointOf(this.best[0] as Node));
    return out;
  }

  /** Calls `listener` after every change of the best chain; returns a canceller. */
  onChange(listener: (c: BestChainChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // -------------------------------------------------------------------------------------------
  // Writing

  /** Takes one event of a peer's chain-sync client, received at `at`. */
  receive(peer: PeerName, ev: ChainSyncEvent, at: Millis): ReceiveResult {
    if (ev.type === 'RollBackward') {
      this.positions.set(peer, ev.point);
      return { status: 'rollback', joined: [], change: undefined };
    }
    const info = ev.header;
    const held = this.heldAt(info.slot, info.headerBytes);
    if (held) {
      this.positions.set(peer, { slot: info.slot, hash: held.hash });
      return { status: 'known', joined: [], change: undefined };
    }
    const r = this.add(info, peer, at);
    this.positions.set(peer, { slot: info.slot, hash: info.hash });
    return r;
  }

  private heldAt(slot: number, bytes: Uint8Array): Held | undefined {
    const list = this.bySlot.get(slot);
    if (!list) return undefined;
    for (const h of list) if (Buffer.compare(h.bytes, bytes) === 0) return h;
    return undefined;
  }

  private index(slot: number, h: Held): void {
    const list = this.bySlot.get(slot);
    if (list) list.push(h);
    else this.bySlot.set(slot, [h]);
  }

  private unindex(slot: number, h: Held): void {
    const list = this.bySlot.get(slot);
    if (!list) return;
    const i = list.indexOf(h);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.bySlot.delete(slot);
  }

  /**
   * Extends the best chain with a synthetic header of `issuer` (a block producer's own block):
   * different issuers make different headers, so two producers minting on the same tip fork.
   * `slot` must be after the tip's.
   */
  mint(slot: number, issuer: number, at: Millis = 0): RelayedBlock {
    const t = this.best[this.best.length - 1];
    if (t && slot <= t.slot) throw new RangeError(`mint: slot ${slot} is not after the tip's slot ${t.slot}`);
    const blockNo = t ? t.blockNo + 1 : 1;
    const bytes = makeHeaderBytes(blockNo, slot, t ? t.hash : null, issuer);
    const hash = blake2b256(bytes);
    const info: HeaderInfo = {
      era: SYNTHETIC_ERA,
      eraName: 'conway',
      slot,
      blockNo,
      hash,
      prevHash: t ? t.hash : null,
      headerBytes: bytes,
    };
    const r = this.add(info, undefined, at);
    const minted = this.nodes.get(hex(hash));
    if (!minted || r.status !== 'new') throw new Error('mint: the minted header did not join the chain');
    return minted;
  }

  private add(info: HeaderInfo, from: PeerName | undefined, at: Millis): ReceiveResult {
    const h = hex(info.hash);
    if (this.nodes.has(h) || this.orphans.has(h)) return { status: 'known', joined: [], change: undefined };
    const anchor = this.best[0];
    if (!anchor) {
      const node = this.attach(info, h, undefined, from, at);
      return { status: 'new', joined: [node], change: this.switchTo(node) };
    }
    const prevHex = info.prevHash ? hex(info.prevHash) : '';
    const parent = info.prevHash ? this.nodes.get(prevHex) : undefined;
    if (!parent) {
      if (info.blockNo <= anchor.blockNo || !info.prevHash) return { status: 'stale', joined: [], change: undefined };
      this.keepOrphan({ info, hex: h, prevHex, from, at });
      return { status: this.orphans.has(h) ? 'orphan' : 'stale', joined: [], change: undefined };
    }
    if (!followsParent(info, parent)) return { status: 'invalid', joined: [], change: undefined };
    const joined: Node[] = [this.attach(info, h, parent, from, at)];
    // orphans waiting on what just joined, breadth first
    for (let i = 0; i < joined.length; i++) {
      const p = joined[i] as Node;
      const kids = this.waiting.get(p.hex);
      if (!kids) continue;
      this.waiting.delete(p.hex);
      for (const o of kids) {
        this.orphans.delete(o.hex);
        this.unindex(o.info.slot, o);
        if (this.nodes.has(o.hex) || !followsParent(o.info, p)) continue;
        joined.push(this.attach(o.info, o.hex, p, o.from, o.at));
      }
    }
    // best = most blocks; among the ones that joined, the first with the most
    let cand = joined[0] as Node;
    for (const n of joined) if (n.blockNo > cand.blockNo) cand = n;
    const tip = this.best[this.best.length - 1] as Node;
    const change = cand.blockNo > tip.blockNo ? this.switchTo(cand) : undefined;
    return { status: 'new', joined: joined.filter((n) => !n.gone), change };
  }

  private attach(info: HeaderInfo, h: string, parent: Node | undefined, from: PeerName | undefined, at: Millis): Node {
    // our own copy of the bytes: the decoder's are views into the receive buffer
    const bytes = Uint8Array.from(info.headerBytes);
    const node: Node = {
      slot: info.slot,
      blockNo: info.blockNo,
      hash: Uint8Array.from(info.hash),
      header: wrapped(info, bytes),
      bytes,
      from,
      at,
      hex: h,
      parent,
      height: parent ? parent.height + 1 : 0,
      children: [],
      onBest: false,
      gone: false,
    };
    parent?.children.push(node);
    this.nodes.set(h, node);
    this.index(node.slot, node);
    return node;
  }

  private keepOrphan(o: Omit<Orphan, 'bytes' | 'hash'>): void {
    if (this.maxOrphans === 0) return;
    const bytes = Uint8Array.from(o.info.headerBytes);
    const info: HeaderInfo = {
      era: o.info.era,
      eraName: o.info.eraName,
      slot: o.info.slot,
      blockNo: o.info.blockNo,
      hash: Uint8Array.from(o.info.hash),
      prevHash: o.info.prevHash ? Uint8Array.from(o.info.prevHash) : null,
      headerBytes: bytes,
      ...(o.info.byron ? { byron: o.info.byron } : {}),
    };
    const kept: Orphan = { ...o, info, bytes, hash: info.hash };
    this.orphans.set(o.hex, kept);
    this.index(info.slot, kept);
    const list = this.waiting.get(o.prevHex);
    if (list) list.push(kept);
    else this.waiting.set(o.prevHex, [kept]);
    while (this.orphans.size > this.maxOrphans) {
      const oldest = this.orphans.values().next().value as Orphan;
      this.dropOrphan(oldest);
    }
  }

  private dropOrphan(o: Orphan): void {
    this.orphans.delete(o.hex);
    this.unindex(o.info.slot, o);
    const list = this.waiting.get(o.prevHex);
    if (!list) return;
    const i = list.indexOf(o);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.waiting.delete(o.prevHex);
  }

  /** Makes `tip` the best chain's tip: moves the followers, prunes the window, tells the listeners. */
  private switchTo(tip: Node): BestChainChange {
    const old = this.best[this.best.length - 1];
    // the new branch back to the old best chain (or to the root, for the very first header)
    const added: Node[] = [];
    let n: Node | undefined = tip;
    while (n && !n.onBest) {
      added.push(n);
      n = n.parent;
    }
    added.reverse();
    const fork = n;
    const forkIndex = fork ? fork.height - (this.best[0] as Node).height : -1;
    const removed = this.best.splice(forkIndex + 1);
    for (const r of removed) r.onBest = false;
    for (const a of added) {
      a.onBest = true;
      this.best.push(a);
    }
    // followers past the fork point go back to it
    if (removed.length > 0) {
      for (const f of this.followers) {
        if (f.pos && !f.pos.onBest && !f.pos.gone) {
          f.pos = fork ?? null;
          f.rollback = fork ? pointOf(fork) : null;
        }
      }
    }
    this.prune();
    const change: BestChainChange = {
      tip,
      forkPoint: fork ? pointOf(fork) : old ? pointOf(old) : null,
      rolledBack: removed.length,
      added,
    };
    for (const f of this.followers) {
      const wakers = [...f.wakers];
      f.wakers.clear();
      for (const w of wakers) w();
    }
    for (const l of [...this.listeners]) l(change);
    return change;
  }

  /** Keeps `window` blocks on the best chain; drops what does not descend from the new anchor. */
  private prune(): void {
    while (this.best.length > this.window) {
      const old = this.best.shift() as Node;
      const next = this.best[0] as Node;
      this.drop(old, next);
    }
    // orphans that can no longer join (older than the anchor)
    const anchor = this.best[0];
    if (anchor && this.orphans.size > 0) {
      for (const o of [...this.orphans.values()]) if (o.info.blockNo <= anchor.blockNo) this.dropOrphan(o);
    }
  }

  /** Drops `n` and every descendant except the subtree of `keep`. */
  private drop(n: Node, keep: Node): void {
    const stack: Node[] = [n];
    while (stack.length > 0) {
      const x = stack.pop() as Node;
      x.gone = true;
      x.onBest = false;
      this.nodes.delete(x.hex);
      this.unindex(x.slot, x);
      for (const c of x.children) if (c !== keep) stack.push(c);
      x.children.length = 0;
    }
    // the new anchor no longer has a parent to point to (let the old one be collected)
    (keep as { parent: Node | undefined }).parent = undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Serving (ChainProvider)

  /**
   * A read pointer for one chain-sync session: a roll back to origin first, then the best chain
   * from the anchor (origin stands for "as far back as we hold"); past a fork switch, a roll back
   * to the fork point and the new branch. A session that falls more than the window behind
   * continues at the anchor (the blocks in between are gone).
   */
  follower(): ChainFollower {
    const f: FollowerState = { pos: null, rollback: null, wakers: new Set() };
    this.followers.add(f);
    return {
      intersect: (points) => {
        for (const p of points) {
          if (p === null) {
            f.pos = null;
            f.rollback = null;
            return { point: null };
          }
          const n = this.nodes.get(hex(p.hash));
          if (n?.onBest && n.slot === p.slot) {
            f.pos = n;
            f.rollback = pointOf(n);
            return { point: pointOf(n) };
          }
        }
        return undefined;
      },
      next: (): ChainUpdate | undefined => {
        if (f.rollback !== undefined) {
          const point = f.rollback;
          f.rollback = undefined;
          return { type: 'RollBackward', point };
        }
        const base = this.best[0];
        if (!base) return undefined;
        let i = f.pos === null ? 0 : f.pos.height - base.height + 1;
        if (i < 0) i = 0; // fell out of the window
        const next = this.best[i];
        if (!next) return undefined;
        f.pos = next;
        return { type: 'RollForward', header: next.header };
      },
      onChange: (wake) => {
        f.wakers.add(wake);
        return () => f.wakers.delete(wake);
      },
      close: () => {
        f.wakers.clear();
        this.followers.delete(f);
      },
    };
  }

  /**
   * What must hold between changes (for the tests; empty when all is well): the best chain linked
   * by hash and flagged, every header held descending from the anchor and within the window's
   * reach, the slot index holding exactly the headers and orphans held, no follower past the tip.
   */
  invariantErrors(): string[] {
    const errors: string[] = [];
    const anchor = this.best[0];
    if (this.best.length > this.window) errors.push(`best chain ${this.best.length} > window ${this.window}`);
    for (const [i, n] of this.best.entries()) {
      if (!n.onBest || n.gone) errors.push(`best[${i}] not flagged on the best chain`);
      if (i > 0 && n.parent !== this.best[i - 1]) errors.push(`best[${i}] does not link to best[${i - 1}]`);
    }
    let onBest = 0;
    for (const n of this.nodes.values()) {
      if (n.onBest) onBest++;
      let x: Node = n;
      while (x.parent) x = x.parent;
      if (x !== anchor) errors.push(`${n.hex} does not descend from the anchor`);
      if (this.heldAt(n.slot, n.bytes) !== n) errors.push(`${n.hex} not in the slot index`);
    }
    if (onBest !== this.best.length) errors.push(`${onBest} flagged on the best chain, ${this.best.length} on it`);
    for (const o of this.orphans.values())
      if (this.heldAt(o.info.slot, o.bytes) !== o) errors.push(`orphan ${o.hex} not indexed`);
    let indexed = 0;
    for (const list of this.bySlot.values()) indexed += list.length;
    if (indexed !== this.nodes.size + this.orphans.size)
      errors.push(`slot index holds ${indexed}, ${this.nodes.size} headers and ${this.orphans.size} orphans held`);
    for (const f of this.followers) {
      if (f.pos && !f.pos.gone && !f.pos.onBest) errors.push('a follower sits off the best chain');
    }
    return errors;
  }

  /** Sessions being served (for tests and the node's counters). */
  get followerCount(): number {
    return this.followers.size;
  }
}

/** A child's block number is its parent's plus one (a Byron boundary block repeats its parent's). */
function followsParent(info: HeaderInfo, parent: Node): boolean {
  if (info.byron?.kind === 'ebb') return info.blockNo === parent.blockNo;
  return info.blockNo === parent.blockNo + 1 && info.slot >= parent.slot;
}
