#!/usr/bin/env node
// Fast path: `spo --version` answers without loading oclif (start-up time matters in scripts).
if (process.argv.length === 3 && (process.argv[2] === '--version' || process.argv[2] === '-v')) {
  const { readFileSync } = await import('node:fs');
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`spo-p2p/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`);
  process.exit(0);
}
const { execute, settings } = await import('@oclif/core');
// spo runs its compiled dist/ only: with NODE_ENV=test or development oclif would map the help
// class to src/*.ts, which node cannot load.
settings.enableAutoTranspile = false;
await execute({ dir: import.meta.url });
