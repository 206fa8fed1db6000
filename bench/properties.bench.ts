// Benchmark of the property suite (issue #3's targets):
//  - scenarios per second against the reference runner, on one core: generating, completing and
//    playing a scenario (what a property run costs; every invariant is judged in each play), the
//    same with a full zod validation instead (what a property run did before issue #12), and
//    playing alone;
//  - for every known-bad runner, scenarios run and milliseconds until the first violation of a
//    declared invariant, over ten fast-check seeds.
// Run: pnpm bench:properties   (builds, then runs the compiled JavaScript, as users run it)
import fc from 'fast-check';
import { cpus } from 'node:os';
import { referenceRunner } from '../runner/reference.ts';
import { knownBadRunners } from '../fixtures/runners/index.ts';
import { scenarioArb } from '../properties/arbitraries.ts';
import { checkRunner } from '../properties/check.ts';
import { completeGenerated } from '../properties/generated-scenario.ts';
import { runScenario } from '../simulator/run-scenario.ts';
import { parseScenario, type Scenario } from '../simulator/scenario.ts';
import { memfsWorktreeFs, type WorktreeFsFactory } from '../simulator/virtual/worktree-fs.ts';
import { mapWorktreeFs } from '../simulator/virtual/map-fs.ts';

const SCENARIOS = 20_000;
const SEEDS = 10;
const BUDGET = 20_000;

async function throughput(): Promise<{ full: number; validated: number; playOnly: number; noWorktrees: number }> {
  const warm = fc.sample(scenarioArb(), { numRuns: 2_000, seed: 1 });
  for (const input of warm) await runScenario(referenceRunner, parseScenario(input));
  let started = performance.now();
  for (const input of fc.sample(scenarioArb(), { numRuns: SCENARIOS, seed: 2 }))
    await runScenario(referenceRunner, completeGenerated(input));
  const full = SCENARIOS / ((performance.now() - started) / 1000);
  started = performance.now();
  for (const input of fc.sample(scenarioArb(), { numRuns: SCENARIOS, seed: 2 }))
    await runScenario(referenceRunner, parseScenario(input));
  const validated = SCENARIOS / ((performance.now() - started) / 1000);
  const parsed = fc.sample(scenarioArb(), { numRuns: SCENARIOS, seed: 3 }).map((input) => parseScenario(input));
  started = performance.now();
  for (const scenario of parsed) await runScenario(referenceRunner, scenario);
  const playOnly = SCENARIOS / ((performance.now() - started) / 1000);
  // The memfs-backed worktree model is the costliest part of the world: the same without it.
  started = performance.now();
  for (const input of fc.sample(scenarioArb({ faults: { worktrees: false } }), { numRuns: SCENARIOS, seed: 4 })) {
    await runScenario(referenceRunner, completeGenerated(input));
  }
  const noWorktrees = SCENARIOS / ((performance.now() - started) / 1000);
  return { full, validated, playOnly, noWorktrees };
}

/**
 * memfs against a plain Map under the worktree model, on the same scenarios (those that make a
 * worktree), played alternately so that neither gets the warmer engine; the traces must agree.
 */
async function memfsAgainstMap(): Promise<{ memfs: number; map: number; scenarios: number }> {
  const withWorktrees = fc
    .sample(scenarioArb(), { numRuns: 12_000, seed: 5 })
    .map((input) => parseScenario(input))
    .filter((s) => s.steps.some((step) => step.op === 'spawn' && step.worktree === true));
  const playAll = async (fs: WorktreeFsFactory, scenarios: readonly Scenario[]): Promise<number> => {
    const started = performance.now();
    for (const scenario of scenarios) await runScenario(referenceRunner, scenario, undefined, { worktreeFs: fs });
    return performance.now() - started;
  };
  for (const scenario of withWorktrees.slice(0, 300)) {
    const [a, b] = [
      await runScenario(referenceRunner, scenario, undefined, { worktreeFs: memfsWorktreeFs }),
      await runScenario(referenceRunner, scenario, undefined, { worktreeFs: mapWorktreeFs }),
    ];
    if (JSON.stringify(a.trace) !== JSON.stringify(b.trace))
      throw new Error(`memfs and the Map model disagree on scenario seed ${scenario.seed}`);
  }
  const ms = { memfs: 0, map: 0 };
  for (let round = 0; round < 4; round++) {
    const order: Array<['memfs' | 'map', WorktreeFsFactory]> = [
      ['memfs', memfsWorktreeFs],
      ['map', mapWorktreeFs],
    ];
    if (round % 2 === 1) order.reverse();
    for (const [name, fs] of order) ms[name] += await playAll(fs, withWorktrees);
  }
  const per = (total: number): number => (withWorktrees.length * 4) / (total / 1000);
  return { memfs: per(ms.memfs), map: per(ms.map), scenarios: withWorktrees.length };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const { full, validated, playOnly, noWorktrees } = await throughput();
console.log(`# Property suite benchmark\n`);
console.log(`Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, one core (single-threaded).\n`);
console.log(`| reference runner | scenarios per second |\n|---|---|`);
console.log(`| generate + complete + play (a property run) | ${Math.round(full)} |`);
console.log(`| generate + validate with zod + play (before) | ${Math.round(validated)} |`);
console.log(`| play only (pre-generated) | ${Math.round(playOnly)} |`);
console.log(`| generate + complete + play, no worktree faults (no memfs) | ${Math.round(noWorktrees)} |\n`);
const fsRace = await memfsAgainstMap();
console.log(
  `Worktree filesystem, play only, on the ${fsRace.scenarios} of 12,000 scenarios that make a worktree (four alternating rounds, traces checked equal on 300):\n`,
);
console.log(`| filesystem | scenarios per second |\n|---|---|`);
console.log(`| memfs (what the world uses) | ${Math.round(fsRace.memfs)} |`);
console.log(`| a Map (simulator/virtual/map-fs.ts) | ${Math.round(fsRace.map)} |`);
console.log(`| memfs costs | ${(fsRace.map / fsRace.memfs).toFixed(2)}x the Map's time |\n`);
console.log(
  `Known-bad runners: runs and ms to the first violation of a declared invariant, over ${SEEDS} seeds (budget ${BUDGET} runs).\n`,
);
console.log(
  `| runner | declares | found | runs (median / max) | ms to first failure (median / max) | steps in the shrunk counterexample |`,
);
console.log(`|---|---|---|---|---|---|`);
for (const runner of knownBadRunners) {
  const runs: number[] = [];
  const ms: number[] = [];
  const steps: number[] = [];
  let found = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const report = await checkRunner(runner, {
      numRuns: BUDGET,
      seed,
      stopAtFirstFailure: true,
      invariants: runner.declares,
    });
    const caught = report.outcomes.find((o) => o.counterexample !== undefined);
    if (caught === undefined) continue;
    found++;
    runs.push(caught.runs);
    ms.push(caught.msToFirstFailure ?? caught.wallMs);
    steps.push(caught.counterexample!.scenario.steps.length);
  }
  console.log(
    `| ${runner.name} | ${runner.declares.join(' ')} | ${found}/${SEEDS} | ${median(runs)} / ${Math.max(...runs)} | ${Math.round(median(ms))} / ${Math.round(Math.max(...ms))} | ${median(steps)} |`,
  );
}
