// The property suite for a runner's own vitest file: one call, one test per invariant.
//
//   import { runnerProperties } from 'runner-chaos/vitest';
//   import { myRunner } from '../src/runner.ts';
//   runnerProperties(myRunner, { numRuns: 500 });
import { describe, it } from 'vitest';
import { INVARIANT_NAMES, INVARIANTS, type RunnerDefinition } from '../runner/contract.ts';
import { checkRunner, formatCounterexample, type CheckOptions, type CheckReport } from './check.ts';

export interface RunnerPropertiesOptions extends CheckOptions {
  /** vitest timeout per invariant, in ms (default 120 000). */
  readonly testTimeoutMs?: number;
}

/**
 * Declares one vitest test per invariant. The scenarios are generated and played once, judged on
 * every invariant, by whichever test runs first; the others read the same report. A runner that
 * declares invariants (a known-bad one) gets a test per declared invariant that passes when the
 * suite catches it breaking it.
 */
export function runnerProperties(runner: RunnerDefinition, options: RunnerPropertiesOptions = {}): void {
  const invariants = options.invariants ?? INVARIANTS;
  let report: Promise<CheckReport> | undefined;
  const shared = (): Promise<CheckReport> => (report ??= checkRunner(runner, { ...options, invariants }));
  describe(`runner-chaos properties: ${runner.name}`, () => {
    for (const invariant of invariants) {
      const expectBroken = runner.declares.includes(invariant);
      const title = `${invariant} ${INVARIANT_NAMES[invariant]}${expectBroken ? ' (declared broken: must be caught)' : ''}`;
      it(title, { timeout: options.testTimeoutMs ?? 120_000 }, async () => {
        const outcome = (await shared()).outcomes.find((o) => o.invariant === invariant);
        if (outcome === undefined) throw new Error(`the check of ${runner.name} says nothing of ${invariant}`);
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
