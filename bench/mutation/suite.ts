// The test command StrykerJS runs once per mutant of runner/core (see stryker.config.mjs here):
// everything the project knows about the reference runner, at a fixed seed, failing on the
// first thing that does not hold. It exits 0 only when the (possibly mutated) reference is still
// clean on:
//  1. every regression scenario (rare states the property suite once reached),
//  2. every recorded counterexample of a known-bad runner (each drives the reference through
//     the exact state its bug breaks), and the seed incident,
//  3. a property run of RUNNER_CHAOS_MUTATION_RUNS generated scenarios (default 3000) at seed
//     RUNNER_CHAOS_MUTATION_SEED (default 1) with every fault kind on, judged on every invariant.
// Anything else (a violation, a thrown runner, a harness error) exits 1: a killed mutant.
// Run it alone to see what a mutant breaks: node --import tsx bench/mutation/suite.ts
import { readdirSync, readFileSync } from 'node:fs';
import { referenceRunner } from '../../runner/reference.ts';
import { checkRunner } from '../../properties/check.ts';
import { runScenario } from '../../simulator/run-scenario.ts';
import { parseScenario } from '../../simulator/scenario.ts';
import { seedIncidentScenario } from '../../simulator/seed-incident.ts';

const RUNS = Number(process.env['RUNNER_CHAOS_MUTATION_RUNS'] ?? 3000);
const SEED = Number(process.env['RUNNER_CHAOS_MUTATION_SEED'] ?? 1);

function fail(what: string): never {
  process.stderr.write(`mutation suite: ${what}\n`);
  process.exit(1);
}

async function mustHold(name: string, input: unknown): Promise<void> {
  const result = await runScenario(referenceRunner, parseScenario(input, name));
  if (result.violations.length > 0)
    fail(`${name}: ${result.violations.map((v) => `${v.invariant} ${v.message}`).join('; ')}`);
}

const scenarios = new URL('../../fixtures/scenarios/', import.meta.url);
for (const folder of ['regressions', 'counterexamples']) {
  const dir = new URL(`${folder}/`, scenarios);
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort())
    await mustHold(`${folder}/${file}`, JSON.parse(readFileSync(new URL(file, dir), 'utf8')));
}
for (const worktree of [false, true]) {
  const incident = seedIncidentScenario({ resumes: 4, delayMs: 3_600_000, timeoutMs: 15_000, worktree, seed: 1 });
  const result = await runScenario(referenceRunner, incident);
  if (result.violations.length > 0) fail(`seed incident: ${result.violations.map((v) => v.message).join('; ')}`);
}

const report = await checkRunner(referenceRunner, { numRuns: RUNS, seed: SEED, stopAtFirstFailure: true });
const broken = report.outcomes.filter((o) => !o.held);
if (broken.length > 0)
  fail(
    broken
      .map((o) => `${o.invariant}: ${o.error ?? o.counterexample?.violations.map((v) => v.message).join('; ')}`)
      .join('\n'),
  );
process.stdout.write(`mutation suite: clean (${report.scenariosRun} scenarios, seed ${SEED})\n`);
