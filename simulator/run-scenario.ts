// One scenario against one runner in the virtual world: scenario → world → runner → trace →
// oracle → verdict.
import type { InvariantId, RunnerDefinition } from '../runner/contract.ts';
import type { Counts, Violation } from './oracle.ts';
import type { Scenario } from './scenario.ts';
import type { TraceEvent } from './trace.ts';
import { judge, type VerdictKind } from './verdict.ts';
import { VirtualWorld } from './virtual/world.ts';

export interface RunResult {
  readonly runner: string;
  readonly declared: readonly InvariantId[];
  readonly violations: readonly Violation[];
  readonly violated: readonly InvariantId[];
  readonly counts: Counts;
  readonly verdict: VerdictKind;
  readonly trace: readonly TraceEvent[];
}

export async function runScenario(definition: RunnerDefinition, scenario: Scenario): Promise<RunResult> {
  const world = new VirtualWorld(scenario, definition);
  await world.play();
  const violated = world.oracle.violated;
  return {
    runner: definition.name,
    declared: definition.declares,
    violations: world.oracle.violations,
    violated,
    counts: { ...world.oracle.counts },
    verdict: judge(definition.declares, violated),
    trace: world.trace.events,
  };
}
