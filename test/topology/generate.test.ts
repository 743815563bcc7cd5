/**
 * Generation: producer and relay files for every network lint clean (public roots drawn from the
 * embedded registries); a property shows a producer file never contains public roots, ledger
 * peers, bootstrap peers or an advertised address whatever the inputs; the public-root draw spreads
 * over pools and never picks unusable or own relays; the wizard is driven programmatically, both
 * through a scripted Prompter and through the real @inquirer prompts on a test screen.
 */
import { screen } from '@inquirer/testing/vitest';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/governor/rng.js';
import { parseEndpoint } from '../../src/lib/address.js';
import { NETWORK_NAMES, selectNetwork } from '../../src/lib/networks.js';
import { loadRegistry } from '../../src/registry/index.js';
import type { Pool } from '../../src/registry/model.js';
import {
  accessPointFromText,
  choosePublicRoots,
  generateTopology,
  nodeConfigKeys,
  rankByProbe,
} from '../../src/topology/generate.js';
import { lintTopology } from '../../src/topology/lint.js';
import { type AccessPoint, endpointKey } from '../../src/topology/model.js';
import { parseTopology } from '../../src/topology/parse.js';
import { inquirerPrompter, missingFlags, type Prompter, runWizard } from '../../src/topology/wizard.js';
import { writeTopology } from '../../src/topology/write.js';

const ap = (s: string): AccessPoint => accessPointFromText(s, 3001, parseEndpoint);
const RELAYS = ['5.9.1.1:3001', 'relay2.example.org:6000', '[2a01:4f8::1]:3001'].map(ap);
const PRODUCER = [ap('10.0.0.5:3001')];

function lintClean(text: string, role: 'relay' | 'producer'): void {
  const r = lintTopology(parseTopology(JSON.parse(text), 'generated'), { role, producers: PRODUCER });
  expect(r.findings.filter((f) => f.severity !== 'info')).toEqual([]);
}

describe('generated files for every network lint clean', () => {
  for (const name of NETWORK_NAMES) {
    it(`${name}: producer and relay`, async () => {
      const network = selectNetwork(name, undefined);
      const producer = generateTopology({ role: 'producer', producers: [], relays: RELAYS, network: name });
      lintClean(writeTopology(producer), 'producer');
      let publicRoots: AccessPoint[] = [];
      if (name !== 'sanchonet') {
        const reg = await loadRegistry({ source: 'embedded', network });
        publicRoots = choosePublicRoots(reg.pools, 10, createRng(7), {
          exclude: [...RELAYS, ...PRODUCER],
          defaultPort: 3001,
        }).map((c) => c.accessPoint);
        expect(publicRoots.length).toBe(10);
      }
      const relay = generateTopology({
        role: 'relay',
        producers: PRODUCER,
        relays: RELAYS.slice(1),
        network: name,
        publicRoots,
        peerSnapshotFile: 'peer-snapshot.json',
      });
      const text = writeTopology(relay);
      lintClean(text, 'relay');
      const doc = JSON.parse(text) as {
        localRoots: Array<{ advertise: boolean; trustable: boolean }>;
        useLedgerAfterSlot: number;
      };
      expect(doc.localRoots.map((g) => [g.advertise, g.trustable])).toEqual([
        [false, true],
        [false, true],
      ]);
      expect(doc.useLedgerAfterSlot).toBeGreaterThanOrEqual(0);
    });
  }

  it('a custom network gets ledger peers from slot 0 and no bootstrap peers', () => {
    const t = generateTopology({ role: 'relay', producers: PRODUCER, relays: [], network: 'custom' });
    expect(t.bootstrapPeers).toBeNull();
    expect(t.useLedgerAfterSlot).toBe(0);
    lintClean(writeTopology(t), 'relay');
  });

  it('refuses inputs that cannot make a sound file', () => {
    expect(() => generateTopology({ role: 'producer', producers: [], relays: [], network: 'mainnet' })).toThrow(
      /relays/,
    );
    expect(() => generateTopology({ role: 'relay', producers: [], relays: RELAYS, network: 'mainnet' })).toThrow(
      /producer/,
    );
    expect(() =>
      generateTopology({ role: 'relay', producers: PRODUCER, relays: [...RELAYS, ...PRODUCER], network: 'mainnet' }),
    ).toThrow(/both as producer and as relay/);
  });

  it('prints the node configuration keys: peer sharing off on the producer', () => {
    const t = generateTopology({ role: 'producer', producers: [], relays: RELAYS, network: 'mainnet' });
    const keys = nodeConfigKeys('producer', t);
    expect(keys.PeerSharing).toBe(false);
    expect(keys.TargetNumberOfActivePeers).toBe(3);
    expect(keys.TargetNumberOfKnownBigLedgerPeers).toBe(0);
    expect(nodeConfigKeys('relay', t).PeerSharing).toBe(true);
  });
});

