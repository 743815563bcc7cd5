import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../fixtures/net/', import.meta.url));

export function fixtureHex(rel: string): string {
  return readFileSync(`${FIXTURES}${rel}`, 'utf8').trim();
}

export function fixtureBytes(rel: string): Uint8Array {
  return new Uint8Array(Buffer.from(fixtureHex(rel).replace(/\s+/g, ''), 'hex'));
}

export function fixtureNames(dir: string): string[] {
  return readdirSync(`${FIXTURES}${dir}`).sort();
}

/** Rows of vectors/derived/messages.tsv: [name, hex, meaning]. */
export function derivedMessages(): Array<{ name: string; hex: string; meaning: string }> {
  return readFileSync(`${FIXTURES}vectors/derived/messages.tsv`, 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [name, hex, meaning] = l.split('\t') as [string, string, string];
      return { name, hex, meaning };
    });
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
