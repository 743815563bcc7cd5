/**
 * Parser for every topology format cardano-node has accepted, one file per format:
 * `format-current.ts` (P2P), `format-early-p2p.ts` (1.33-1.35 groups), `format-legacy.ts`
 * (`Producers`), over the shared decoding of `decode.ts`. Each follows the node's decoding rules and
 * never throws for content problems: it reports them as findings (severity `error` for what the
 * node refuses) and builds the best model it can, so lint can show every problem at once. Only a
 * document that is not a topology at all is refused here.
 */
import { SpoError } from '../lib/errors.js';
import { parseJsonText } from '../lib/read-input.js';
import { Collector, isObject } from './decode.js';
import { parseCurrent } from './format-current.js';
import { parseEarly } from './format-early-p2p.js';
import { parseLegacy } from './format-legacy.js';
import type { ParsedTopology, TopologyFormat } from './model.js';

export { Collector, isUnspecifiedAddress, jsonPath, parseAccessPoint } from './decode.js';

/** Which format a document is written in; undefined when it is not a topology. */
export function detectFormat(doc: unknown): TopologyFormat | undefined {
  if (!isObject(doc)) return undefined;
  if ('localRoots' in doc || 'publicRoots' in doc) return 'p2p';
  if ('LocalRoots' in doc || 'PublicRoots' in doc) return 'early-p2p';
  if ('Producers' in doc) return 'legacy-producers';
  return undefined;
}

/**
 * Parses a topology document (already JSON-decoded) in any format. `file` names it in errors.
 * Throws TOPOLOGY_FORMAT only when the document is not a topology; everything else is a finding.
 */
export function parseTopology(json: unknown, file: string): ParsedTopology {
  const format = detectFormat(json);
  if (format === undefined || !isObject(json)) {
    throw new SpoError(
      'TOPOLOGY_FORMAT',
      `${file}: not a topology file (expected an object with "localRoots" and "publicRoots", or the older "LocalRoots"/"Producers")`,
      { hint: 'give a cardano-node topology.json', details: { file } },
    );
  }
  const c = new Collector();
  if (format === 'p2p') return { topology: parseCurrent(c, json), format, findings: c.findings };
  if (format === 'early-p2p') {
    const sources: number[] = [];
    return { topology: parseEarly(c, json, sources), format, findings: c.findings, localRootSources: sources };
  }
  const { topology, producers, sources } = parseLegacy(c, json);
  return { topology, format, findings: c.findings, legacyProducers: producers, localRootSources: sources };
}

/**
 * Parses and refuses what the node would refuse: throws TOPOLOGY_INVALID naming the first error
 * (the format findings for legacy/early files are left to the caller when `allowOldFormats`).
 */
export function parseTopologyStrict(
  json: unknown,
  file: string,
  options: { allowOldFormats?: boolean } = {},
): ParsedTopology {
  const parsed = parseTopology(json, file);
  const oldFormat = new Set(['TOPOLOGY_LEGACY_FORMAT', 'TOPOLOGY_EARLY_P2P_FORMAT']);
  const error = parsed.findings.find(
    (f) => f.severity === 'error' && !(options.allowOldFormats && oldFormat.has(f.code)),
  );
  if (error) {
    throw new SpoError(error.code, `${file}: ${error.path}: ${error.message}`, {
      hint: error.fix,
      details: { file, path: error.path },
    });
  }
  return parsed;
}

/**
 * Decodes the text of a topology file as JSON, naming the mistakes editors make: a UTF-8
 * byte-order mark (which cardano-node's JSON decoder refuses as well) gets its own message.
 */
export function parseTopologyText(text: string, file: string): unknown {
  if (text.startsWith('\uFEFF')) {
    throw new SpoError(
      'INVALID_JSON',
      `${file}: invalid JSON: the file starts with a UTF-8 byte-order mark (BOM), which cardano-node refuses too`,
      {
        hint: 'save the file as UTF-8 without BOM (e.g. `sed -i "1s/^\\xEF\\xBB\\xBF//" FILE`)',
        details: { file },
      },
    );
  }
  return parseJsonText(text, file);
}
