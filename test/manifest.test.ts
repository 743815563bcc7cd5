import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './lib/cli.js';

interface ManifestCommand {
  flags: Record<string, unknown>;
  args: Record<string, unknown>;
}

function commandFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? commandFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('oclif.manifest.json', () => {
  it('is fresh: it names every command in src/commands with its current flags and args', async () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
      commands: Record<string, ManifestCommand>;
    };
    const srcDir = join(ROOT, 'src', 'commands');
    const expected: Record<string, { flags: string[]; args: string[] }> = {};
    for (const file of commandFiles(srcDir)) {
      const id = relative(srcDir, file)
        .replace(/\.ts$/, '')
        .replace(/[\\/]index$/, '')
        .split(/[\\/]/)
        .join(':');
      const mod = (await import(file)) as {
        default: { flags?: object; baseFlags?: object; args?: object; enableJsonFlag?: boolean };
      };
      const cls = mod.default;
      const flags = new Set([...Object.keys(cls.baseFlags ?? {}), ...Object.keys(cls.flags ?? {})]);
      if (cls.enableJsonFlag) flags.add('json');
      expected[id] = { flags: [...flags].sort(), args: Object.keys(cls.args ?? {}).sort() };
    }
    const actual = Object.fromEntries(
      Object.entries(manifest.commands).map(([id, c]) => [
        id,
        { flags: Object.keys(c.flags).sort(), args: Object.keys(c.args).sort() },
      ]),
    );
    expect(actual, 'oclif.manifest.json is stale: run `npm run build` and commit it').toEqual(expected);
  });
});
