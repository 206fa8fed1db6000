// A generated scenario, completed with the defaults a parse fills in, without validating it
// again. The generators only build valid scenarios, and validating each one cost about a tenth of
// a property run (zod, in a profile of `check --runs 2000`). What users hand in (scenario files,
// `simulate --scenario`, the Node API's parseScenario) is still validated in full: only the
// property suite's own output takes this path, and generated-scenario.test.ts asserts, over
// thousands of generated scenarios with every fault kind, that it gives exactly what
// parseScenario gives.
import {
  GitFaultSchema,
  ScenarioSchema,
  SpawnFaultSchema,
  SaveFaultSchema,
  ScanFaultSchema,
  StepSchema,
  type ParsedStep,
  type Scenario,
  type ScenarioInput,
  type Step,
} from '../simulator/scenario.ts';
import { ANCHORS } from '../simulator/anchors.ts';

// The defaults, read from the schemas once rather than written out a second time here: a default
// changed in the schema changes what this fills in.
const BASE = ScenarioSchema.parse({ steps: [] });
const CRASH_DEFAULTS = StepSchema.parse({ op: 'crash', spawn: 0 });
const UNTIL_DEFAULTS = StepSchema.parse({ op: 'until', event: ANCHORS[0] });
const GIT_FAULT_DEFAULTS = GitFaultSchema.parse({ op: 'add', code: 'EEXIST' });
const SPAWN_FAULT_DEFAULTS = SpawnFaultSchema.parse({ code: 'EAGAIN' });
const SAVE_FAULT_DEFAULTS = SaveFaultSchema.parse({ code: 'ENOSPC' });
const SCAN_FAULT_DEFAULTS = ScanFaultSchema.parse({ code: 'EMFILE' });

/**
 * `parseScenario(input)` for a scenario the property suite's generators built (scenarioArb): the
 * same value, the defaults filled in, without zod. Never call it on anything else: an invalid
 * scenario would be played instead of refused.
 */
export function completeGenerated(generated: ScenarioInput): Scenario {
  const input = plain(generated);
  const world = input.world ?? {};
  return {
    name: input.name ?? BASE.name,
    ...(input.description !== undefined ? { description: input.description } : {}),
    seed: input.seed ?? BASE.seed,
    runnerConfig: { ...input.runnerConfig },
    world: {
      ...BASE.world,
      ...world,
      latency: { ...BASE.world.latency, ...world.latency },
      gitFaults: (world.gitFaults ?? []).map((fault) => ({ ...GIT_FAULT_DEFAULTS, ...fault })),
      spawnFaults: (world.spawnFaults ?? []).map((fault) => ({ ...SPAWN_FAULT_DEFAULTS, ...fault })),
      saveFaults: (world.saveFaults ?? []).map((fault) => ({ ...SAVE_FAULT_DEFAULTS, ...fault })),
      scanFaults: (world.scanFaults ?? []).map((fault) => ({ ...SCAN_FAULT_DEFAULTS, ...fault })),
    } as Scenario['world'],
    agent: input.agent ?? {},
    agents: input.agents ?? [],
    steps: input.steps.map(completeStep),
  };
}

/**
 * A copy of a generated value made of ordinary objects and arrays, as a parse would give:
 * fast-check's records have no prototype, and the world must get what a parse gives, whatever
 * it does with it; nor may playing a scenario write into the generator's values.
 */
function plain<T>(value: T): T {
  if (Array.isArray(value)) return value.map(plain) as T;
  if (typeof value !== 'object' || value === null) return value;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) copy[key] = plain((value as Record<string, unknown>)[key]);
  return copy as T;
}

function completeStep(step: Step): ParsedStep {
  if (step.op === 'crash') return { ...CRASH_DEFAULTS, ...step } as ParsedStep;
  if (step.op === 'until') return { ...UNTIL_DEFAULTS, ...step } as ParsedStep;
  return step as ParsedStep;
}
