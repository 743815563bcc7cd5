/**
 * The randomness the node's cores need (only pruning draws): an injected generator, so a run is
 * reproducible from its seed. Structurally a subset of the governor's `Rng` (src/governor/rng.ts),
 * so the same generator can be handed to both without src/node importing the governor.
 */
export interface Rng {
  /** A uniform 32-bit unsigned integer. */
  nextU32(): number;
}
