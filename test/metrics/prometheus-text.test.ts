/**
 * The text exposition parser: what the node's two exporters and prom-client write, the format's
 * edge cases, the errors, and fuzzing (random text never crashes it with anything but
 * METRICS_MALFORMED; generated pages parse back to what was rendered).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MetricsError } from '../../src/metrics/errors.js';
import { parsePrometheusText, type Sample, unlabelledValue } from '../../src/metrics/prometheus-text.js';

function malformed(text: string): MetricsError {
  try {
    parsePrometheusText(text);
  } catch (error) {
    expect(error).toBeInstanceOf(MetricsError);
    expect((error as MetricsError).code).toBe('METRICS_MALFORMED');
    return error as MetricsError;
  }
  throw new Error(`parsed without error: ${JSON.stringify(text)}`);
}

describe('parsePrometheusText', () => {
  it('reads the legacy exporter: name value, no TYPE lines, a blank before a label set', () => {
    const page = parsePrometheusText(
      [
        'cardano_node_metrics_peerSelection_cold 41',
        'cardano_node_metrics_blockNum_int 11234567',
        'cardano_node_metrics_density_real 4.9e-2',
        'cardano_node_metrics_cardano_build_info {version="10.5.3",revision="6c034ec0"} 1',
        'rts_gc_bytes_allocated 123456789',
        '',
      ].join('\n'),
    );
    expect(unlabelledValue(page, 'cardano_node_metrics_peerSelection_cold')).toBe(41);
    expect(unlabelledValue(page, 'cardano_node_metrics_density_real')).toBeCloseTo(0.049);
    const info = page.samples.find((s) => s.name === 'cardano_node_metrics_cardano_build_info') as Sample;
    expect({ ...info.labels }).toEqual({ version: '10.5.3', revision: '6c034ec0' });
    expect(info.value).toBe(1);
    expect(page.types.size).toBe(0);
  });

  it('reads the new exporter: TYPE lines (info among them), HELP, # EOF', () => {
    const page = parsePrometheusText(
      [
        '# TYPE cardano_node_metrics_peerSelection_Cold_int gauge',
        '# HELP cardano_node_metrics_peerSelection_Cold_int Number of cold peers',
        'cardano_node_metrics_peerSelection_Cold_int 41',
        '# TYPE cardano_node_metrics_cardano_build_info info',
        'cardano_node_metrics_cardano_build_info{version="10.5.3"} 1',
        '# TYPE cardano_node_metrics_forks_counter counter',
        'cardano_node_metrics_forks_counter 3',
        '# EOF',
        '',
      ].join('\n'),
    );
    expect(page.types.get('cardano_node_metrics_peerSelection_Cold_int')).toBe('gauge');
    expect(page.types.get('cardano_node_metrics_cardano_build_info')).toBe('info');
    expect(page.help.get('cardano_node_metrics_peerSelection_Cold_int')).toBe('Number of cold peers');
    expect(unlabelledValue(page, 'cardano_node_metrics_forks_counter')).toBe(3);
  });

  it('reads values as Go does: exponents, signs, NaN, +Inf, -Inf, timestamps; CRLF', () => {
    const page = parsePrometheusText('a 1e3\r\nb -2.5\nc .5\nd NaN\ne +Inf\nf -Inf 1700000000000\ng 7 -5\n');
    const v = (n: string) => unlabelledValue(page, n);
    expect([v('a'), v('b'), v('c'), v('e'), v('f')]).toEqual([1000, -2.5, 0.5, Infinity, -Infinity]);
    expect(Number.isNaN(v('d'))).toBe(true);
    expect(page.samples.find((s) => s.name === 'f')?.timestampMs).toBe(1_700_000_000_000);
    expect(page.samples.find((s) => s.name === 'g')?.timestampMs).toBe(-5);
  });

  it('unescapes label values and HELP text; labels are plain data (__proto__ too)', () => {
    const page = parsePrometheusText(
      '# HELP m a \\\\ b\\nc\nm{a="x\\"y",b="1\\\\2\\n", __proto__="p",} 1\n# a plain comment\n',
    );
    const s = page.samples[0] as Sample;
    expect(s.labels.a).toBe('x"y');
    expect(s.labels.b).toBe('1\\2\n');
    expect(Object.hasOwn(s.labels, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(s.labels, '__proto__')?.value).toBe('p');
    expect(page.help.get('m')).toBe('a \\ b\nc');
  });

  it.each([
    ['a value that is not a number', 'm one\n', /invalid value/],
    ['no value', 'm\n', /no value/],
    ['hexadecimal', 'm 0x10\n', /invalid value/],
    ['trailing garbage', 'm 1 2 3\n', /unexpected/],
    ['an invalid timestamp', 'm 1 1.5\n', /invalid timestamp/],
    ['an invalid name', '1m 1\n', /not a sample/],
    ['a dash in the name', 'm-x 1\n', /invalid metric name/],
    ['an unterminated label value', 'm{a="x} 1\n', /unterminated/],
    ['an invalid escape', 'm{a="\\t"} 1\n', /invalid escape/],
    ['a label without quotes', 'm{a=x} 1\n', /quoted value/],
    ['a label twice', 'm{a="1",a="2"} 1\n', /twice/],
    ['the same series twice', 'm{a="1"} 1\nm{a="1"} 2\n', /appears twice/],
    ['an unknown type', '# TYPE m thing\n', /unknown type/],
    ['a second TYPE', '# TYPE m gauge\n# TYPE m gauge\n', /second # TYPE/],
    ['TYPE after samples', 'm 1\n# TYPE m gauge\n', /after its samples/],
    ['an invalid HELP escape', '# HELP m a\\tb\n', /invalid escape/],
    ['content after # EOF', 'm 1\n# EOF\nn 2\n', /after "# EOF"/],
    ['an HTML page', '<html><body>nodes</body></html>\n', /not a sample/],
  ])('refuses %s', (_what, text, reason) => {
    const err = malformed(text);
    expect(err.message).toMatch(/^line \d+: /);
    expect(err.message).toMatch(reason);
  });

  it('names the line of the error', () => {
    expect(malformed('a 1\nb 2\nc x\n').details).toEqual({ line: 3 });
  });

  it("in 'skip' mode leaves invalid lines out and lists them", () => {
    const page = parsePrometheusText('a 1\nb x\nc 3\n', { invalidLines: 'skip' });
    expect(page.samples.map((s) => s.name)).toEqual(['a', 'c']);
    expect(page.invalidCount).toBe(1);
    expect(page.invalid[0]).toMatchObject({ line: 2 });
  });

  it('fuzz: any text either parses or throws METRICS_MALFORMED, never anything else', () => {
    const alphabet = fc.constantFrom(...'ab_:{}="\\, \t\n#01.eE+-NaInf\rTYPEHLPOu'.split(''));
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: alphabet, maxLength: 200 })), (text) => {
        try {
          const page = parsePrometheusText(text);
          for (const s of page.samples) expect(typeof s.value).toBe('number');
        } catch (error) {
          expect(error).toBeInstanceOf(MetricsError);
          expect((error as MetricsError).code).toBe('METRICS_MALFORMED');
        }
        // skip mode never throws
        parsePrometheusText(text, { invalidLines: 'skip' });
      }),
      { seed: 13, numRuns: 3000 },
    );
  });

  it('fuzz: a rendered page parses back to the same samples', () => {
    const name = fc.stringMatching(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,20}$/);
    const labelName = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,10}$/);
    const labelValue = fc.string({ maxLength: 12 });
    const value = fc.oneof(fc.integer(), fc.double({ noNaN: true }), fc.constant(Number.NaN));
    const sample = fc.record({
      name,
      labels: fc.uniqueArray(fc.tuple(labelName, labelValue), { selector: (t) => t[0], maxLength: 4 }),
      value,
      ts: fc.option(fc.integer({ min: -1e12, max: 1e13 }), { nil: undefined }),
      spacing: fc.constantFrom(' ', '\t', '  '),
    });
    const escapeValue = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
    const render = (v: number) =>
      Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v);
    fc.assert(
      fc.property(
        fc.uniqueArray(sample, {
          selector: (s) => JSON.stringify([s.name, [...s.labels].sort()]),
          maxLength: 12,
        }),
        (samples) => {
          const text = samples
            .map((s) => {
              const labels =
                s.labels.length === 0 ? '' : `{${s.labels.map(([k, v]) => `${k}="${escapeValue(v)}"`).join(',')}}`;
              return `${s.name}${labels}${s.spacing}${render(s.value)}${s.ts === undefined ? '' : ` ${s.ts}`}`;
            })
            .join('\n');
          const page = parsePrometheusText(text);
          expect(page.samples.length).toBe(samples.length);
          page.samples.forEach((got, i) => {
            const want = samples[i] as (typeof samples)[number];
            expect(got.name).toBe(want.name);
            expect({ ...got.labels }).toEqual(Object.fromEntries(want.labels));
            expect(Object.is(got.value, want.value) || got.value === want.value).toBe(true);
            expect(got.timestampMs).toBe(want.ts);
          });
        },
      ),
      { seed: 14, numRuns: 1000 },
    );
  });
});
