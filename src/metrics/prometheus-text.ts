/**
 * A strict parser of the Prometheus text exposition format (version 0.0.4), as cardano-node's two
 * tracing systems and prom-client write it, written here because npm has no maintained parser of it
 * (prom-client only writes the format; the one parser package found has no types and no engines).
 *
 * What is accepted, restated from the format's description:
 * - one sample per line: `name [{label="value",...}] value [timestamp]`, the name matching
 *   `[a-zA-Z_:][a-zA-Z0-9_:]*`, label names `[a-zA-Z_][a-zA-Z0-9_]*`, label values in double quotes
 *   with only `\\`, `\"` and `\n` escaped; a trailing comma in the label set; blanks (space, tab)
 *   between tokens, also between the name and `{` (cardano-node's legacy exporter writes one there);
 * - values as Go's ParseFloat reads decimal numbers (`1`, `-2.5`, `1e3`, `.5`), `NaN`, `+Inf`,
 *   `-Inf`; timestamps as integer milliseconds;
 * - `# HELP name text` (text with `\\` and `\n` escaped) and `# TYPE name type` (counter, gauge,
 *   histogram, summary, untyped, and the OpenMetrics types info, stateset, gaugehistogram, unknown,
 *   since the node's new tracing system writes `info`), at most once per name and before its samples;
 * - other `#` lines are comments; `# EOF` (OpenMetrics, written by the new tracing system) ends the
 *   page and only blank lines may follow; blank lines are ignored; a `\r` before `\n` is dropped.
 * Everything else is an error naming the line. The same series twice is an error too.
 *
 * Pure: text in, data out. Label sets are null-prototype objects, so a label called `__proto__`
 * is a label like any other.
 */
import { MetricsError } from './errors.js';

export type MetricType =
  | 'counter'
  | 'gauge'
  | 'histogram'
  | 'summary'
  | 'untyped'
  | 'info'
  | 'stateset'
  | 'gaugehistogram'
  | 'unknown';

const TYPES: ReadonlySet<string> = new Set([
  'counter',
  'gauge',
  'histogram',
  'summary',
  'untyped',
  'info',
  'stateset',
  'gaugehistogram',
  'unknown',
]);

export interface Sample {
  name: string;
  /** Null-prototype object: label name -> unescaped value. */
  labels: Readonly<Record<string, string>>;
  value: number;
  timestampMs?: number;
}

export interface InvalidLine {
  /** 1-based line number. */
  line: number;
  reason: string;
}

export interface MetricsPage {
  samples: Sample[];
  types: Map<string, MetricType>;
  help: Map<string, string>;
  /** Lines skipped in 'skip' mode (at most MAX_INVALID_KEPT kept; `invalidCount` counts all). */
  invalid: InvalidLine[];
  invalidCount: number;
}

export interface ParseOptions {
  /**
   * 'strict' (default): the first invalid line throws METRICS_MALFORMED.
   * 'skip': invalid lines are left out and listed, so one odd metric does not hide the others.
   */
  invalidLines?: 'strict' | 'skip';
}

export const MAX_INVALID_KEPT = 20;

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const TIMESTAMP = /^-?\d+$/;

class LineError extends Error {}

export function parsePrometheusText(text: string, options: ParseOptions = {}): MetricsPage {
  const skip = options.invalidLines === 'skip';
  const page: MetricsPage = { samples: [], types: new Map(), help: new Map(), invalid: [], invalidCount: 0 };
  const seenSeries = new Set<string>();
  const sampled = new Set<string>();
  const lines = text.split('\n');
  // a final newline leaves one empty string behind, which is just a blank line
  let ended = false;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] as string;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    try {
      if (ended) {
        if (line.trim() !== '') throw new LineError('content after "# EOF"');
        continue;
      }
      if (line.trim() === '') continue;
      if (line.startsWith('#')) {
        ended = parseComment(line, page, sampled);
        continue;
      }
      const sample = parseSample(line);
      const key = seriesKey(sample);
      if (seenSeries.has(key)) throw new LineError(`the series ${describeSeries(sample)} appears twice`);
      seenSeries.add(key);
      sampled.add(sample.name);
      page.samples.push(sample);
    } catch (error) {
      if (!(error instanceof LineError)) throw error;
      if (!skip) {
        throw new MetricsError('METRICS_MALFORMED', `line ${i + 1}: ${error.message}`, {
          hint: 'the page is not in the Prometheus text format; check that the URL is a metrics endpoint',
          details: { line: i + 1 },
        });
      }
      page.invalidCount++;
      if (page.invalid.length < MAX_INVALID_KEPT) page.invalid.push({ line: i + 1, reason: error.message });
    }
  }
  return page;
}

/** Returns true when the line is `# EOF`. */
function parseComment(line: string, page: MetricsPage, sampled: ReadonlySet<string>): boolean {
  const rest = line.slice(1);
  if (rest.trim() === 'EOF' && /^[ \t]/.test(rest)) return true;
  const m = /^[ \t]+(HELP|TYPE)(?:[ \t]+|$)/.exec(rest);
  if (!m) return false; // a plain comment
  const body = rest.slice(m[0].length);
  const nameMatch = NAME.exec(body);
  if (!nameMatch) throw new LineError(`# ${m[1]} without a valid metric name`);
  const name = nameMatch[0];
  const after = body.slice(name.length);
  if (after !== '' && !/^[ \t]/.test(after)) throw new LineError(`# ${m[1]}: invalid metric name "${body}"`);
  const value = after.replace(/^[ \t]+/, '');
  if (m[1] === 'TYPE') {
    const type = value.trim();
    if (!TYPES.has(type)) throw new LineError(`# TYPE ${name}: unknown type "${type}"`);
    if (page.types.has(name)) throw new LineError(`a second # TYPE line for ${name}`);
    if (sampled.has(name)) throw new LineError(`# TYPE ${name} after its samples`);
    page.types.set(name, type as MetricType);
  } else {
    if (page.help.has(name)) throw new LineError(`a second # HELP line for ${name}`);
    page.help.set(name, unescapeHelp(value));
  }
  return false;
}

