// Helpers for the project's own tests: build a scenario from a few lines, play it, and make
// tiny runners that misbehave in exactly one way.
import type { Runner, RunnerDefinition } from '../runner/contract.ts';
import type { ProcessRef, RunnerPorts } from '../runner/ports.ts';
import type { RunnerConfig } from '../runner/config.ts';
import { runScenario, type RunResult } from './run-scenario.ts';
import { parseScenario, type ScenarioInput } from './scenario.ts';

export function scenario(input: Partial<ScenarioInput> & Pick<ScenarioInput, 'steps'>) {
  return parseScenario({ name: 'test', world: { bystander: true }, ...input });
}

export function play(
  runner: RunnerDefinition,
  input: Partial<ScenarioInput> & Pick<ScenarioInput, 'steps'>,
): Promise<RunResult> {
  return runScenario(runner, scenario(input));
}

/** Starts the fake agent in `directory` (a new conversation), as the simplest runner would, with `env` added. */
export function spawnAgent(
  ports: RunnerPorts,
  directory: string,
  env: Record<string, string> = {},
): Promise<ProcessRef> {
  return ports.processes.spawnDetached({ command: 'agent', args: [], cwd: directory, env });
}

/** Waits `ms` on the port clock. */
export function pause(ports: RunnerPorts, ms: number): Promise<void> {
  return new Promise((resolve) => ports.clock.setTimeout(resolve, ms));
}

/** A runner that does nothing unless told: each test overrides the one operation it needs. */
export function scriptedRunner(
  name: string,
  build: (ports: RunnerPorts, config: RunnerConfig) => Partial<Runner>,
): RunnerDefinition {
  return {
    name,
    description: `test runner: ${name}`,
    declares: [],
    create: (ports, config) => ({
      spawnSession: async () => ({ type: 'error', reason: 'spawn-failed', message: 'not scripted' }),
      sessionStarted: async () => {},
      stopSession: async () => ({ status: 'still_alive' }),
      listSessions: async () => [],
      shutdown: async () => {},
      ...build(ports, config),
    }),
  };
}

/** The answers of a run, in request order. */
export function answersOf(result: RunResult) {
  return result.trace.flatMap((e) =>
    e.kind === 'answer' ? [{ ...e.answer, atMs: e.atMs, requestId: e.requestId }] : [],
  );
}

export function signalsOf(result: RunResult) {
  return result.trace.flatMap((e) => (e.kind === 'signal' ? [e] : []));
}

/**
 * Gives this test file a run-marker prefix of its own, below the whole test run's: files run in
 * parallel, and a file's "nothing of mine is left" check must not see another file's processes.
 * The run's teardown still finds every file's leftovers by the common prefix. Returns it.
 */
export function fileRunPrefix(name: string): string {
  const base = process.env.RUNNER_CHAOS_RUN_BASE ?? process.env.RUNNER_CHAOS_RUN_PREFIX ?? 'test';
  process.env.RUNNER_CHAOS_RUN_BASE = base;
  process.env.RUNNER_CHAOS_RUN_PREFIX = `${base}-${name}`;
  return process.env.RUNNER_CHAOS_RUN_PREFIX;
}
