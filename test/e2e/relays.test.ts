/** `spo relays list` and `spo relays export` through the real binary (bin/run.js). Needs a build. */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, parseJsonOutput, runCli } from '../lib/cli.js';

const FIX = new URL('../fixtures/registry/', import.meta.url);
const fixture = (name: string): string => new URL(name, FIX).pathname;
const dir = mkdtempSync(join(tmpdir(), 'spo-relays-'));

interface ListJson {
  source: string;
  format: string;
  network: string;
  slot: number;
  summary: {
    pools: number;
    relays: number;
    totalPools: number;
    byKind: Record<string, number>;
    findings: Record<string, number>;
  };
  pools: Array<{
    id: string;
    stake: number;
    status: string;
    relays: Array<{ kind: string; host: string; port?: number; flags: string[] }>;
  }>;
  findings: Array<{ code: string; severity: string; message: string }>;
}

describe('spo relays list', () => {
  it('prints a table of the embedded registry, largest pools first (npm start)', async () => {
    const r = await runCli(['relays', 'list', '--top', '20']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    // a caption saying what the table shows, then the table (issue 15: npm start's first screen)
    expect(lines[0]).toMatch(/^Relays the pools registered, largest pools first \(STAKE: .*FLAGS: hygiene findings\)$/);
    expect(lines[1]).toMatch(/^POOL\s+TICKER\s+STAKE\s+KIND\s+ADDRESS\s+PORT\s+FLAGS$/);
    expect(lines[2]).toMatch(/^#1\s+-\s+0\.537%\s+dns\s+relay-trustwallet-5-0\.cardano\.mainnet\.kiln\.fi\s+3001$/);
    expect(r.stderr).toMatch(/^20 of 470 pools, \d+ relays .* from embedded:mainnet \(slot 185831188\)\n/);
    expect(r.stderr).toContain('121 shared-endpoint');
    expect(r.stdout).not.toContain('\u001b['); // no colour when not a TTY
  });

  it('the offline path never loads undici (start-up time is benchmarked)', async () => {
    // a resolve hook that reports every package the process imports
    const hooks = `data:text/javascript,${encodeURIComponent(
      "export async function resolve(s, c, n) { const r = await n(s, c); const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(r.url); if (m) process.stderr.write('PKG ' + m[1] + '\\n'); return r; }",
    )}`;
    const register = `data:text/javascript,${encodeURIComponent(`import { register } from 'node:module'; register(${JSON.stringify(hooks)});`)}`;
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, ['--import', register, BIN, 'relays', 'list', '--top', '1'], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(r.status).toBe(0);
    const pkgs = new Set(
      r.stderr
        .split('\n')
        .filter((l) => l.startsWith('PKG '))
        .map((l) => l.slice(4)),
    );
    expect(pkgs.has('@oclif/core')).toBe(true); // the hook works
    expect(pkgs.has('undici')).toBe(false);
  });

  it('--json: one document with summary, pools and findings', async () => {
    const r = await runCli(['relays', 'list', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const doc = parseJsonOutput<ListJson>(r);
    expect(doc.source).toBe('embedded:mainnet');
    expect(doc.format).toBe('snapshot-n2c');
    expect(doc.network).toBe('mainnet');
    expect(doc.slot).toBe(185831188);
    expect(doc.summary).toMatchObject({
      pools: 470,
      totalPools: 470,
      relays: 1017,
      byKind: { dns: 679, ipv4: 317, ipv6: 3, srv: 18 },
    });
    expect(doc.pools[0]).toMatchObject({ id: '#1', status: 'registered' });
    expect(doc.pools[0]?.relays[0]).toEqual({
      kind: 'dns',
      host: 'relay-trustwallet-5-0.cardano.mainnet.kiln.fi',
      port: 3001,
      flags: [],
    });
    expect(doc.findings.filter((f) => f.code === 'shared-endpoint')).toHaveLength(121);
  });

  it('filters by kind and by pool', async () => {
    const srv = parseJsonOutput<ListJson>(await runCli(['relays', 'list', '--kind', 'srv', '--json']));
    expect(srv.summary.relays).toBe(18);
    expect(srv.pools.every((p) => p.relays.every((x) => x.kind === 'srv' && x.port === undefined))).toBe(true);
    const one = parseJsonOutput<ListJson>(await runCli(['relays', 'list', '--pool', '#2', '--pool', '#3', '--json']));
    expect(one.pools.map((p) => p.id)).toEqual(['#2', '#3']);
  });

  it('reads the preview snapshot and shows its junk flagged', async () => {
    const r = await runCli(['relays', 'list', '--network', 'preview', '--flagged']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/0\.0\.0\.0\s+6000\s+unspecified/);
    expect(r.stdout).toMatch(/172\.30\.100\.10\s+6000\s+private/);
  });

  it('reads cardano-cli pool-state from standard input with stake from a stake snapshot', async () => {
    const r = await runCli(
      ['relays', 'list', '--source', '-', '--stake-snapshot', fixture('cardano-cli-stake-snapshot.json'), '--json'],
      { input: readFileSync(fixture('cardano-cli-pool-state.json'), 'utf8') },
    );
    expect(r.code).toBe(0);
    const doc = parseJsonOutput<ListJson>(r);
    expect(doc.format).toBe('cardano-cli-pool-state');
    expect(doc.pools).toHaveLength(2);
    expect(doc.pools[0]?.id).toMatch(/^pool1/);
    expect(doc.pools[0]?.stake).toBeCloseTo(0.003004672897, 9);
  });

  it('bad input: one line naming the file (and field), a hint, exit 1', async () => {
    const missing = await runCli(['relays', 'list', '--source', join(dir, 'nope.json')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      `spo: ${join(dir, 'nope.json')}: no such file\nhint: check the path; use - to read standard input\n`,
    );

    const badJson = join(dir, 'bad.json');
    writeFileSync(badJson, '{"version": 2, "bigLedgerPools": [');
    const invalid = await runCli(['relays', 'list', '--source', badJson, '--json']);
    expect(invalid.code).toBe(1);
    expect(parseJsonOutput<{ error: { code: string; message: string } }>(invalid).error).toMatchObject({
      code: 'INVALID_JSON',
      message: expect.stringContaining(badJson),
    });

    const v9 = join(dir, 'v9.json');
    writeFileSync(v9, JSON.stringify({ version: 9, slotNo: 1, bigLedgerPools: [] }));
    const version = await runCli(['relays', 'list', '--source', v9]);
    expect(version.code).toBe(1);
    expect(version.stderr.split('\n')[0]).toBe(`spo: ${v9}: unknown peer snapshot version (version 9)`);

    const hostile = join(dir, 'hostile.json');
    writeFileSync(
      hostile,
      JSON.stringify({
        version: 2,
        slotNo: 1,
        bigLedgerPools: [
          { accumulatedStake: 0.1, relativeStake: 0.1, relays: [{ address: 'x.example', port: -3001 }] },
        ],
      }),
    );
    const h = await runCli(['relays', 'list', '--source', hostile]);
    expect(h.code).toBe(1);
    expect(h.stderr.split('\n')[0]).toBe(
      `spo: ${hostile}: bigLedgerPools[0].relays[0].port: expected an integer 0-65535, got -3001`,
    );
    expect(h.stderr).not.toContain('    at ');
  });

  it('usage errors exit 2', async () => {
    const r = await runCli(['relays', 'list', '--kind', 'carrier-pigeon']);
    expect(r.code).toBe(2);
    const bf = await runCli(['relays', 'list', '--source', 'blockfrost'], {
      env: { BLOCKFROST_PROJECT_ID: undefined },
    });
    expect(bf.code).toBe(2);
    expect(bf.stderr).toMatch(
      /\nspo: Blockfrost needs a project id\nhint: give --blockfrost-project-id or set BLOCKFROST_PROJECT_ID/,
    );
  });

  describe('from Koios on loopback', () => {
    let server: Server;
    const seen: Array<string | undefined> = [];
    afterAll(async () => {
      server?.closeAllConnections();
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    });

    it('joins pool_list and pool_relays and never prints the token', async () => {
      const id = 'pool1pu5jlj4q9w9jlxeu370a3c9myx47md5j5m2s2cm7lu3j3j4vq8e';
      server = createServer((req, res) => {
        seen.push(req.headers.authorization);
        const u = new URL(req.url ?? '/', 'http://x');
        res.writeHead(200, { 'content-type': 'application/json' });
        if (u.pathname.endsWith('/tip')) {
          res.end(JSON.stringify([{ hash: 'ef'.repeat(32), abs_slot: 190000000, epoch_no: 610, block_height: 1 }]));
        } else if (u.pathname.endsWith('/pool_list')) {
          res.end(
            JSON.stringify([{ pool_id_bech32: id, ticker: 'LOOP', pool_status: 'registered', active_stake: '1000' }]),
          );
        } else {
          res.end(
            JSON.stringify([
              {
                pool_id_bech32: id,
                relays: [{ dns: 'relay.loop.example', srv: null, ipv4: null, ipv6: null, port: 3001 }],
              },
            ]),
          );
        }
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      const { port } = server.address() as AddressInfo;
      const r = await runCli(
        ['relays', 'list', '--source', 'koios', '--koios-url', `http://127.0.0.1:${port}/api/v1`, '--allow-empty'],
        {
          env: { KOIOS_TOKEN: 'tok-SECRET-123', DEBUG: '1' },
        },
      );
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/LOOP\s+100\.000%\s+dns\s+relay\.loop\.example\s+3001/);
      expect(seen).toEqual(['Bearer tok-SECRET-123', 'Bearer tok-SECRET-123', 'Bearer tok-SECRET-123']);
      expect(r.stdout + r.stderr).not.toContain('SECRET');
    });

    it('exports a NodeToClientVersion snapshot whose Point is the Koios tip', async () => {
      const { port } = server.address() as AddressInfo;
      const out = join(dir, 'koios-n2c.json');
      const r = await runCli(
        [
          'relays',
          'export',
          '--source',
          'koios',
          '--koios-url',
          `http://127.0.0.1:${port}/api/v1`,
          '--format',
          'snapshot-n2c',
          '--out',
          out,
          '--allow-empty', // one pool: far smaller than mainnet's registry
        ],
        { env: { KOIOS_TOKEN: 'tok-SECRET-123' } },
      );
      expect(r.code).toBe(0);
      const file = JSON.parse(readFileSync(out, 'utf8'));
      expect(file).toEqual({
        NetworkMagic: 764824073,
        NodeToClientVersion: 23,
        Point: { blockPointHash: 'ef'.repeat(32), blockPointSlot: 190000000 },
        bigLedgerPools: [
          { accumulatedStake: 1, relativeStake: 1, relays: [{ address: 'relay.loop.example', port: 3001 }] },
        ],
      });
      expect(r.stdout + r.stderr).not.toContain('SECRET');
    });
  });
});

describe('long sources: progress and Ctrl-C', () => {
  const open: Server[] = [];
  afterAll(async () => {
    for (const s of open) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  });
  async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
    const s = createServer(handler);
    open.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}/api/v0`;
  }

  it('Blockfrost: shows progress on stderr and keeps the project id out of every output', async () => {
    const url = await listen((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      res.writeHead(200, { 'content-type': 'application/json' });
      if (u.pathname.endsWith('/blocks/latest')) res.end(JSON.stringify({ hash: '12'.repeat(32), slot: 5 }));
      else if (u.pathname.endsWith('/pools/extended')) {
        res.end(JSON.stringify([{ pool_id: 'pool1abc', active_stake: '5', metadata: { ticker: 'BF' } }]));
      } else res.end(JSON.stringify([{ ipv4: '45.1.2.3', ipv6: null, dns: null, dns_srv: null, port: 6000 }]));
    });
    const r = await runCli(['relays', 'list', '--source', 'blockfrost', '--blockfrost-url', url, '--allow-empty'], {
      env: { BLOCKFROST_PROJECT_ID: 'mainnetPROJECTSECRET' },
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^reading the registry from blockfrost\n/);
    expect(r.stderr).toContain('1 pool from blockfrost'); // singular (issue 15)
    expect(r.stdout).toMatch(/pool1abc\s+BF\s+100\.000%\s+ipv4\s+45\.1\.2\.3\s+6000/);
    expect(r.stdout + r.stderr).not.toContain('PROJECTSECRET');
  });

  it('Ctrl-C while Koios does not answer: exit 130 at once', async () => {
    const url = await listen(() => {
      /* never answers */
    });
    const r = await runCli(['relays', 'list', '--source', 'koios', '--koios-url', url], {
      // interrupt once the request is under way (the progress line says so)
      onSpawn: (child) => {
        child.stderr?.on('data', (d: string) => {
          if (String(d).includes('reading the registry')) child.kill('SIGINT'); // handler in place before progress
        });
      },
    });
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('spo: interrupted');
    expect(r.ms).toBeLessThan(10_000); // the default Koios time limit is 2 minutes: it did not wait for it
  });
});

describe('spo relays export', () => {
  it('writes a v2 snapshot atomically that reads back; keeps the old file as .bak; no temp files left', async () => {
    const out = join(dir, 'snap.json');
    writeFileSync(out, 'old content');
    const r = await runCli(['relays', 'export', '--format', 'snapshot-v2', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^wrote .*snap\.json: 470 pools, 1017 relays \(snapshot-v2, big ledger pools\)/);
    expect(readFileSync(`${out}.bak`, 'utf8')).toBe('old content');
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    expect(doc.version).toBe(2);
    expect(doc.slotNo).toBe(185831188);
    expect(doc.bigLedgerPools).toHaveLength(470);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const back = parseJsonOutput<ListJson>(await runCli(['relays', 'list', '--source', out, '--json']));
    expect(back.format).toBe('snapshot-v2');
    expect(back.summary.relays).toBe(1017);
  });

  it('--json with --out reports what was written', async () => {
    const out = join(dir, 'n2c.json');
    const r = await runCli(['relays', 'export', '--format', 'snapshot-n2c', '--all-pools', '--out', out, '--json']);
    expect(r.code).toBe(0);
    const doc = parseJsonOutput<{
      format: string;
      scope: string;
      out: string;
      pools: number;
      relays: number;
      bytes: number;
    }>(r);
    expect(doc).toMatchObject({ format: 'snapshot-n2c', scope: 'all', out, pools: 470, relays: 1017 });
    const file = JSON.parse(readFileSync(out, 'utf8'));
    expect(file).toMatchObject({
      NetworkMagic: 764824073,
      NodeToClientVersion: 23,
      Point: { blockPointSlot: 185831188 },
    });
    expect(file.allLedgerPools[0]).not.toHaveProperty('accumulatedStake');
    expect(doc.bytes).toBe(readFileSync(out).length);
  });

  it('CSV and JSON to standard output; --json without --out carries the data', async () => {
    const csv = await runCli(['relays', 'export', '--format', 'csv', '--network', 'preview']);
    expect(csv.code).toBe(0);
    const lines = csv.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('pool,ticker,stake,status,kind,host,port,flags');
    expect(lines).toContain(
      lines.find((l) => /^#\d+,,[\d.e-]+,registered,ipv4,172\.30\.100\.10,6000,private$/.test(l)),
    );
    const j = parseJsonOutput<{ data: { pools: unknown[] } }>(
      await runCli(['relays', 'export', '--format', 'json', '--json']),
    );
    expect(j.data.pools).toHaveLength(470);
  });

  it('refuses contradictory flags (exit 2) and writes nothing when the export cannot be made (exit 1)', async () => {
    const both = await runCli(['relays', 'export', '--format', 'csv', '--big-ledger', '--all-pools']);
    expect(both.code).toBe(2);
    const out = join(dir, 'never.json');
    const r = await runCli([
      'relays',
      'export',
      '--source',
      fixture('cardano-cli-pool-state.json'),
      '--format',
      'snapshot-v2',
      '--out',
      out,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toMatch(/^spo: .*cardano-cli-pool-state\.json: stake is unknown for 2 pools/);
    expect(readdirSync(dir)).not.toContain('never.json');
  });
});

describe('review: what the acceptance run broke', () => {
  const open: Server[] = [];
  afterAll(async () => {
    for (const s of open) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  });

  it('terminal escapes and bidi overrides from a hostile source are shown escaped, never sent to the terminal', async () => {
    const s = createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      const off = Number(u.searchParams.get('offset') ?? 0);
      const id = 'pool1\u001b[2Jqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq1';
      res.writeHead(200, { 'content-type': 'application/json' });
      if (u.pathname.endsWith('/tip')) res.end('[]');
      else if (u.pathname.endsWith('/pool_list')) {
        res.end(
          JSON.stringify(
            off
              ? []
              : [{ pool_id_bech32: id, ticker: '\u001b[31mRED\u202e', pool_status: 'registered', active_stake: '5' }],
          ),
        );
      } else {
        const relay = { dns: '\u001b]0;title\u0007x.example', srv: null, ipv4: null, ipv6: null, port: 3001 };
        res.end(JSON.stringify(off ? [] : [{ pool_id_bech32: id, relays: [relay] }]));
      }
    });
    open.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}/api/v1`;
    const r = await runCli(['relays', 'list', '--source', 'koios', '--koios-url', url, '--allow-empty']);
    expect(r.code).toBe(0);
    const raw = [...(r.stdout + r.stderr)].filter((ch) => {
      const c = ch.charCodeAt(0);
      return (c < 0x20 && ch !== '\n') || c === 0x7f || c === 0x202e;
    });
    expect(raw).toEqual([]);
    expect(r.stdout).toContain('\\u001b[31mRED\\u202e');
    expect(r.stdout).toContain('\\u001b]0;title\\u0007x.example');
    // the JSON document carries the data as it came (JSON escapes it)
    const j = parseJsonOutput<{ pools: Array<{ ticker: string }> }>(
      await runCli(['relays', 'list', '--source', 'koios', '--koios-url', url, '--allow-empty', '--json']),
    );
    expect(j.pools[0]?.ticker).toBe('\u001b[31mRED\u202e');
  });

  it('export usage errors say what is wrong on one line (not oclif\'s bare "The following error occurred:")', async () => {
    const none = await runCli(['relays', 'export']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^spo: .*--format/);
    expect(none.stderr).toContain('snapshot-v2');
    const both = await runCli(['relays', 'export', '--format', 'csv', '--big-ledger', '--all-pools', '--json']);
    expect(both.code).toBe(2);
    const err = parseJsonOutput<{ error: { code: string; message: string } }>(both).error;
    expect(err.code).toBe('USAGE');
    expect(err.message).toMatch(/--big-ledger.*--all-pools/);
  });

  it('an --out folder that does not exist fails before the source is read, and writes nothing', async () => {
    const out = join(dir, 'missing-folder', 'snap.json');
    const r = await runCli(['relays', 'export', '--format', 'snapshot-v2', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^spo: cannot write .*missing-folder.*snap\.json: /);
    expect(r.stderr).not.toContain('.tmp');
  });
});
