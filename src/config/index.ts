/**
 * The cardano-node configuration, in one place: its peer-to-peer keys, their defaults and the
 * node's rules for them. `topology lint`, `topology generate` and `governor dry-run` read and write
 * configurations through it; `spo run` and the connection manager take their settings from it.
 */
export * from './defaults.js';
export * from './errors.js';
export * from './load.js';
export * from './node-config.js';
