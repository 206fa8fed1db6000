// The property suite for a runner's own vitest file: one call, one test per invariant.
//
//   import { runnerProperties } from 'runner-chaos/vitest';
//   import { myRunner } from '../src/runner.ts';
//   runnerProperties(myRunner, { numRuns: 500 });
import { describe, it } from 'vitest';
import { INVARIANT_NAMES, INVARIANTS, type RunnerDefinition } from '../runner/contract.ts';
import { checkInvariant, formatCounterexample, type CheckOptions } from './check.ts';

export interface RunnerPropertiesOptions extends CheckOptions {
  /** vitest timeout per invariant, in ms (default 120 000). */
  readonly testTimeoutMs?: number;
}

/**
 * Declares one vitest test per invariant. A runner that declares invariants (a known-bad one)
 * gets a test per declared invariant that passes when the suite catches it breaking it.
 */
export function runnerProperties(runner: RunnerDefinition, options: RunnerPropertiesOptions = {}): void {
  const invariants = options.invariants ?? INVARIANTS;
  describe(`runner-chaos properties: ${runner.name}`, () => {
    for (const invariant of invariants) {
      const expectBroken = runner.declares.includes(invariant);
      const title = `${invariant} ${INVARIANT_NAMES[invariant]}${expectBroken ? ' (declared broken: must be caught)' : ''}`;
      it(title, { timeout: options.testTimeoutMs ?? 120_000 }, async () => {
        const outcome = await checkInvariant(runner, invariant, options);
        if (outcome.error !== undefined) throw new Error(`the harness could not run ${runner.name}: ${outcome.error}`);
        if (expectBroken && outcome.held) {
          throw new Error(
            `${runner.name} declares it breaks ${invariant}, but ${outcome.runs} scenarios found no violation`,
          );
        }
        if (!expectBroken && outcome.counterexample !== undefined) {
          throw new Error(formatCounterexample(runner.name, outcome.counterexample));
        }
      });
    }
  });
}
