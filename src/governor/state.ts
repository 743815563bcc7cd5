/**
 * Operations on the governor state's containers: the reference's `State/KnownPeers.hs`,
 * `State/EstablishedPeers.hs` and `PublicRootPeers.hs`. They change the (already copied) state
 * in place; `step` copies the caller's state once before any of them runs.
 */
import type { GovernorPolicy } from './policies.js';
import type { Rng } from './rng.js';
import type { GovernorState, KnownPeerInfo, Peer, PeerOrigin, Time } from './types.js';

/** Inserts peers into known peers; existing peers keep their counters and get the given flags. */
export function insertKnown(
  s: GovernorState,
  peer: Peer,
  flags: { sharing?: boolean | undefined; advertise?: boolean | undefined; origin: PeerOrigin },
): void {
  const old = s.known.get(peer);
  if (!old) {
    s.known.set(peer, {
      failCount: 0,
      tepid: false,
      sharing: flags.sharing,
      advertise: flags.advertise ?? false,
      successfulConnection: false,
      origin: flags.origin,
    });
    s.knownIndex.set(peer, s.knownList.length);
    s.knownList.push(peer);
    s.since.set(peer, s.now);
    return;
  }
  if (flags.sharing === undefined && flags.advertise === undefined) return;
  s.known.set(peer, {
    ...old,
    ...(flags.sharing === undefined ? {} : { sharing: flags.sharing }),
    ...(flags.advertise === undefined ? {} : { advertise: flags.advertise }),
  });
}

export function updateKnown(s: GovernorState, peer: Peer, patch: Partial<KnownPeerInfo>): void {
  const old = s.known.get(peer);
  if (old) s.known.set(peer, { ...old, ...patch });
}

/** Removes peers from known peers and from every public-root set (never called for local roots). */
export function forget(s: GovernorState, peer: Peer): void {
  s.known.delete(peer);
  const i = s.knownIndex.get(peer);
  if (i !== undefined) {
    const last = s.knownList.pop() as Peer;
    if (last !== peer) {
      s.knownList[i] = last;
      s.knownIndex.set(last, i);
    }
    s.knownIndex.delete(peer);
  }
  s.nextConnect.delete(peer);
  s.clearFailCount.delete(peer);
  s.since.delete(peer);
  s.publicRoots.ledger.delete(peer);
  s.publicRoots.bigLedger.delete(peer);
  s.publicRoots.extra.delete(peer);
}

/** Local roots and extra peers (topology public roots, bootstrap peers) are never forgotten on failures. */
export function isUnforgettable(s: GovernorState, peer: Peer): boolean {
  return s.localRoots.config.has(peer) || s.publicRoots.extra.has(peer);
}

/**
 * `reportFailures`: fail count++, next connect time from the caller's delay function (given the new
 * count), pending fail-count reset cancelled. A peer whose stored count is already at the retry
 * limit is forgotten instead (the 6th consecutive failure), unless unforgettable. Returns whether
 * the peer was forgotten. A peer no longer known (it raced with forgetting) is ignored.
 */
export function reportFailure(
  s: GovernorState,
  peer: Peer,
  policy: GovernorPolicy,
  delay: (failCount: number) => number,
): boolean {
  const info = s.known.get(peer);
  if (!info) return false;
  if (info.failCount >= policy.maxConnectionRetries && !isUnforgettable(s, peer)) {
    forget(s, peer);
    return true;
  }
  const failCount = info.failCount + 1;
  s.known.set(peer, { ...info, failCount });
  s.clearFailCount.delete(peer);
  armTimer(s, s.nextConnect, peer, s.now + delay(failCount));
  return false;
}

/**
 * `setCurrentTime` of KnownPeers and EstablishedPeers: release due timers. (Called before every
 * decision: plain loops over the keys, deleting as they go, which a Map allows; neither an entry
 * pair per timer, as `for...of` over entries made, nor a callback closure per map and call, as
 * `forEach` did.)
 */
export function setCurrentTime(s: GovernorState, now: Time): void {
  s.now = now;
  const { nextConnect, clearFailCount, nextShare, nextActivate } = s;
  const entries = nextConnect.size + clearFailCount.size + nextShare.size + nextActivate.size;
  // Nothing due yet: skip the walk. An entry set without `armTimer` shows as a larger count.
  if (now < s.timersDueFrom && entries <= s.timersSeen) {
    s.timersSeen = entries;
    return;
  }
  let next = Number.POSITIVE_INFINITY;
  for (const p of nextConnect.keys()) {
    const t = nextConnect.get(p) as Time;
    if (t <= now) nextConnect.delete(p);
    else if (t < next) next = t;
  }
  for (const p of clearFailCount.keys()) {
    const t = clearFailCount.get(p) as Time;
    if (t <= now) {
      clearFailCount.delete(p);
      updateKnown(s, p, { failCount: 0 });
    } else if (t < next) next = t;
  }
  for (const p of nextShare.keys()) {
    const t = nextShare.get(p) as Time;
    if (t <= now) {
      nextShare.delete(p);
      s.availableForShare.add(p);
    } else if (t < next) next = t;
  }
  for (const p of nextActivate.keys()) {
    const t = nextActivate.get(p) as Time;
    if (t <= now) nextActivate.delete(p);
    else if (t < next) next = t;
  }
  s.timersDueFrom = next;
  s.timersSeen = nextConnect.size + clearFailCount.size + nextShare.size + nextActivate.size;
}

