/**
 * `spo simulate`'s core (docs/simulation.md): a deterministic round-based simulation of block-header
 * diffusion over many nodes, each running the governor core's churn and peer metrics.
 */
export * from './churning-node.js';
export * from './diffusion.js';
export * from './geo.js';
export * from './run.js';
export * from './world.js';
