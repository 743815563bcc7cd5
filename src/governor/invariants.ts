/**
 * The invariants the reference asserts on every iteration (`assertPeerSelectionState`,
 * governor.md §2.8), as a function returning the violated ones (empty when all hold).
 * Tests and the mock environment check them after every step.
 */
import { DEFAULT_POLICY, type GovernorPolicy } from './policies.js';
import { type GovernorState, numberOfRootPeers, type Peer, saneTargets } from './types.js';

function subset(a: Iterable<Peer>, b: { has(p: Peer): boolean }, what: string, out: string[]): void {
  for (const p of a) {
    if (!b.has(p)) {
      out.push(`${what}: ${p}`);
      return;
    }
  }
}

function disjoint(a: Iterable<Peer>, b: { has(p: Peer): boolean }, what: string, out: string[]): void {
  for (const p of a) {
    if (b.has(p)) {
      out.push(`${what}: ${p}`);
      return;
    }
  }
}

export function checkInvariants(s: GovernorState, policy: GovernorPolicy = DEFAULT_POLICY): string[] {
  const out: string[] = [];
  const pr = s.publicRoots;
  const local = s.localRoots.config;
  const ready = { has: (p: Peer) => s.established.has(p) && !s.nextActivate.has(p) };
  // active ⊆ ready established ⊆ known. (Readiness is checked only for peers not being demoted:
  // an asynchronous warm demotion sets the activation time as it removes the peer from active.)
  subset(s.active, s.established, 'active ⊄ established', out);
  subset(s.active, ready, 'active peer not ready', out);
  subset(s.established.keys(), s.known, 'established ⊄ known', out);
  disjoint(local.keys(), pr.ledger, 'local ∩ ledger roots', out);
  disjoint(local.keys(), pr.bigLedger, 'local ∩ big ledger peers', out);
  disjoint(local.keys(), pr.extra, 'local ∩ extra roots', out);
  disjoint(pr.ledger, pr.bigLedger, 'ledger ∩ big ledger peers', out);
  disjoint(pr.ledger, pr.extra, 'ledger ∩ extra roots', out);
  disjoint(pr.bigLedger, pr.extra, 'big ledger ∩ extra roots', out);
  subset(local.keys(), s.known, 'local roots ⊄ known', out);
  subset(pr.ledger, s.known, 'ledger roots ⊄ known', out);
  subset(pr.bigLedger, s.known, 'big ledger peers ⊄ known', out);
  subset(pr.extra.keys(), s.known, 'extra roots ⊄ known', out);
  if (!saneTargets(s.targets, policy.sanityLimits)) out.push(`targets not sane: ${JSON.stringify(s.targets)}`);
  if (local.size > s.targets.known) out.push(`local roots (${local.size}) > known target (${s.targets.known})`);
  // established ⊆ availableToConnect: no established peer is backed off.
  disjoint(s.established.keys(), s.nextConnect, 'established peer in the backoff queue', out);
  if (s.inProgressPeerShareReqs < 0) out.push('inProgressPeerShareReqs < 0');
  // in-progress-promote-cold ⊆ cold
  disjoint(s.inProgressPromoteCold, s.established, 'promote-cold peer is established', out);
  subset(s.inProgressPromoteCold, s.known, 'promote-cold peer not known', out);
  // promote/demote-warm ⊆ warm and disjoint
  const warm = { has: (p: Peer) => s.established.has(p) && !s.active.has(p) };
  subset(s.inProgressPromoteWarm, warm, 'promote-warm peer not warm', out);
  subset(s.inProgressDemoteWarm, warm, 'demote-warm peer not warm', out);
  disjoint(s.inProgressPromoteWarm, s.inProgressDemoteWarm, 'promote-warm ∩ demote-warm', out);
  subset(s.inProgressDemoteHot, s.active, 'demote-hot peer not hot', out);
  // demote-to-cold ⊆ established, disjoint from the other in-flight sets
  subset(s.inProgressDemoteToCold, s.established, 'cooling peer not established', out);
  disjoint(s.inProgressDemoteToCold, s.inProgressPromoteCold, 'cooling ∩ promote-cold', out);
  disjoint(s.inProgressDemoteToCold, s.inProgressPromoteWarm, 'cooling ∩ promote-warm', out);
  disjoint(s.inProgressDemoteToCold, s.inProgressDemoteWarm, 'cooling ∩ demote-warm', out);
  disjoint(s.inProgressDemoteToCold, s.inProgressDemoteHot, 'cooling ∩ demote-hot', out);
  // every peer with a pending share timer is share-eligible (established, remote sharing on)
  for (const p of s.nextShare.keys()) {
    if (!s.established.get(p)?.sharing) {
      out.push(`share timer for a peer that cannot share: ${p}`);
      break;
    }
  }
  for (const p of s.availableForShare) {
    if (!s.established.get(p)?.sharing) {
      out.push(`share-available peer that cannot share: ${p}`);
      break;
    }
  }
  disjoint(s.availableForShare, s.nextShare, 'share-available peer with a pending timer', out);
  // KnownPeers container invariants (the sampling array holds exactly the known peers)
  if (s.knownList.length !== s.known.size || s.knownIndex.size !== s.known.size)
    out.push(`known-peer array out of step: ${s.knownList.length} / ${s.knownIndex.size} / ${s.known.size}`);
  for (let i = 0; i < s.knownList.length; i++) {
    const p = s.knownList[i] as Peer;
    if (s.knownIndex.get(p) !== i || !s.known.has(p)) {
      out.push(`known-peer array entry ${i} (${p}) out of step`);
      break;
    }
  }
  subset(s.nextConnect.keys(), s.known, 'backoff entry for an unknown peer', out);
  subset(s.clearFailCount.keys(), s.known, 'fail-count reset for an unknown peer', out);
  // LocalRootPeers: groups disjoint, 0 < hot <= warm <= size
  const seen = new Set<Peer>();
  for (const g of s.localRoots.groups) {
    if (!(g.hotValency > 0 && g.hotValency <= g.warmValency && g.warmValency <= g.members.length))
      out.push(`local-root group valencies: hot ${g.hotValency} warm ${g.warmValency} size ${g.members.length}`);
    for (const m of g.members) {
      if (seen.has(m)) out.push(`local-root groups overlap: ${m}`);
      seen.add(m);
      if (!local.has(m)) out.push(`local-root member without config: ${m}`);
    }
  }
  if (seen.size !== local.size) out.push('local-root config and groups differ');
  if (numberOfRootPeers(s) < 0) out.push('negative root count');
  return out;
}

/** Throws when an invariant is broken (for tests and the mock environment's strict mode). */
export function assertInvariants(s: GovernorState, policy?: GovernorPolicy): void {
  const broken = checkInvariants(s, policy);
  if (broken.length > 0) throw new Error(`governor invariant broken: ${broken.join('; ')}`);
}