/** Sets one of the four timer maps' entry for `peer` (and keeps `setCurrentTime`'s shortcut true). */
export function armTimer(
  s: GovernorState,
  timers: GovernorState['nextConnect' | 'clearFailCount' | 'nextShare' | 'nextActivate'],
  peer: Peer,
  at: Time,
): void {
  const had = timers.has(peer);
  timers.set(peer, at);
  if (at < s.timersDueFrom) s.timersDueFrom = at;
  if (!had) s.timersSeen++;
}

/** Adds an established peer; its first peer-share request waits for the activation delay. */
export function insertEstablished(s: GovernorState, peer: Peer, sharing: boolean, policy: GovernorPolicy): void {
  s.established.set(peer, { sharing, since: s.now });
  s.since.set(peer, s.now);
  s.availableForShare.delete(peer);
  s.nextActivate.delete(peer);
  if (sharing && policy.peerSharing) armTimer(s, s.nextShare, peer, s.now + policy.peerShareActivationDelayMs);
  else s.nextShare.delete(peer);
}

/** Removes a peer from established (and active) peers and their timers. */
export function deleteEstablished(s: GovernorState, peer: Peer): void {
  s.established.delete(peer);
  s.active.delete(peer);
  s.availableForShare.delete(peer);
  s.nextShare.delete(peer);
  s.nextActivate.delete(peer);
  if (s.known.has(peer)) s.since.set(peer, s.now);
  else s.since.delete(peer);
}

/**
 * A known peer's fail count as of `now`: a reset due by then counts as done (the governor applies
 * resets at its next step, and does not wake up for them). For observers reading the state
 * between steps (peer tables, snapshots).
 */
export function failCountAt(s: GovernorState, peer: Peer, now: Time): number {
  const reset = s.clearFailCount.get(peer);
  return reset !== undefined && reset <= now ? 0 : (s.known.get(peer)?.failCount ?? 0);
}

export function isAvailableToConnect(s: GovernorState, peer: Peer): boolean {
  return s.known.has(peer) && !s.nextConnect.has(peer);
}

/** Ready established peers may be activated: not waiting for an activation time. */
export function isReady(s: GovernorState, peer: Peer): boolean {
  return s.established.has(peer) && !s.nextActivate.has(peer);
}

/** Below this many known peers, picks always scan every candidate (exactly the reference's behaviour). */
export const SAMPLING_THRESHOLD = 4096;

/**
 * Draws `n` distinct known peers accepted by `accept`, uniformly at random, by rejection sampling
 * over the known-peer array (a bounded number of draws). Returns undefined when that many were not
 * found; the caller then scans every known peer. Either way the result is a uniform random subset
 * of the candidates, so a pick among 100,000 peers does not cost a scan of all of them.
 */
export function sampleKnown(s: GovernorState, n: number, rng: Rng, accept: (p: Peer) => boolean): Peer[] | undefined {
  const list = s.knownList;
  if (n <= 0 || list.length < SAMPLING_THRESHOLD) return undefined;
  const picked = new Set<Peer>();
  const tries = 4 * n + 16;
  for (let t = 0; t < tries && picked.size < n; t++) {
    const p = list[rng.int(list.length)];
    if (p !== undefined && !picked.has(p) && s.known.has(p) && accept(p)) picked.add(p);
  }
  return picked.size === n ? [...picked] : undefined;
}

/** The earliest of the given times, or undefined. */
export function earliest(times: Iterable<Time | undefined>): Time | undefined {
  let min: Time | undefined;
  for (const t of times) min = earlier(min, t);
  return min;
}

/**
 * The earlier of a running minimum and a time (undefined counts as none): guards keep their skip's
 * wake-up with it as they go, instead of collecting the times in an array first.
 */
export function earlier(min: Time | undefined, t: Time | undefined): Time | undefined {
  return t !== undefined && (min === undefined || t < min) ? t : min;
}

export function countIn(set: ReadonlySet<Peer> | ReadonlyMap<Peer, unknown>, peers: Iterable<Peer>): number {
  let n = 0;
  for (const p of peers) if (set.has(p)) n++;
  return n;
}
