// The public API of runner-chaos, for runners that want to be checked.
export * from '../runner/contract.ts';
export * from '../runner/ports.ts';
export { resolveRunnerConfig, type RunnerConfig, type RunnerConfigInput } from '../runner/config.ts';
export { referenceRunner } from '../runner/reference.ts';
export {
  checkRunner,
  checkInvariant,
  formatCounterexample,
  type CheckOptions,
  type CheckReport,
  type Counterexample,
  type InvariantOutcome,
} from './check.ts';
export { scenarioArb, swarmArb, movesArb, agentArb, FAULT_KINDS, type Swarm, type FaultKind } from './arbitraries.ts';
export {
  exploreRunner,
  upperBound,
  type ExhaustiveOptions,
  type ExhaustiveReport,
  type ExhaustiveCounterexample,
} from './exhaustive/explore.ts';
export { runScenario, type RunResult } from '../simulator/run-scenario.ts';
export { parseScenario, type Scenario, type ScenarioInput, type Step } from '../simulator/scenario.ts';
export { renderTimeline } from '../simulator/timeline.ts';
export { bundledRunners, knownBadRunners } from '../fixtures/runners/index.ts';
