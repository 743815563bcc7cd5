/** Text rendering of `spo topology lint` findings for people (the JSON shape is the findings themselves). */
import { counted } from '../lib/plural.js';
import type { Severity, TopologyFinding } from '../topology/model.js';
import type { Palette } from './color.js';

export function renderFindings(findings: readonly TopologyFinding[], c: Palette): string {
  if (findings.length === 0) return '';
  const mark = (s: Severity): string =>
    s === 'error' ? c.fail('error  ') : s === 'warning' ? c.warn('warning') : c.dim('info   ');
  const lines: string[] = [];
  for (const f of findings) {
    lines.push(`${mark(f.severity)} ${f.code}  ${c.dim(f.path)}`);
    lines.push(`        ${f.message}`);
    lines.push(`        ${c.dim('fix:')} ${f.fix}`);
  }
  return `${lines.join('\n')}\n`;
}

export function summaryLine(file: string, counts: Record<Severity, number>, c: Palette): string {
  const parts = [counted(counts.error, 'error'), counted(counts.warning, 'warning'), `${counts.info} info`];
  const head = counts.error > 0 ? c.fail('✗') : counts.warning > 0 ? c.warn('!') : c.ok('✓');
  return `${head} ${file}: ${parts.join(', ')}\n`;
}