const hostArb = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.domain().filter((d) => d.length < 200),
  fc.domain().map((d) => `_cardano._tcp.${d}`.slice(0, 200)),
);
const apArb: fc.Arbitrary<AccessPoint> = fc.tuple(hostArb, fc.integer({ min: 1, max: 65535 })).map(([h, p]) => {
  if (h.startsWith('_')) return { address: h, kind: 'srv' as const };
  const kind = h.includes(':') ? 'ipv6' : /^[\d.]+$/.test(h) ? 'ipv4' : 'dns';
  return { address: h, port: p, kind } as AccessPoint;
});

describe('a producer file is safe whatever the inputs (property)', () => {
  it('never has public roots, ledger peers, bootstrap peers or an advertised address', () => {
    fc.assert(
      fc.property(
        fc.array(apArb, { minLength: 1, maxLength: 12 }),
        fc.array(apArb, { maxLength: 5 }),
        fc.array(apArb, { maxLength: 5 }),
        fc.constantFrom(...NETWORK_NAMES, 'custom' as const),
        fc.option(fc.string(), { nil: undefined }),
        (relays, producers, publicRoots, network, snapshot) => {
          const t = generateTopology({
            role: 'producer',
            relays,
            producers,
            publicRoots,
            network,
            peerSnapshotFile: snapshot,
          });
          const doc = JSON.parse(writeTopology(t)) as Record<string, unknown>;
          const re = parseTopology(doc, 'p');
          expect(re.topology.publicRoots.flatMap((g) => g.accessPoints)).toEqual([]);
          expect(re.topology.ledgerPeers).toEqual({ mode: 'never' });
          expect(doc.useLedgerAfterSlot).toBe(-1);
          expect(re.topology.bootstrapPeers).toBeNull();
          expect(doc.peerSnapshotFile).toBeUndefined();
          expect(re.topology.localRoots.every((g) => !g.advertise && g.trustable)).toBe(true);
          expect(re.topology.publicRoots.every((g) => !g.advertise)).toBe(true);
          const lint = lintTopology(re, { role: 'producer' });
          expect(lint.findings.filter((f) => f.code.startsWith('TOPOLOGY_PRODUCER_'))).toEqual([]);
        },
      ),
      { seed: 20261123, numRuns: 300 },
    );
  });
});

describe('public roots by ledger-peer picking', () => {
  const pools: Pool[] = Array.from({ length: 40 }, (_, i) => ({
    id: `pool${i}`,
    stake: (i + 1) / 820,
    status: 'registered',
    relays: [
      { kind: 'dns', host: `r${i}a.example.org`, port: 3001, flags: [] },
      { kind: 'ipv4', host: `10.0.${i}.1`, port: 3001, flags: ['private'] },
      ...(i % 5 === 0 ? [{ kind: 'srv' as const, host: `pool${i}.example.org`, flags: [] }] : []),
    ],
  }));

  it('draws distinct pools, never an unusable relay or one of ours, reproducibly from the seed', () => {
    const own = [ap('r3a.example.org:3001')];
    const a = choosePublicRoots(pools, 15, createRng(1), { exclude: own, defaultPort: 3001 });
    const b = choosePublicRoots(pools, 15, createRng(1), { exclude: own, defaultPort: 3001 });
    expect(a).toEqual(b);
    expect(a.length).toBe(15);
    expect(new Set(a.map((c) => c.pool)).size).toBe(15);
    expect(a.map((c) => c.pool)).not.toContain('pool3');
    expect(a.every((c) => !c.accessPoint.address.startsWith('10.'))).toBe(true);
    // SRV relays become prefixed SRV access points (topology SRV names are used as written).
    for (const c of a.filter((x) => x.accessPoint.kind === 'srv'))
      expect(c.accessPoint.address.startsWith('_cardano._tcp.')).toBe(true);
  });

  it('stops when there are fewer pools than asked', () => {
    expect(choosePublicRoots(pools.slice(0, 4), 10, createRng(2), { defaultPort: 3001 }).length).toBe(4);
  });

  it('--probe ranking keeps reachable candidates, lowest RTT first, one per pool', () => {
    const cands = choosePublicRoots(pools, 6, createRng(3), { defaultPort: 3001 });
    const rtts = new Map<string, number | undefined>();
    cands.forEach((c, i) => {
      rtts.set(endpointKey(c.accessPoint), i % 2 === 0 ? undefined : 100 - i);
    });
    const ranked = rankByProbe(cands, rtts, 2);
    expect(ranked.map((c) => rtts.get(endpointKey(c.accessPoint)))).toEqual([95, 97]);
  });
});

