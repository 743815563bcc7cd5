/**
 * The governor driver (docs/governor.md "Driver"): the loop that runs the pure governor against a
 * shell's actions on an injected clock. Pure of I/O itself: the live node gives it `systemClock`
 * and the connection manager; the dry run and the simulator a `Scheduler` and a simulated world.
 */
export * from './actions.js';
export * from './jobs.js';
export * from './loop.js';
export * from './node-inputs.js';
export * from './root-peers.js';
export * from './sync-result.js';
export * from './trace.js';
