// One scenario against one runner in the virtual world: scenario → driver → world → runner →
// trace → oracle → verdict.
import type { RunnerDefinition } from '../runner/contract.ts';
import { playScenario, resultOf, type RunResult } from './driver.ts';
import type { Scenario } from './scenario.ts';
import { VirtualWorld } from './virtual/world.ts';

export type { RunResult } from './driver.ts';

export async function runScenario(definition: RunnerDefinition, scenario: Scenario): Promise<RunResult> {
  const world = new VirtualWorld(scenario, definition);
  await playScenario(world);
  return resultOf(definition, world);
}
