/**
 * Rewrites the rules table of docs/topology-lint.md from the rule objects (src/topology/lint-rules.ts).
 * Run by `npm run docs`; test/topology/parse.test.ts fails when the table and the rules differ.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { lintRulesTable, replaceRulesTable } from '../src/topology/lint-rules.js';

const file = fileURLToPath(new URL('../docs/topology-lint.md', import.meta.url));
const before = readFileSync(file, 'utf8');
const after = replaceRulesTable(before, lintRulesTable());
if (after !== before) writeFileSync(file, after);
process.stdout.write(after !== before ? `updated ${file}\n` : `${file} is up to date\n`);
