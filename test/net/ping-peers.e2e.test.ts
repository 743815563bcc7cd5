/**
 * Issue 15: `spo ping --mode peers` asks a relay for peers over peer sharing and lists what it
 * shares; a relay that did not agree to peer sharing (its handshake says PeerSharingDisabled) is
 * PEER_SHARING_OFF, in words, exit 1. Against src/net's server on 127.0.0.1 (the addresses it shares
 * are data: nothing connects to them).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PingJson } from '../../src/commands/ping.js';
import { type RunningServer, startServer } from '../../src/net/serve.js';
import { parseJsonOutput, runCli } from '../lib/cli.js';

const PREVIEW = 2;
const SHARED = [
  { family: 4 as const, address: '192.0.2.10', port: 3001 },
  { family: 6 as const, address: '2001:db8::7', port: 6000 },
  { family: 4 as const, address: '198.51.100.3', port: 3002 },
];
let sharing: RunningServer;
let notSharing: RunningServer;

beforeAll(async () => {
  sharing = await startServer({ host: '127.0.0.1', port: 0, magic: PREVIEW, peers: SHARED });
  notSharing = await startServer({ host: '127.0.0.1', port: 0, magic: PREVIEW, peerSharing: false, peers: SHARED });
});

afterAll(async () => {
  await sharing?.close();
  await notSharing?.close();
});

describe('spo ping --mode peers', () => {
  it('lists the peers the relay shares (text)', async () => {
    const r = await runCli(['ping', `127.0.0.1:${sharing.port}`, '--network', 'preview', '--mode', 'peers']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/peer sharing on/);
    expect(r.stdout).toContain('shared 3 peers:');
    for (const e of ['192.0.2.10:3001', '[2001:db8::7]:6000', '198.51.100.3:3002'])
      expect(r.stdout).toContain(`    ${e}`);
  });

  it('--json: peers with address, port, family and endpoint; --amount asks for fewer', async () => {
    const r = await runCli([
      'ping',
      `127.0.0.1:${sharing.port}`,
      '--network',
      'preview',
      '--mode',
      'peers',
      '--amount',
      '2',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const doc = parseJsonOutput<PingJson>(r);
    expect(doc.mode).toBe('peers');
    const a = doc.targets[0]?.addresses[0];
    expect(a?.ok).toBe(true);
    expect(a?.versionData?.peerSharing).toBe(1);
    expect(a?.peers).toHaveLength(2);
    for (const p of a?.peers ?? []) {
      expect(SHARED).toContainEqual({ family: p.family, address: p.address, port: p.port });
      expect(p.endpoint).toMatch(/:\d+$/);
    }
  });

  it('a relay that did not agree to peer sharing: PEER_SHARING_OFF in words, exit 1', async () => {
    const r = await runCli(['ping', `127.0.0.1:${notSharing.port}`, '--network', 'preview', '--mode', 'peers']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAILED {2}PEER_SHARING_OFF: the peer did not agree to peer sharing/);
    expect(r.stdout).toMatch(/hint: its node runs with PeerSharing false/);
    const j = parseJsonOutput<PingJson>(
      await runCli(['ping', `127.0.0.1:${notSharing.port}`, '--network', 'preview', '--mode', 'peers', '--json']),
    );
    expect(j.targets[0]?.addresses[0]?.error?.code).toBe('PEER_SHARING_OFF');
    expect(j.targets[0]?.addresses[0]?.peers).toBeUndefined();
  });
});
