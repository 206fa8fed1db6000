// Helpers shared by the real world's test files (each file runs in a vitest worker of its own,
// so the slow ones run side by side): the seed incident as the real world plays it, the time
// scale, a paced run, and the check that a file left no process of its own behind.
import { expect } from 'vitest';
import type { RunnerDefinition } from '../../runner/contract.ts';
import { findMarkedByPrefix } from '../../runner/node/proc.ts';
import { seedIncidentScenario } from '../seed-incident.ts';
import type { Scenario } from '../scenario.ts';
import { runReal, type RealRunResult } from './real-world.ts';
import { playPaced, tooFastOrMissed } from './paced-run.ts';

export const linux = process.platform === 'linux';

/**
 * Four resumes with worktrees. At the time scale below, the 15 s timeout is 750 ms (several Node
 * start-ups, even on a busy machine: a child killed before its agent started would be a harness
 * error) and a 60 s boot is 3 s.
 */
export const realSeed = (): Scenario =>
  seedIncidentScenario({ resumes: 4, delayMs: 60_000, timeoutMs: 15_000, worktree: true, seed: 1 });

export const REAL_TIME_SCALE = 0.05;

/**
 * A run at REAL_TIME_SCALE, played again slower (up to 0.4) while the machine is too busy for
 * agents to start within the timeout: as `simulate --real` does when no time scale is given.
 * `exercised`, if given, says whether a clean run did what the test is about (a busy machine can
 * time a child out before the moment the scenario set up for it): a clean run that did not is
 * played again slower too, as `check --http` does. A runner that never does it, at any pace,
 * still fails the test's own assertion on the last run.
 */
export async function playRealPaced(
  definition: RunnerDefinition,
  scenario: Scenario,
  exercised?: (result: RealRunResult) => boolean,
): Promise<RealRunResult> {
  return (
    await playPaced((timeScale) => runReal(definition, scenario, { timeScale }), REAL_TIME_SCALE, {
      pinned: false,
      replayBecause: tooFastOrMissed((result) =>
        exercised !== undefined && !exercised(result) ? 'it did not get to what the test is about' : undefined,
      ),
    })
  ).result;
}

/** No process marked with this file's run prefix is alive. */
export function expectNoneLeft(runPrefix: string): void {
  expect(findMarkedByPrefix('RUNNER_CHAOS_RUN', runPrefix)).toEqual([]);
}
