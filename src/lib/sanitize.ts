/**
 * Text from a source (relay names, tickers, pool ids from a registry, a file or a peer) as it may be
 * shown on a terminal: control characters (ESC sequences could clear the screen, recolour it or
 * rewrite the title; newlines could forge table rows) and bidi overrides are written as \uXXXX
 * escapes. JSON output carries the data unchanged (JSON escapes control characters itself).
 */
export function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what is escaped
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (ch) => {
    return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}
