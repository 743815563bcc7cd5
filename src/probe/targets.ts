/** What to probe: the relays of registry pools, or addresses named on the command line. Pure. */
import { isIPv4, isIPv6 } from 'node:net';
import { hostKind, isValidHostname, parseEndpoint } from '../lib/address.js';
import { InputError } from '../lib/errors.js';
import type { Pool } from '../registry/model.js';
import { UNUSABLE_FLAGS } from '../registry/model.js';
import type { ProbeTarget } from './model.js';

/** The pool id given to addresses named on the command line. */
export const ARGS_POOL = '(args)';

/**
 * One target per registered relay, pools in the order given. A relay whose registered address is
 * unusable as a public peer (loopback, private, port 0...) is reported as UNUSABLE_ADDRESS rather
 * than probed, unless `includeUnusable` (probing 127.0.0.1 would reach the operator's own machine);
 * a registered name is held to the same rule for each address it resolves to (`publicOnly`).
 */
export function* targetsFromPools(pools: Iterable<Pool>, includeUnusable = false): Generator<ProbeTarget> {
  for (const p of pools) {
    for (const relay of p.relays) {
      const bad = relay.flags.filter((f) => UNUSABLE_FLAGS.has(f));
      const t: ProbeTarget = { pool: p.id, relay };
      if (p.ticker !== undefined) t.ticker = p.ticker;
      if (bad.length > 0 && !includeUnusable)
        t.skip = `registered address is not usable as a public peer (${bad.join(', ')}): not probed (--include-unusable probes it)`;
      // A name is checked once resolved: it would otherwise reach the operator's machine or LAN.
      else if (!includeUnusable && (relay.kind === 'dns' || relay.kind === 'srv')) t.publicOnly = true;
      yield t;
    }
  }
}

/** Targets from `ADDR...` arguments: `HOST:PORT`, `[IPv6]:PORT`, a bare host (default port), or an SRV name (`_...`). */
export function targetsFromArgs(args: readonly string[], defaultPort: number): ProbeTarget[] {
  return args.map((text) => {
    const s = text.trim();
    if (s.startsWith('_')) {
      const name = s.replace(/\.$/, '');
      if (!isValidHostname(name)) {
        throw new InputError('BAD_ADDRESS', `invalid SRV name "${text}"`, {
          hint: 'e.g. _cardano._tcp.relays.example.com',
        });
      }
      return { pool: ARGS_POOL, relay: { kind: 'srv', host: name.toLowerCase() } };
    }
    const e = parseEndpoint(s, defaultPort);
    const kind = isIPv4(e.host) ? 'ipv4' : isIPv6(e.host) ? 'ipv6' : hostKind(e.host) === 'srv' ? 'srv' : 'dns';
    return { pool: ARGS_POOL, relay: { kind, host: e.host, port: e.port } };
  });
}
