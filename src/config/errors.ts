import { SpoError, type SpoErrorOptions } from '../lib/errors.js';

/** Stable codes of node-configuration failures (docs/json.md). */
export type ConfigErrorCode =
  /** The text is neither valid JSON nor valid YAML. */
  | 'INVALID_YAML'
  /** The document is not a mapping of keys to values. */
  | 'CONFIG_FORMAT'
  /** A key has a value of the wrong type or out of range. */
  | 'CONFIG_VALUE'
  /** A (Sync)TargetNumberOf* key is not a non-negative integer, or the targets break the node's rules. */
  | 'CONFIG_TARGETS';

/** A node configuration the node would refuse (or spo cannot read): names the file and the key. */
export class ConfigError extends SpoError {
  declare readonly code: ConfigErrorCode;
  constructor(code: ConfigErrorCode, message: string, options: SpoErrorOptions = {}) {
    super(code, message, options);
    this.name = 'ConfigError';
  }
}
