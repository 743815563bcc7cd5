/**
 * Defects found by the review's acceptance run (inputs the first tests did not cover): IPv6 zone ids,
 * trailing dots, a UTF-8 byte order mark, Koios pools whose active_stake is null.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { selectNetwork } from '../../src/lib/networks.js';
import { exportRegistry } from '../../src/registry/export.js';
import { applyHygiene } from '../../src/registry/hygiene.js';
import { finishRegistry, loadRegistry } from '../../src/registry/index.js';
import { joinKoios } from '../../src/registry/koios.js';

const FIX = new URL('../fixtures/registry/', import.meta.url);
const fixture = (name: string): string => new URL(name, FIX).pathname;
const mainnet = selectNetwork('mainnet', undefined);
const dir = mkdtempSync(join(tmpdir(), 'spo-registry-review-'));
const id = (n: number): string => `pool1${String(n).padStart(53, 'q')}`;

describe('review: hygiene of real-shaped hostile relays', () => {
  it('an IPv6 address with a zone id (%eth0) is malformed: the ledger holds 16 bytes, the node refuses it', () => {
    const { pools, findings } = applyHygiene([
      {
        id: 'p',
        status: 'registered',
        stake: 1,
        relays: [
          { kind: 'ipv6', host: '2001:4860::1%eth0', port: 3001 },
          { kind: 'ipv6', host: '2001:4860::2', port: 3001 },
        ],
      },
    ]);
    expect(pools[0]?.relays.map((r) => r.flags)).toEqual([['malformed-address'], []]);
    expect(findings.map((f) => f.code)).toContain('malformed-address');
    const reg = { source: 'x', pools, findings };
    const out = exportRegistry(reg, { format: 'snapshot-v2', scope: 'all', networkMagic: 764824073 });
    expect(out.text).not.toContain('%eth0');
    expect(out.relays).toBe(1);
  });

  it('a trailing dot is removed from names (reported, like lower-casing), so "a.example." and "a.example" are one relay', () => {
    const { pools, findings } = applyHygiene([
      {
        id: 'p',
        status: 'registered',
        relays: [
          { kind: 'dns', host: 'Relay.Example.COM.', port: 3001 },
          { kind: 'dns', host: 'relay.example.com', port: 3001 },
          { kind: 'srv', host: 'srv.example.' },
        ],
      },
      { id: 'q', status: 'registered', relays: [{ kind: 'dns', host: 'relay.example.com.', port: 3001 }] },
    ]);
    expect(pools[0]?.relays.map((r) => r.host)).toEqual(['relay.example.com', 'srv.example']);
    expect(pools[0]?.relays[0]?.flags).toEqual(['lower-cased', 'trailing-dot', 'shared-endpoint']);
    expect(findings.filter((f) => f.code === 'trailing-dot')).toHaveLength(3);
    expect(findings.filter((f) => f.code === 'duplicate-relay')).toHaveLength(1);
    expect(findings.find((f) => f.code === 'shared-endpoint')?.pools).toEqual(['p', 'q']);
    // a bare "." is not a name
    const dot = applyHygiene([{ id: 'r', status: 'registered', relays: [{ kind: 'dns', host: '.', port: 1 }] }]);
    expect(dot.pools[0]?.relays[0]?.flags).toContain('malformed-name');
  });
});

describe('review: files', () => {
  it('a file starting with a UTF-8 byte order mark (Windows editors) is read', async () => {
    const text = readFileSync(fixture('preprod-peer-snapshot.v2.json'), 'utf8');
    const file = join(dir, 'bom.json');
    writeFileSync(file, `\uFEFF${text}`);
    const reg = await loadRegistry({ source: file, network: selectNetwork('preprod', undefined) });
    const plain = await loadRegistry({
      source: fixture('preprod-peer-snapshot.v2.json'),
      network: selectNetwork('preprod', undefined),
    });
    expect(reg.pools.length).toBe(plain.pools.length);
    expect(reg.pools.length).toBeGreaterThan(0);
  });
});

describe('review: Koios active_stake null', () => {
  const relays = [
    { pool_id_bech32: id(1), relays: [{ dns: 'a.example', srv: null, ipv4: null, ipv6: null, port: 3001 }] },
    { pool_id_bech32: id(2), relays: [{ dns: 'b.example', srv: null, ipv4: null, ipv6: null, port: 3001 }] },
  ];

  it('a pool with active_stake null has no active stake (0), so a snapshot can still be exported', () => {
    // Koios returns active_stake null for pools without active stake in the epoch (new, undelegated)
    const list = [
      { pool_id_bech32: id(1), ticker: 'AAA', pool_status: 'registered', active_stake: '64123456789012' },
      { pool_id_bech32: id(2), ticker: null, pool_status: 'registered', active_stake: null },
    ];
    const reg = finishRegistry(joinKoios(list, relays), 'koios', mainnet);
    expect(reg.pools.map((p) => p.stake)).toEqual([1, 0]);
    expect(reg.findings.map((f) => f.code)).toContain('stake-null');
    const out = exportRegistry(reg, { format: 'snapshot-v2', scope: 'big', networkMagic: 764824073 });
    expect(out.pools).toBe(1);
  });

  it('when every active_stake is null (just after an epoch boundary) stake stays unknown, not all zero', () => {
    const list = [
      { pool_id_bech32: id(1), ticker: 'AAA', pool_status: 'registered', active_stake: null },
      { pool_id_bech32: id(2), ticker: null, pool_status: 'registered', active_stake: null },
    ];
    const reg = finishRegistry(joinKoios(list, relays), 'koios', mainnet);
    expect(reg.pools.map((p) => p.stake)).toEqual([undefined, undefined]);
    expect(() => exportRegistry(reg, { format: 'snapshot-v2', scope: 'big', networkMagic: 1 })).toThrow(
      expect.objectContaining({ code: 'STAKE_UNKNOWN' }),
    );
  });
});

describe('review: a Koios server that ignores limit/offset', () => {
  it('a page far longer than asked (the server ignored limit) is taken whole, once, without overflowing the stack', async () => {
    const { createServer } = await import('node:http');
    const rows = 200_000;
    let listCalls = 0;
    const server = createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      res.writeHead(200, { 'content-type': 'application/json' });
      if (u.pathname.endsWith('/tip')) return res.end('[]');
      if (u.pathname.endsWith('/pool_list')) {
        listCalls++;
        const row = JSON.stringify({
          pool_id_bech32: id(1),
          ticker: 'A',
          pool_status: 'registered',
          active_stake: '1',
        });
        return res.end(`[${Array.from({ length: rows }, () => row).join(',')}]`);
      }
      const relay = { dns: 'a.example', srv: null, ipv4: null, ipv6: null, port: 3001 };
      return res.end(JSON.stringify([{ pool_id_bech32: id(1), relays: Array.from({ length: rows }, () => relay) }]));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (server.address() as import('node:net').AddressInfo).port;
      const reg = await loadRegistry({
        source: 'koios',
        network: mainnet,
        koiosUrl: `http://127.0.0.1:${port}/api/v1`,
        allowEmpty: true, // one pool: far smaller than mainnet's registry
      });
      expect(listCalls).toBe(1);
      expect(reg.pools).toHaveLength(1);
      expect(reg.pools[0]?.relays).toHaveLength(1); // 200,000 times the same relay, kept once
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  }, 30_000);
});

describe('review: cardano-cli edge cases', () => {
  it('a single host address with neither IPv4 nor IPv6 (legal on chain) is no relay, like Koios and Blockfrost say it', async () => {
    const { parseLedgerRelay } = await import('../../src/registry/cardano-cli.js');
    const { FieldPath } = await import('../../src/registry/fields.js');
    const at = new FieldPath('pool-state.json', 'spsRelays').index(0);
    expect(parseLedgerRelay({ 'single host address': { IPv4: null, IPv6: null, port: 3001 } }, at)).toEqual([]);
    expect(parseLedgerRelay({ 'single host address': { port: null } }, at)).toEqual([]);
  });

  it('--source - with --stake-snapshot - is refused (standard input can be read once)', async () => {
    const { Readable } = await import('node:stream');
    await expect(
      loadRegistry({
        source: '-',
        stakeSnapshot: '-',
        network: mainnet,
        stdin: Readable.from([readFileSync(fixture('cardano-cli-pool-state.json'))]),
      }),
    ).rejects.toMatchObject({ code: 'USAGE', message: expect.stringContaining('--stake-snapshot') });
  });
});

describe('review: errors in an HTTP answer', () => {
  it('a wrong field in a Koios answer names the server and the field, and the hint does not speak of a file', () => {
    const url = 'http://127.0.0.1:9/api/v1';
    try {
      joinKoios([{ pool_id_bech32: id(1), ticker: 42, pool_status: 'registered', active_stake: '1' }], [], url);
      throw new Error('expected an error');
    } catch (error) {
      expect(error).toMatchObject({
        code: 'REGISTRY_FIELD',
        message: `${url}: pool_list[0].ticker: expected a string, got 42`,
      });
      expect((error as { hint?: string }).hint).not.toMatch(/file/);
      expect((error as { hint?: string }).hint).toMatch(/--koios-url|server/);
    }
  });
});
