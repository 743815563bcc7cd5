/**
 * dns-packet, loaded with require rather than `import`: it is CommonJS, and for an `import` Node
 * first scans its 50 KB source for named exports (cjs-module-lexer). That scan took 60-80 ms against
 * 15-30 ms for require (measured on the 2-core dev machine), and V8 then compiles the scanner in the
 * background while the first lookups run.
 */
import { createRequire } from 'node:module';

const dnsPacket = createRequire(import.meta.url)('dns-packet') as typeof import('dns-packet');
export default dnsPacket;
export type { DecodedPacket, Packet } from 'dns-packet';
