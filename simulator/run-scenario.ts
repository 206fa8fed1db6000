// One scenario against one runner in the virtual world: scenario → driver → world → runner →
// trace → oracle → verdict.
import type { RunnerDefinition } from '../runner/contract.ts';
import { playScenario, resultOf, type PlayProgress, type RunResult } from './driver.ts';
import type { Scenario } from './scenario.ts';
import { VirtualWorld, type VirtualWorldOptions } from './virtual/world.ts';
import { withDeterminismTrap } from './virtual/determinism-trap.ts';
import { BrokenAdapterError } from './broken-adapter.ts';

export type { RunResult } from './driver.ts';

/**
 * Plays `scenario` against a fresh runner of `definition` in a fresh virtual world and judges it.
 * `onProgress` hears of every step (a huge scenario can take seconds).
 */
export async function runScenario(
  definition: RunnerDefinition,
  scenario: Scenario,
  onProgress?: (progress: PlayProgress) => void,
  /** How the world is built (the bench's worktree filesystem); the defaults are what users get. */
  worldOptions?: VirtualWorldOptions,
): Promise<RunResult> {
  const world = new VirtualWorld(scenario, definition, worldOptions);
  const { trapped } = await withDeterminismTrap(() => playScenario(world, onProgress));
  if (trapped !== undefined) {
    throw new BrokenAdapterError(
      `runner "${definition.name}" called ${trapped.what} during a virtual run (at ${trapped.at}): a runner takes time, chance and timers from its ports (clock, random), or the run is no longer reproducible`,
    );
  }
  const result = resultOf(definition, world);
  world.release();
  return result;
}
