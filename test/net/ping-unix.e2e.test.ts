/**
 * Issue 15: `spo ping --unix SOCKET` (and CARDANO_NODE_SOCKET_PATH) runs the node-to-client
 * handshake on a local node's socket with a version query, as `cardano-cli ping -u` does. Against
 * the node-to-client responder of test/net/n2c-responder.ts on a Unix socket in a temporary folder.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PingUnixJson } from '../../src/commands/ping.js';
import { parseJsonOutput, runCli } from '../lib/cli.js';
import { type N2CResponder, startN2CResponder } from './n2c-responder.js';

let node: N2CResponder;
let silent: N2CResponder;
let garbage: N2CResponder;
let old: N2CResponder;

beforeAll(async () => {
  [node, silent, garbage, old] = await Promise.all([
    startN2CResponder({ magic: 2, versions: [16, 17, 18, 19, 20, 21, 22] }),
    startN2CResponder({ magic: 2, versions: [22], fault: 'silent' }),
    startN2CResponder({ magic: 2, versions: [22], fault: 'garbage' }),
    startN2CResponder({ magic: 2, versions: [9, 10] }),
  ]);
});

afterAll(async () => {
  await Promise.all([node, silent, garbage, old].map((r) => r?.close()));
});

describe('spo ping --unix', () => {
  it('handshakes (highest common version) and lists the versions the node speaks', async () => {
    const r = await runCli(['ping', '--unix', node.path, '--network', 'preview']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /node\.socket {2}ok {2}connect \d+\.\d ms {2}handshake \d+\.\d ms {2}node-to-client version 22 \(magic 2\)/,
    );
    expect(r.stdout).toContain('versions the node speaks: 16, 17, 18, 19, 20, 21, 22');
    // what spo proposed: every version 16..23 with the network's magic, then the same with query
    const [plain, query] = node.proposals.slice(-2);
    expect(plain).toMatchObject({ type: 'ProposeVersions' });
    if (plain?.type !== 'ProposeVersions' || query?.type !== 'ProposeVersions') throw new Error('no proposals');
    expect(plain.versions.map((v) => v.version)).toEqual([16, 17, 18, 19, 20, 21, 22, 23]);
    expect(plain.versions.every((v) => v.data.networkMagic === 2 && !v.data.query)).toBe(true);
    expect(query.versions.every((v) => v.data.query)).toBe(true);
  });

  it('--json and CARDANO_NODE_SOCKET_PATH (no address given)', async () => {
    const r = await runCli(['ping', '--network', 'preview', '--json'], {
      env: { CARDANO_NODE_SOCKET_PATH: node.path },
    });
    expect(r.code, r.stderr).toBe(0);
    const doc = parseJsonOutput<PingUnixJson>(r);
    expect(doc).toMatchObject({
      mode: 'unix',
      socket: node.path,
      ok: true,
      version: 22,
      versionData: { networkMagic: 2, query: false },
    });
    expect(doc.versions?.map((v) => v.version)).toEqual([16, 17, 18, 19, 20, 21, 22]);
  });

  it('another network: HANDSHAKE_REFUSED_MAGIC in words, exit 1', async () => {
    const r = await runCli(['ping', '--unix', node.path]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /FAILED {2}HANDSHAKE_REFUSED_MAGIC: the node runs another network \(we sent magic 764824073, it runs 2\)/,
    );
  });

  it('no common version: HANDSHAKE_REFUSED_VERSION names what the node speaks', async () => {
    const r = await runCli(['ping', '--unix', old.path, '--network', 'preview', '--json']);
    expect(r.code).toBe(1);
    const doc = parseJsonOutput<PingUnixJson>(r);
    expect(doc.error?.code).toBe('HANDSHAKE_REFUSED_VERSION');
    expect(doc.error?.message).toMatch(/the node speaks 9, 10/);
  });

  it('a node that never answers: HANDSHAKE_TIMEOUT within --timeout; a malformed answer: PROTOCOL_ERROR', async () => {
    const t = await runCli(['ping', '--unix', silent.path, '--network', 'preview', '--timeout', '500ms']);
    expect(t.code).toBe(1);
    expect(t.stdout).toMatch(/HANDSHAKE_TIMEOUT/);
    expect(t.ms).toBeLessThan(10_000);
    const g = await runCli(['ping', '--unix', garbage.path, '--network', 'preview']);
    expect(g.code).toBe(1);
    expect(g.stdout).toMatch(/PROTOCOL_ERROR: malformed handshake answer/);
  });

  it('no socket there: CONNECT_FAILED with a hint; --unix with addresses is a usage error', async () => {
    const r = await runCli(['ping', '--unix', join(node.path, '..', 'nope.socket')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/CONNECT_FAILED: no such socket/);
    expect(r.stdout).toMatch(/hint: is the node running\?/);
    const u = await runCli(['ping', '--unix', node.path, '127.0.0.1:3001']);
    expect(u.code).toBe(2);
  });
});
