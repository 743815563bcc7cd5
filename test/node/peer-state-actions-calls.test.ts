/**
 * The peer state actions called directly (no governor), against an in-process `spo serve`
 * responder on loopback: names resolved through the injected resolver, the statuses reported in
 * the order the driver expects (before each promise settles), and the reference's refusals.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { StatusChange } from '../../src/driver/actions.js';
import { systemClock } from '../../src/lib/clock.js';
import { type RunningServer, startServer } from '../../src/net/serve.js';
import { DirectConnector } from '../../src/node/outbound.js';
import { LivePeerStateActions, type PeerResolver } from '../../src/node/peer-state-actions.js';
import { MAGIC } from './live-harness.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(resolver?: PeerResolver) {
  const server: RunningServer = await startServer({ host: '127.0.0.1', port: 0, magic: MAGIC, blockIntervalMs: 100 });
  cleanups.push(() => server.close());
  const actions = new LivePeerStateActions({
    clock: systemClock,
    connector: new DirectConnector({ magic: MAGIC }),
    ...(resolver ? { resolver } : {}),
  });
  cleanups.push(() => actions.stop());
  const changes: StatusChange[] = [];
  const cold = new Promise<void>((resolve) =>
    actions.onStatus((c) => {
      changes.push(c);
      if (c.status === 'cold') resolve();
    }),
  );
  return { server, actions, changes, cold };
}

const mode = { diffusionMode: 'InitiatorOnly', behindFirewall: false } as const;

describe('peer state actions, called one by one', () => {
  it('a name is resolved through the injected resolver; statuses come before each answer', async () => {
    const asked: string[] = [];
    const { server, actions, changes, cold } = await setup({
      addresses: (name) => {
        asked.push(name);
        return Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
      },
    });
    const peer = `relay.example:${server.port}`;
    const seen: string[] = [];
    const est = await actions.establish(peer, mode);
    seen.push(changes.map((c) => c.status).join(','));
    expect(asked).toEqual(['relay.example']);
    expect(est.connection).toBeGreaterThan(0);
    expect(est.sharing).toBe(true);
    await actions.activate(peer);
    seen.push(changes.map((c) => c.status).join(','));
    await actions.deactivate(peer);
    seen.push(changes.map((c) => c.status).join(','));
    await actions.close(peer);
    seen.push(changes.map((c) => c.status).join(','));
    await cold;
    expect(seen).toEqual(['warm', 'warm,hot', 'warm,hot,warm', 'warm,hot,warm,cooling']);
    expect(changes.map((c) => c.status)).toEqual(['warm', 'hot', 'warm', 'cooling', 'cold']);
    expect(new Set(changes.map((c) => c.connection))).toEqual(new Set([est.connection]));
    // a clean close: no repromote delay, and the peer has no status any more
    expect(changes[4]?.repromoteDelayMs).toBeUndefined();
    expect(actions.status(peer)).toBeUndefined();
  });

  it('refusals: a name without a resolver, a name without addresses, activating a cold peer, establishing twice', async () => {
    const { server, actions } = await setup();
    await expect(actions.establish(`relay.example:${server.port}`, mode)).rejects.toMatchObject({
      code: 'PEER_ADDRESS',
    });
    const empty = new LivePeerStateActions({
      clock: systemClock,
      connector: new DirectConnector({ magic: MAGIC }),
      resolver: { addresses: () => Promise.resolve([]) },
    });
    await expect(empty.establish(`relay.example:${server.port}`, mode)).rejects.toMatchObject({ code: 'PEER_ADDRESS' });
    await expect(actions.activate(server.address)).rejects.toMatchObject({ code: 'COLD_ACTIVATION' });
    await actions.establish(server.address, mode);
    await expect(actions.establish(server.address, mode)).rejects.toMatchObject({ code: 'CONNECTION_EXISTS' });
    // a wrong network magic is the handshake's refusal, named as such
    const other = new LivePeerStateActions({ clock: systemClock, connector: new DirectConnector({ magic: 1 }) });
    await expect(other.establish(server.address, mode)).rejects.toMatchObject({ code: 'HANDSHAKE_REFUSED_MAGIC' });
  });

  it('an asynchronous demotion carries the exit policy: cold with the 10 s error delay after the peer went away', async () => {
    const { server, actions, changes, cold } = await setup();
    await actions.establish(server.address, mode);
    await actions.activate(server.address);
    await server.close();
    await cold;
    expect(changes.map((c) => c.status)).toEqual(['warm', 'hot', 'cooling', 'cold']);
    expect(changes[3]?.repromoteDelayMs).toBe(10_000);
  });
});
