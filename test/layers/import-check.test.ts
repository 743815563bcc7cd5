/**
 * The layer rules (.dependency-cruiser.cjs, docs/ARCHITECTURE.md "Layers"): the check catches each
 * kind of wrong-way import in a small tree made for it, passes on the real src/, and library code
 * throws InputError or domain errors, never the commands' UsageError.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type IConfiguration, type ICruiseResult } from 'dependency-cruiser';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const config = createRequire(import.meta.url)(join(ROOT, '.dependency-cruiser.cjs')) as IConfiguration;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Cruises a tree of plain JS modules laid out like src/ and returns the names of the broken rules. */
async function violations(files: Record<string, string[]>): Promise<string[]> {
  const base = mkdtempSync(join(tmpdir(), 'spo-layers-'));
  dirs.push(base);
  for (const [file, imports] of Object.entries(files)) {
    const path = join(base, file);
    mkdirSync(dirname(path), { recursive: true });
    const lines = imports.map((to) => `import '${relative(dirname(file), to).replace(/^(?!\.)/, './')}';`);
    writeFileSync(path, `${lines.join('\n')}\nexport const x = 1;\n`);
  }
  const result = await cruise(['src'], {
    baseDir: base,
    validate: true,
    ruleSet: { forbidden: config.forbidden ?? [] },
    doNotFollow: { path: 'node_modules' },
  });
  const output = result.output as ICruiseResult;
  return [...new Set(output.summary.violations.map((v) => v.rule.name))].sort();
}

describe('the import check', () => {
  it('passes a tree that points one way: commands -> library -> lib', async () => {
    expect(
      await violations({
        'src/commands/x.js': ['src/base-command.js', 'src/registry/a.js', 'src/ui/t.js'],
        'src/base-command.js': ['src/ui/t.js', 'src/lib/e.js'],
        'src/registry/a.js': ['src/lib/e.js'],
        'src/ui/t.js': ['src/registry/a.js'],
        'src/governor/g.js': ['src/lib/e.js'],
        'src/config/c.js': ['src/lib/e.js'],
        'src/lib/e.js': [],
      }),
    ).toEqual([]);
  });

  it.each([
    ['a source rendering', 'library-does-not-render', { 'src/registry/a.js': ['src/ui/t.js'], 'src/ui/t.js': [] }],
    ['a resolver rendering', 'library-does-not-render', { 'src/dns/a.js': ['src/ui/t.js'], 'src/ui/t.js': [] }],
    ['the topology rendering', 'library-does-not-render', { 'src/topology/a.js': ['src/ui/t.js'], 'src/ui/t.js': [] }],
    [
      'library code importing a command',
      'nothing-imports-commands',
      { 'src/topology/a.js': ['src/commands/x.js'], 'src/commands/x.js': [] },
    ],
    [
      'library code importing the base command',
      'only-commands-import-base-command',
      { 'src/dns/a.js': ['src/base-command.js'], 'src/base-command.js': [] },
    ],
    [
      'lib importing a library module',
      'lib-imports-only-lib',
      { 'src/lib/e.js': ['src/registry/a.js'], 'src/registry/a.js': [] },
    ],
    [
      'the governor importing the registry',
      'governor-imports-only-governor-and-lib',
      { 'src/governor/g.js': ['src/registry/a.js'], 'src/registry/a.js': [] },
    ],
    [
      'the governor importing dns',
      'governor-imports-only-governor-and-lib',
      { 'src/governor/g.js': ['src/dns/a.js'], 'src/dns/a.js': [] },
    ],
    [
      'the governor importing the config',
      'governor-imports-only-governor-and-lib',
      { 'src/governor/g.js': ['src/config/c.js'], 'src/config/c.js': [] },
    ],
    ['net importing dns', 'net-not-dns-registry-ui', { 'src/net/client.js': ['src/dns/a.js'], 'src/dns/a.js': [] }],
    [
      'net importing the registry',
      'net-not-dns-registry-ui',
      { 'src/net/client.js': ['src/registry/a.js'], 'src/registry/a.js': [] },
    ],
    [
      'the config importing the governor',
      'config-imports-only-config-and-lib',
      { 'src/config/c.js': ['src/governor/g.js'], 'src/governor/g.js': [] },
    ],
    [
      'the event kernel importing the governor',
      'event-kernel-imports-only-lib',
      { 'src/sim/scheduler.js': ['src/governor/g.js'], 'src/governor/g.js': [] },
    ],
    [
      'a cycle',
      'no-circular',
      { 'src/registry/a.js': ['src/registry/b.js'], 'src/registry/b.js': ['src/registry/a.js'] },
    ],
  ] as Array<[string, string, Record<string, string[]>]>)('fails on %s (%s)', async (_what, rule, files) => {
    expect(await violations(files)).toContain(rule);
  });

  it('passes on the real src/', async () => {
    const result = await cruise(
      ['src'],
      { ...config.options, baseDir: ROOT, validate: true, ruleSet: config },
      undefined,
      {
        tsConfig: JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')) as object,
      },
    );
    const output = result.output as ICruiseResult;
    expect(output.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`)).toEqual([]);
    expect(output.summary.totalCruised).toBeGreaterThan(100);
  });
});

describe('errors thrown by library code', () => {
  it('no library module uses UsageError (commands and the base command only)', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (name.endsWith('.ts')) {
          const rel = relative(ROOT, path);
          if (/^src\/(commands\/|base-command\.ts$|lib\/errors\.ts$)/.test(rel)) continue;
          if (/\bUsageError\b/.test(readFileSync(path, 'utf8'))) offenders.push(rel);
        }
      }
    };
    walk(join(ROOT, 'src'));
    expect(offenders).toEqual([]);
  });
});
