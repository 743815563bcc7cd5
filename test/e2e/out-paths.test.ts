/**
 * What `--out` may name, through the real binary (issue 16): standard output by its /proc name, a
 * full device, a symlink (also migrated in place), a 0600 file, a read-only file, a read-only folder.
 * Devices are made in a temporary folder when the test may (root: mknod), so that spo before the
 * fix could only ever replace our own copies, never the system's /dev nodes. Needs a build.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJsonOutput, runCli } from '../lib/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'spo-out-paths-'));
chmodSync(dir, 0o755);
const root = process.getuid?.() === 0;

/** /dev/full made in our folder when we may, else the system's (written to only by a fixed spo). */
function fullDevice(): string {
  const path = join(dir, 'full');
  try {
    execFileSync('mknod', [path, 'c', '1', '7'], { stdio: 'ignore' });
    return path;
  } catch {
    return '/dev/full';
  }
}

describe('--out that is not a plain file', () => {
  it('a link to standard output (/proc/self/fd/1, what /dev/stdout is) is written to, not replaced', async () => {
    const link = join(dir, 'stdout-link');
    symlinkSync('/proc/self/fd/1', link);
    const r = await runCli(['relays', 'export', '--format', 'csv', '--out', link]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^pool,ticker,stake,status,kind,host,port,flags\n/);
    expect(r.stdout.trimEnd().split('\n').length).toBeGreaterThan(1000);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  });

  it('--out /dev/stdout writes the export to standard output', async () => {
    const r = await runCli(['relays', 'export', '--format', 'csv', '--out', '/dev/stdout']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^pool,ticker,stake,status,kind,host,port,flags\n/);
    expect(lstatSync('/dev/stdout').isSymbolicLink()).toBe(true);
  });

  it('a full device is a clear ENOSPC error with exit 1, never "wrote", and stays a device', async () => {
    const full = fullDevice();
    const r = await runCli(['relays', 'export', '--format', 'csv', '--out', full]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`spo: could not write ${full}: no space left on the device (ENOSPC)\n`);
    expect(r.stderr).not.toContain('wrote');
    expect(statSync(full).isCharacterDevice()).toBe(true);
  });

  it('a symlink is written through to its target; a 0600 file stays 0600', async () => {
    const real = join(dir, 'real-snapshot.json');
    const link = join(dir, 'snapshot-link.json');
    writeFileSync(real, '{}');
    chmodSync(real, 0o600);
    symlinkSync(real, link);
    const r = await runCli(['relays', 'export', '--format', 'snapshot-v2', '--out', link]);
    expect(r.code).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(JSON.parse(readFileSync(real, 'utf8')).version).toBe(2);
    expect(statSync(real).mode & 0o777).toBe(0o600);
    expect(readFileSync(`${real}.bak`, 'utf8')).toBe('{}');
  });

  it('topology migrate in place through a symlink migrates the target and keeps the link', async () => {
    const real = join(dir, 'legacy-topology.json');
    const link = join(dir, 'topology-link.json');
    const legacy = '{"Producers": [{"addr": "relay.example.com", "port": 3001, "valency": 1}]}\n';
    writeFileSync(real, legacy);
    symlinkSync('legacy-topology.json', link);
    const r = await runCli(['topology', 'migrate', link, '--yes']);
    expect(r.code).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe('legacy-topology.json');
    expect(JSON.parse(readFileSync(real, 'utf8'))).toHaveProperty('localRoots');
    expect(readFileSync(`${real}.bak`, 'utf8')).toBe(legacy);
    expect(r.stdout).toContain(`wrote ${link} (${real}) (previous file kept as ${real}.bak)`);
  });

  it('a read-only file is refused before the source is read (exit 2), and left as it was', async () => {
    const ro = join(dir, 'read-only.json');
    writeFileSync(ro, 'keep me');
    chmodSync(ro, 0o444);
    const r = await runCli(['relays', 'export', '--format', 'json', '--out', ro, '--json']);
    expect(r.code).toBe(2);
    expect(parseJsonOutput<{ error: { code: string; message: string; hint: string } }>(r).error).toMatchObject({
      code: 'WRITE_READ_ONLY',
      message: `${ro} is read-only (mode 0444): spo does not replace it`,
      hint: `make it writable first (chmod u+w ${ro}) or choose another --out`,
    });
    expect(readFileSync(ro, 'utf8')).toBe('keep me');
  });

  it.skipIf(!root)('a folder that is not writable: the hint says so (run as nobody)', async () => {
    const ro = join(dir, 'ro-folder');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    const r = await runCli(['relays', 'export', '--format', 'json', '--out', join(ro, 'x.json')], {
      uid: 65534,
      gid: 65534,
      env: { HOME: dir },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`spo: cannot write ${join(ro, 'x.json')}: the folder ${ro} is not writable (EACCES)\n`);
    expect(r.stderr).toMatch(/hint: spo writes a temporary file in the folder .*make the folder writable/);
    expect(r.stderr).not.toContain('create the folder first');
  });
});
