/**
 * What a topology means to the governor: the roots (local-root groups, public roots, bootstrap
 * peers, `useLedgerAfterSlot`) as governor inputs, and peer ids (`host:port`). The node
 * configuration's targets come from src/config. Nothing here reads a file.
 */
import type { LocalRootGroupConfig, Peer, RootPeerResult } from '../governor/types.js';
import type { AccessPoint, Topology } from '../topology/model.js';

/** A relay as a peer id: `host:port`, `[v6]:port`; an SRV name stays a bare name. */
export function relayPeer(relay: { kind: string; host: string; port?: number | undefined }): Peer {
  if (relay.kind === 'srv') return relay.host;
  const port = relay.port ?? 3001;
  return relay.kind === 'ipv6' ? `[${relay.host}]:${port}` : `${relay.host}:${port}`;
}

/** Splits a peer id into address and port (null for an SRV name). */
export function splitPeer(peer: Peer): { address: string; port: number | null } {
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(peer);
  if (v6) return { address: v6[1] as string, port: Number(v6[2]) };
  const m = /^(.*):(\d+)$/.exec(peer);
  if (m) return { address: m[1] as string, port: Number(m[2]) };
  return { address: peer, port: null };
}

/** The roots of a topology, as governor inputs. */
export interface TopologyRoots {
  localRoots: LocalRootGroupConfig[];
  publicRoots: RootPeerResult[];
  /** `bootstrapPeers` (empty: disabled). */
  bootstrapPeers: RootPeerResult[];
  /** undefined: do not use ledger peers; n: use them once the ledger tip slot >= n. */
  useLedgerAfterSlot: number | undefined;
}

/** A topology access point as a peer id (`host:port`, `[v6]:port`; an SRV name stays bare). */
export function accessPointPeer(ap: AccessPoint): Peer {
  return relayPeer({ kind: ap.kind, host: ap.address, ...(ap.port === undefined ? {} : { port: ap.port }) });
}

/**
 * The roots of a topology (any format, as src/topology parses it). Bootstrap peers are only used in
 * the bootstrap "sensitive" state (Praos, ledger state too old).
 */
export function topologyRoots(t: Topology): TopologyRoots {
  const localRoots: LocalRootGroupConfig[] = t.localRoots.map((g) => ({
    hotValency: g.hotValency,
    warmValency: g.warmValency,
    peers: g.accessPoints.map((ap) => ({
      peer: accessPointPeer(ap),
      config: {
        advertise: g.advertise,
        trustable: g.trustable,
        behindFirewall: g.behindFirewall,
        diffusionMode: g.diffusionMode,
      },
    })),
  }));
  const publicRoots: RootPeerResult[] = t.publicRoots.flatMap((g) =>
    g.accessPoints.map((ap) => ({ peer: accessPointPeer(ap), kind: 'public-root' as const, advertise: g.advertise })),
  );
  const bootstrapPeers: RootPeerResult[] = (t.bootstrapPeers ?? []).map((ap) => ({
    peer: accessPointPeer(ap),
    kind: 'bootstrap' as const,
    advertise: false,
  }));
  const lp = t.ledgerPeers;
  return {
    localRoots,
    publicRoots,
    bootstrapPeers,
    useLedgerAfterSlot: lp.mode === 'never' ? undefined : lp.mode === 'always' ? 0 : lp.slot,
  };
}
