/**
 * The link-delays file a testnet node is started with (`spo run --link-delays FILE`, written by
 * `spo testnet`, docs/testnet.md): for each remote IP, the one-way delay in ms that this node adds
 * to what it sends to that remote.
 *
 * ```json
 * { "linkDelays": { "127.0.0.2": 41.7, "127.0.0.3": 12.0 } }
 * ```
 */
import type { Millis } from '../../lib/clock.js';
import { InputError } from '../../lib/errors.js';
import { parseJsonText } from '../../lib/read-input.js';
import type { LinkDelays } from './delayed.js';

/** Longest delay accepted: a minute is far beyond any link on Earth and keeps timers sane. */
export const MAX_LINK_DELAY_MS: Millis = 60_000;

export function parseLinkDelays(text: string, file: string): LinkDelays {
  const doc = parseJsonText(text, file);
  const table =
    typeof doc === 'object' && doc !== null && !Array.isArray(doc)
      ? (doc as Record<string, unknown>).linkDelays
      : undefined;
  if (typeof table !== 'object' || table === null || Array.isArray(table)) {
    throw new InputError('LINK_DELAYS_INVALID', `${file}: expected an object with "linkDelays": { "IP": ms, ... }`, {
      hint: 'this file is written by spo testnet; see docs/testnet.md for its shape',
      details: { file },
    });
  }
  const out = new Map<string, Millis>();
  for (const [ip, ms] of Object.entries(table as Record<string, unknown>)) {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > MAX_LINK_DELAY_MS) {
      throw new InputError(
        'LINK_DELAYS_INVALID',
        `${file}: linkDelays.${ip}: expected a delay in ms from 0 to ${MAX_LINK_DELAY_MS}, got ${JSON.stringify(ms)}`,
        { details: { file, ip } },
      );
    }
    out.set(ip, ms);
  }
  return out;
}

/** The file's text for `delays` (what `spo testnet` writes for each node). */
export function formatLinkDelays(delays: LinkDelays): string {
  return `${JSON.stringify({ linkDelays: Object.fromEntries(delays) }, null, 2)}\n`;
}
