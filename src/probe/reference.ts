/**
 * The reference tip the slot lag is measured against: the highest tip among the majority of the
 * relays that reported one. A single relay far ahead (a fork, a broken clock, a liar) is not
 * followed, because a tip only counts when a strict majority of the tips lie within `windowSlots`
 * below it. Pure.
 */
import type { PeerTip, ReferenceTip } from './model.js';

/** Two minutes of slots: relays of a healthy network are within a few blocks of each other. */
export const DEFAULT_WINDOW_SLOTS = 120;

/**
 * The highest slot S of `slots` such that more than half of all the slots are in [S - window, S].
 * Undefined when there are no slots or no such cluster exists (the tips disagree too much).
 */
export function majorityTipSlot(slots: readonly number[], windowSlots = DEFAULT_WINDOW_SLOTS): number | undefined {
  const n = slots.length;
  if (n === 0) return undefined;
  const sorted = [...slots].sort((a, b) => a - b);
  const need = Math.floor(n / 2) + 1;
  let lo = 0;
  let best: number | undefined;
  for (let hi = 0; hi < n; hi++) {
    const top = sorted[hi] as number;
    while ((sorted[lo] as number) < top - windowSlots) lo++;
    if (hi - lo + 1 >= need) best = top;
  }
  return best;
}

/** The reference tip from the tips peers reported (their hashes/blockNo kept when one peer had it). */
export function referenceFromPeers(
  tips: readonly PeerTip[],
  windowSlots = DEFAULT_WINDOW_SLOTS,
): ReferenceTip | undefined {
  const slot = majorityTipSlot(
    tips.map((t) => t.slot),
    windowSlots,
  );
  if (slot === undefined) return undefined;
  const at = tips.find((t) => t.slot === slot);
  return {
    slot,
    ...(at ? { blockNo: at.blockNo, hash: at.hash } : {}),
    source: 'peers',
    from: tips.length,
  };
}

/** Slots behind the reference (never negative: a peer ahead of the reference has no lag). */
export function slotLag(tip: PeerTip, reference: ReferenceTip): number {
  return Math.max(0, reference.slot - tip.slot);
}
