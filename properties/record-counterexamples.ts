// Records one minimal counterexample per known-bad runner under fixtures/scenarios/counterexamples,
// where a test replays each on every run. Re-run after changing a fixture or the generators:
//   pnpm exec tsx properties/record-counterexamples.ts
import { knownBadRunners } from '../fixtures/runners/index.ts';
import { checkRunner } from './check.ts';

const dir = new URL('../fixtures/scenarios/counterexamples/', import.meta.url).pathname;
for (const runner of knownBadRunners) {
  const report = await checkRunner(runner, {
    numRuns: 5_000,
    seed: 1,
    stopAtFirstFailure: true,
    invariants: runner.declares,
    artifactsDir: dir,
  });
  const found = report.outcomes.find((o) => o.counterexample !== undefined);
  console.log(
    `${runner.name}: ${found ? `${found.invariant} in ${found.runs} runs -> ${found.counterexample?.file}` : 'NOT FOUND'}`,
  );
}