function unescapeHelp(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = text[++i];
    if (next === '\\') out += '\\';
    else if (next === 'n') out += '\n';
    else throw new LineError(`invalid escape "\\${next ?? ''}" in # HELP text`);
  }
  return out;
}

function parseSample(line: string): Sample {
  const nameMatch = NAME.exec(line);
  if (!nameMatch) throw new LineError(`not a sample: "${clip(line)}"`);
  const name = nameMatch[0];
  let pos = skipBlanks(line, name.length);
  const labels: Record<string, string> = Object.create(null) as Record<string, string>;
  if (line[pos] === '{') pos = parseLabels(line, pos + 1, labels, name);
  if (pos === name.length && line[pos] !== ' ' && line[pos] !== '\t' && pos < line.length) {
    throw new LineError(`invalid metric name in "${clip(line)}"`);
  }
  const fields = line
    .slice(pos)
    .split(/[ \t]+/)
    .filter((f) => f !== '');
  if (fields.length === 0) throw new LineError(`${name}: no value`);
  if (fields.length > 2)
    throw new LineError(`${name}: unexpected "${clip(fields.slice(2).join(' '))}" after the value`);
  const value = parseValue(fields[0] as string, name);
  const sample: Sample = { name, labels, value };
  if (fields.length === 2) {
    const ts = fields[1] as string;
    if (!TIMESTAMP.test(ts)) throw new LineError(`${name}: invalid timestamp "${clip(ts)}"`);
    const n = Number(ts);
    if (!Number.isSafeInteger(n)) throw new LineError(`${name}: timestamp out of range`);
    sample.timestampMs = n;
  }
  return sample;
}

/** Reads `label="value",...}` from `pos` (just after `{`); returns the position after `}`. */
function parseLabels(line: string, start: number, labels: Record<string, string>, metric: string): number {
  let pos = skipBlanks(line, start);
  for (;;) {
    if (line[pos] === '}') return pos + 1;
    const m = LABEL_NAME.exec(line.slice(pos));
    if (!m) throw new LineError(`${metric}: invalid label name at column ${pos + 1}`);
    const label = m[0];
    pos = skipBlanks(line, pos + label.length);
    if (line[pos] !== '=') throw new LineError(`${metric}: expected = after label ${label}`);
    pos = skipBlanks(line, pos + 1);
    if (line[pos] !== '"') throw new LineError(`${metric}: label ${label}: expected a quoted value`);
    pos++;
    let value = '';
    for (;;) {
      const c = line[pos];
      if (c === undefined) throw new LineError(`${metric}: label ${label}: unterminated value`);
      if (c === '"') break;
      if (c === '\\') {
        const next = line[pos + 1];
        if (next === '\\') value += '\\';
        else if (next === '"') value += '"';
        else if (next === 'n') value += '\n';
        else throw new LineError(`${metric}: label ${label}: invalid escape "\\${next ?? ''}"`);
        pos += 2;
        continue;
      }
      value += c;
      pos++;
    }
    if (Object.hasOwn(labels, label)) throw new LineError(`${metric}: label ${label} given twice`);
    labels[label] = value;
    pos = skipBlanks(line, pos + 1);
    if (line[pos] === ',') pos = skipBlanks(line, pos + 1);
    else if (line[pos] !== '}') throw new LineError(`${metric}: expected , or } after label ${label}`);
  }
}

function parseValue(text: string, name: string): number {
  if (DECIMAL.test(text)) return Number(text);
  if (text === 'NaN') return Number.NaN;
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  throw new LineError(`${name}: invalid value "${clip(text)}"`);
}

function skipBlanks(line: string, pos: number): number {
  let p = pos;
  while (line[p] === ' ' || line[p] === '\t') p++;
  return p;
}

function seriesKey(s: Sample): string {
  const names = Object.keys(s.labels).sort();
  return JSON.stringify([s.name, ...names.map((n) => [n, s.labels[n]])]);
}

function describeSeries(s: Sample): string {
  const names = Object.keys(s.labels).sort();
  if (names.length === 0) return s.name;
  return `${s.name}{${names.map((n) => `${n}=${JSON.stringify(s.labels[n])}`).join(',')}}`;
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The value of the sample `name` without labels, or undefined when the page has none. */
export function unlabelledValue(page: MetricsPage, name: string): number | undefined {
  for (const s of page.samples) {
    if (s.name === name && Object.keys(s.labels).length === 0) return s.value;
  }
  return undefined;
}

/** Index of the label-free samples by name, for reading many names from one page. */
export function unlabelledValues(page: MetricsPage): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of page.samples) {
    if (Object.keys(s.labels).length === 0 && !out.has(s.name)) out.set(s.name, s.value);
  }
  return out;
}
