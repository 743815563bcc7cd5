/** The reference tip from Koios `/tip` (optional, when online), instead of the relays' majority. */
import { describeError, SpoError } from '../lib/errors.js';
import { HttpClient } from '../registry/http.js';
import type { ReferenceTip } from './model.js';

/** The most a `/tip` answer may hold: the real one is about 200 bytes. */
export const KOIOS_TIP_MAX_BYTES = 1024 * 1024;

export async function koiosTip(
  baseUrl: string,
  options: { timeoutMs: number; token?: string | undefined; signal?: AbortSignal },
): Promise<ReferenceTip> {
  const url = `${baseUrl.replace(/\/+$/, '')}/tip`;
  // The registry's client: its own timer (not AbortSignal.timeout), the body read counting bytes up
  // to a cap (an endless or huge answer costs at most the cap), JSON content type and nesting checked.
  const client = new HttpClient({
    service: 'Koios',
    baseUrl,
    totalTimeoutMs: options.timeoutMs,
    requestTimeoutMs: options.timeoutMs,
    maxRetries: 0,
    maxBodyBytes: KOIOS_TIP_MAX_BYTES,
    signal: options.signal,
    secrets: [options.token],
    ...(options.token ? { headers: { authorization: `Bearer ${options.token}` } } : {}),
  });
  let body: unknown;
  try {
    body = (await client.getJson('/tip')).body;
  } catch (error) {
    const inner = error instanceof SpoError ? error.message.replace(/^Koios: /, '') : describeError(error);
    throw new SpoError('KOIOS_TIP', `could not read the reference tip from ${client.redact(url)}: ${inner}`, {
      hint: 'use --reference peers (the highest tip of the majority of the relays), or check --koios-url',
      cause: error,
      ...(error instanceof SpoError ? { details: { cause: error.code, ...error.details } } : {}),
    });
  } finally {
    await client.close();
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
