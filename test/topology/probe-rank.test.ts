/**
 * The --probe ranking of `topology generate` on real loopback relays (src/net's startServer): the
 * candidates that answer the handshake are kept, by RTT; a closed port and a relay of another
 * network are dropped. (End to end, the registry's hygiene drops loopback relays from the draw, so
 * the ranking is tested here with real connections and the drawing in generate.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsResolver } from '../../src/dns/index.js';
import { NETWORKS } from '../../src/lib/networks.js';
import { type RunningServer, startServer } from '../../src/net/serve.js';
import { createProbeRunner, probeRtts } from '../../src/topology/checks.js';
import { type PublicRootCandidate, rankByProbe } from '../../src/topology/generate.js';
import { type AccessPoint, endpointKey } from '../../src/topology/model.js';

describe('probe ranking of public-root candidates', () => {
  let good: RunningServer;
  let other: RunningServer;
  beforeAll(async () => {
    good = await startServer({ host: '127.0.0.1', port: 0, magic: NETWORKS.mainnet.magic });
    other = await startServer({ host: '127.0.0.1', port: 0, magic: NETWORKS.preview.magic });
  });
  afterAll(async () => {
    await good?.close();
    await other?.close();
  });

  it('keeps only the relays that answer, lowest RTT first', async () => {
    const aps: AccessPoint[] = [
      { address: '127.0.0.1', port: 1, kind: 'ipv4' },
      { address: '127.0.0.1', port: other.port, kind: 'ipv4' },
      { address: '127.0.0.1', port: good.port, kind: 'ipv4' },
    ];
    const resolver = new DnsResolver({ servers: [{ host: '127.0.0.1', port: 9 }], timeoutMs: 500 });
    try {
      const runner = await createProbeRunner({
        resolver,
        family: 'both',
        magic: NETWORKS.mainnet.magic,
        stageTimeoutMs: 2000,
      });
      const rtts = await probeRtts(aps, runner);
      expect(rtts.get(endpointKey(aps[0] as AccessPoint))).toBeUndefined();
      expect(rtts.get(endpointKey(aps[1] as AccessPoint))).toBeUndefined();
      expect(rtts.get(endpointKey(aps[2] as AccessPoint))).toBeGreaterThan(0);
      const cands: PublicRootCandidate[] = aps.map((a, i) => ({ pool: `pool${i}`, stake: 0.1, accessPoint: a }));
      expect(rankByProbe(cands, rtts, 3).map((c) => c.pool)).toEqual(['pool2']);
    } finally {
      resolver.close();
    }
  });
});
