import stringWidth from 'string-width';

export interface Column<Row> {
  header: string;
  get: (row: Row) => string | number | undefined;
  /** Right-align (numbers). Defaults to true when the first value is a number. */
  align?: 'left' | 'right';
  /** Optional styling applied after padding (colour must not change width). */
  style?: (text: string, row: Row) => string;
}

/**
 * Columns on a terminal: East Asian wide characters and emoji take two, combining marks none, colour
 * codes none (a ticker in Japanese or with an emoji would shift the columns if counted in UTF-16 units).
 */
const width = (s: string): number => stringWidth(s);

/** Renders aligned columns with a header row; numbers right-aligned (docs/CONVENTIONS.md). */
export function renderTable<Row>(
  rows: readonly Row[],
  columns: readonly Column<Row>[],
  header = (s: string) => s,
): string {
  const cells = rows.map((row) => columns.map((col) => formatCell(col.get(row))));
  const widths = columns.map((col, i) => Math.max(width(col.header), ...cells.map((r) => width(r[i] ?? ''))));
  const aligns = columns.map(
    (col) => col.align ?? (rows.length > 0 && typeof col.get(rows[0] as Row) === 'number' ? 'right' : 'left'),
  );
  const pad = (text: string, i: number): string => {
    const gap = ' '.repeat(Math.max(0, (widths[i] ?? 0) - width(text)));
    return aligns[i] === 'right' ? gap + text : text + gap;
  };
  const lines = [
    header(
      columns
        .map((c, i) => pad(c.header, i))
        .join('  ')
        .trimEnd(),
    ),
  ];
  rows.forEach((row, r) => {
    const line = columns.map((col, i) => {
      const padded = pad(cells[r]?.[i] ?? '', i);
      return col.style ? col.style(padded, row) : padded;
    });
    lines.push(line.join('  ').trimEnd());
  });
  return lines.join('\n');
}

function formatCell(value: string | number | undefined): string {
  if (value === undefined) return '-';
  return typeof value === 'number' ? String(value) : value;
}

/** Text cut to at most `max` columns with a middle ellipsis (both ends of a name say the most). */
export function fitWidth(text: string, max: number): string {
  if (width(text) <= max) return text;
  if (max <= 1) return '…';
  const chars = [...text];
  const keep = max - 1;
  const head = Math.ceil(keep / 2);
  let tail = keep - head;
  let left = '';
  for (const ch of chars) {
    if (width(left + ch) > head) break;
    left += ch;
  }
  let right = '';
  for (let i = chars.length - 1; i >= 0 && tail > 0; i--) {
    const ch = chars[i] as string;
    const w = width(ch);
    if (w > tail) break;
    right = ch + right;
    tail -= w;
  }
  return `${left}…${right}`;
}
