/** The driver and the local-roots provider can be stopped and leave no timer behind. */
import { describe, expect, it } from 'vitest';
import type { DriverShell, StatusChange } from '../../src/driver/actions.js';
import { GovernorDriver } from '../../src/driver/loop.js';
import { LocalRootsProvider } from '../../src/driver/root-peers.js';
import { createRng } from '../../src/governor/rng.js';
import { RELAY_DEFAULT_TARGETS, type RootPeerResult } from '../../src/governor/types.js';
import { Scheduler } from '../../src/sim/scheduler.js';

describe('stopping the root-peer provider', () => {
  it('keeps one pending lookup per name however long it runs, and none after stop', async () => {
    const clock = new Scheduler();
    let lookups = 0;
    const provider = new LocalRootsProvider(
      clock,
      {
        resolveAddresses: () => {
          lookups++;
          return Promise.resolve({ addresses: ['192.0.2.1'], ttlS: 60 });
        },
        resolveSrv: () => Promise.reject(new Error('no SRV')),
      },
      createRng(1),
      () => undefined,
    );
    provider.configure([{ hotValency: 1, peers: [{ peer: 'relay.example:3001' }] }]);
    await clock.runAsync({ until: 24 * 3600_000, maxEvents: 10_000 });
    // one lookup per clipped TTL (60 s) for a day, and only the next one pending
    expect(lookups).toBeGreaterThanOrEqual(1440);
    expect(clock.next()).toBeDefined();
    provider.stop();
    expect(clock.next()).toBeUndefined();
  });
});

describe('stopping the governor driver', () => {
  it('cancels every timer it armed: after stop the clock has nothing left to run', async () => {
    const clock = new Scheduler();
    const status = new Map<string, 'cold' | 'warm' | 'hot'>();
    const listeners: Array<(c: StatusChange) => void> = [];
    let conn = 0;
    const set = (peer: string, st: 'cold' | 'warm' | 'hot') => {
      status.set(peer, st);
      for (const l of listeners) l({ peer, connection: conn, status: st });
    };
    const shell: DriverShell = {
      peers: {
        establish: (peer) => {
          conn++;
          set(peer, 'warm');
          return Promise.resolve({ connection: conn, sharing: false });
        },
        activate: (peer) => {
          set(peer, 'hot');
          return Promise.resolve();
        },
        deactivate: (peer) => {
          set(peer, 'warm');
          return Promise.resolve();
        },
        close: (peer) => {
          set(peer, 'cold');
          return Promise.resolve();
        },
        status: (peer) => status.get(peer),
        onStatus: (l) => listeners.push(l),
      },
      sharing: { requestPeers: () => Promise.resolve([]) },
      rootPeers: {
        requestRootPeers: (count) =>
          Promise.resolve({
            peers: Array.from(
              { length: Math.min(count, 30) },
              (_, i): RootPeerResult => ({ peer: `192.0.2.${i + 1}:3001`, kind: 'ledger', advertise: true }),
            ),
            ttlMs: 60_000,
          }),
      },
      bigLedgerPeers: { requestBigLedgerPeers: () => Promise.resolve({ peers: [], ttlMs: 60_000 }) },
    };
    const driver = new GovernorDriver({ clock, rng: createRng(7), shell, churn: true });
    driver.configure({ consensusMode: 'praos', useLedgerPeers: true, useBootstrapPeers: false });
    driver.setTargets(RELAY_DEFAULT_TARGETS);
    await clock.runAsync({ until: 3 * 3600_000, maxEvents: 100_000 });
    expect(driver.counters().active).toBeGreaterThan(0);
    expect(clock.next()).toBeDefined(); // churn and governor wake-ups are pending
    driver.stop();
    driver.setTargets(RELAY_DEFAULT_TARGETS); // ignored after stop
    expect(clock.next()).toBeUndefined();
  });
});
