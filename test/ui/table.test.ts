import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { renderTable } from '../../src/ui/table.js';

interface Row {
  ticker: string;
  stake: number;
}

describe('renderTable', () => {
  it('aligns columns by display width: Japanese, emoji and combining marks in a ticker', () => {
    const rows: Row[] = [
      { ticker: 'ABC', stake: 1 },
      { ticker: '日本', stake: 22 }, // two wide characters: 4 columns
      { ticker: '🐱CAT', stake: 333 }, // an emoji takes 2 columns
      { ticker: 'CAFE\u0301', stake: 4 }, // a combining accent takes none
    ];
    const text = renderTable(rows, [
      { header: 'TICKER', get: (r) => r.ticker },
      { header: 'STAKE', get: (r) => r.stake },
    ]);
    const lines = text.split('\n');
    // every line is as wide on screen as the header, and the numbers end in the same column
    for (const line of lines) expect(stringWidth(line)).toBe(stringWidth(lines[0] as string));
    const stakeEnds = lines.map((l) => stringWidth(l));
    expect(new Set(stakeEnds).size).toBe(1);
    expect(lines[2]).toBe('日本       22');
    expect(lines[3]).toBe('🐱CAT     333');
  });

  it('colour codes do not count', () => {
    const text = renderTable(
      [{ ticker: 'A', stake: 1 }],
      [
        { header: 'TICKER', get: (r: Row) => r.ticker, style: (s) => `\u001b[31m${s}\u001b[39m` },
        { header: 'N', get: (r: Row) => r.stake },
      ],
    );
    expect(text.split('\n')[1]).toBe('\u001b[31mA     \u001b[39m  1');
  });
});