/** A Prompter that answers from a script and records the questions. */
function scripted(answers: string[]): Prompter & { asked: string[] } {
  const asked: string[] = [];
  const next = (message: string): string => {
    asked.push(message);
    const a = answers.shift();
    if (a === undefined) throw new Error(`unexpected question: ${message}`);
    return a;
  };
  return {
    asked,
    async input(q) {
      const a = next(q.message);
      const v = q.validate?.(a);
      if (v !== undefined && v !== true) throw new Error(`rejected ${a}: ${v}`);
      return a;
    },
    async select<T extends string>(q: { message: string; choices: Array<{ value: T }> }): Promise<T> {
      const a = next(q.message);
      const c = q.choices.find((x) => x.value === a);
      if (!c) throw new Error(`no choice ${a}`);
      return c.value;
    },
    async confirm(q) {
      return next(q.message) === 'yes';
    },
  };
}

describe('the wizard', () => {
  it('asks only for what is missing, in order (scripted prompter)', async () => {
    const p = scripted(['relay', 'preprod', '10.0.0.5:3001', 'relay2.example.org:3001', '', '3']);
    const a = await runWizard(p, { producers: [], relays: [] }, 3001);
    expect(a).toEqual({
      role: 'relay',
      network: 'preprod',
      producers: ['10.0.0.5:3001'],
      relays: ['relay2.example.org:3001'],
      publicRoots: 3,
    });
    expect(p.asked.length).toBe(6);
    expect(missingFlags(a)).toEqual([]);
  });

  it('asks nothing already given by flags', async () => {
    const p = scripted(['5.9.1.1:3001', '']);
    const a = await runWizard(p, { role: 'producer', network: 'mainnet', producers: [], relays: [] }, 3001);
    expect(a.relays).toEqual(['5.9.1.1:3001']);
    expect(p.asked).toEqual(['Relay address (HOST:PORT) 1:', 'Relay address (HOST:PORT) 2 (empty to finish):']);
  });

  it('rejects a bad address at the prompt', async () => {
    const p = scripted(['relay', 'mainnet', 'not an address']);
    await expect(runWizard(p, { producers: [], relays: [] }, 3001)).rejects.toThrow(/rejected not an address/);
  });

  it('drives the real @inquirer prompts through a test screen', async () => {
    const prompter = inquirerPrompter();
    const done = runWizard(prompter, { network: 'mainnet', producers: [], relays: [], publicRoots: 0 }, 3001);
    await screen.next(); // the prompts are loaded lazily
    expect(screen.getScreen()).toContain('Which machine is this topology for?');
    screen.keypress('down'); // block producer
    screen.keypress('enter');
    await screen.next();
    expect(screen.getScreen()).toContain('Relay address (HOST:PORT) 1');
    screen.type('bad address!');
    screen.keypress('enter');
    await screen.next();
    expect(screen.getScreen()).toMatch(/invalid address/);
    for (let i = 0; i < 'bad address!'.length; i++) screen.keypress('backspace');
    screen.type('5.9.1.1:3001');
    screen.keypress('enter');
    await screen.next();
    expect(screen.getScreen()).toContain('empty to finish');
    screen.keypress('enter');
    const a = await done;
    expect(a).toMatchObject({ role: 'producer', relays: ['5.9.1.1:3001'] });
  });
});
