/** The reference tip from Koios `/tip` (optional, when online), instead of the relays' majority. */
import { timeLimit } from '../lib/abort.js';
import { describeError, SpoError } from '../lib/errors.js';
import type { ReferenceTip } from './model.js';

export async function koiosTip(
  baseUrl: string,
  options: { timeoutMs: number; token?: string | undefined; signal?: AbortSignal },
): Promise<ReferenceTip> {
  const url = `${baseUrl.replace(/\/+$/, '')}/tip`;
  // a timer we hold (lib/abort.ts): AbortSignal.any's timeout stops firing after a GC on Node 20
  const limit = timeLimit(options.timeoutMs, { parent: options.signal });
  let body: unknown;
  try {
    const res = await fetch(url, {
      headers: { accept: 'application/json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
      signal: limit.signal,
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    body = await res.json();
  } catch (error) {
    throw new SpoError('KOIOS_TIP', `could not read the reference tip from ${url}: ${describeError(error)}`, {
      hint: 'use --reference peers (the highest tip of the majority of the relays), or check --koios-url',
      cause: error,
    });
  } finally {
    limit.dispose();
  }
  const row = Array.isArray(body) ? (body[0] as Record<string, unknown> | undefined) : undefined;
  const slot = row?.abs_slot;
  if (typeof slot !== 'number' || !Number.isInteger(slot)) {
    throw new SpoError('KOIOS_TIP', `${url}: unexpected answer (no abs_slot)`, {
      hint: 'use --reference peers, or check --koios-url',
    });
  }
  const tip: ReferenceTip = { slot, source: 'koios', from: 1 };
  if (typeof row?.block_no === 'number') tip.blockNo = row.block_no;
  if (typeof row?.hash === 'string') tip.hash = row.hash;
  return tip;
}
