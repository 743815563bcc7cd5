/**
 * Runs every benchmark module in bench/ (files named *.bench.ts), or only those named on the
 * command line (`npm run bench -- dns probe`). Each module measures its subject against a baseline
 * taken in the same run and reports ratios; nothing here is a pass/fail test.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface BenchResult {
  /** What was measured, e.g. "relays list wall time". */
  name: string;
  /** The measured value and its unit. */
  value: number;
  unit: string;
  /** The baseline measured in the same run, when there is one. */
  baseline?: { name: string; value: number };
  /** value / baseline (or the figure the target is stated in). */
  ratio?: number;
  /** The target from the issue, in words, e.g. "<= 6x node -e 0". */
  target?: string;
  /** Whether the target was met, when it can be judged. */
  met?: boolean;
}

export type BenchModule = { default: () => Promise<BenchResult[]> };

const dir = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();

const all: Array<BenchResult & { module: string }> = [];
for (const file of files) {
  process.stderr.write(`\n== ${file}\n`);
  const mod = (await import(pathToFileURL(`${dir}/${file}`).href)) as BenchModule;
  const results = await mod.default();
  for (const r of results) {
    all.push({ ...r, module: file });
    const ratio = r.ratio === undefined ? '' : `  ratio ${r.ratio.toFixed(2)}`;
    const base = r.baseline ? `  (baseline ${r.baseline.name}: ${r.baseline.value.toFixed(3)})` : '';
    const target = r.target ? `  target ${r.target}${r.met === undefined ? '' : r.met ? ' MET' : ' NOT MET'}` : '';
    process.stdout.write(`${r.name}: ${r.value.toFixed(3)} ${r.unit}${base}${ratio}${target}\n`);
  }
}
mkdirSync(`${dir}/results`, { recursive: true });
writeFileSync(
  `${dir}/results/latest.json`,
  `${JSON.stringify({ date: new Date().toISOString(), results: all }, null, 2)}\n`,
);
