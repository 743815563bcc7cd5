import { describe, expect, it } from 'vitest';
import { parseJsonText } from '../../src/lib/read-input.js';

describe('parseJsonText', () => {
  it('parses JSON', () => {
    expect(parseJsonText('{"a":1}', 'f.json')).toEqual({ a: 1 });
  });
  it('names the file in an INVALID_JSON error', () => {
    expect(() => parseJsonText('{', 'f.json')).toThrowError(
      expect.objectContaining({ code: 'INVALID_JSON', message: expect.stringMatching(/^f\.json: invalid JSON: /) }),
    );
  });
  it('says a leading byte-order mark is the problem and how to remove it', () => {
    expect(() => parseJsonText('\uFEFF{}', 'config.json')).toThrowError(
      expect.objectContaining({
        message: 'config.json: invalid JSON: the file starts with a UTF-8 byte-order mark (BOM)',
        hint: expect.stringContaining('without BOM'),
      }),
    );
  });
});
