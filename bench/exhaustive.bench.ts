// Benchmark of `check --exhaustive` (issue #14), as TLC and DPOR papers report a model checker:
//  - the reference runner at depths 1..DEPTH with 2 sessions: scenarios played, distinct states,
//    time, with both reductions, without state hashing, and without symmetry;
//  - every known-bad runner: found or not within DEPTH, the shortest counterexample's length,
//    beside the length of the counterexample the property suite's shrinking recorded.
// Run: pnpm bench:exhaustive [DEPTH]   (builds, then runs the compiled JavaScript; default 3)
import { readFileSync } from 'node:fs';
import { referenceRunner } from '../runner/reference.ts';
import { knownBadRunners } from '../fixtures/runners/index.ts';
import { exploreRunner, upperBound, type ExhaustiveOptions } from '../properties/exhaustive/explore.ts';

const DEPTH = Number(process.argv[2] ?? 3);

async function timed(options: ExhaustiveOptions) {
  const report = await exploreRunner(referenceRunner, options);
  if (report.counterexample !== undefined || report.incomplete !== undefined)
    throw new Error(`the reference did not hold: ${JSON.stringify(report.counterexample ?? report.incomplete)}`);
  return report;
}

const recorded = new URL('../../fixtures/scenarios/counterexamples/', import.meta.url);
function shrunkLength(runner: string): string {
  for (const invariant of ['A1', 'A2', 'A3', 'A4', 'L1', 'L2', 'L3', 'S1', 'S2', 'S3', 'S4', 'T1']) {
    try {
      const s = JSON.parse(readFileSync(new URL(`${runner}-${invariant}.json`, recorded), 'utf8')) as {
        steps: unknown[];
      };
      return `${s.steps.length} (${invariant})`;
    } catch {
      // not this invariant
    }
  }
  return 'none recorded';
}

console.log(`## check --exhaustive, reference runner, 2 sessions (Node ${process.version})\n`);
console.log('| depth | reductions | upper bound | scenarios played | distinct states | seconds |');
console.log('|---|---|---|---|---|---|');
for (let depth = 1; depth <= DEPTH; depth++) {
  for (const [label, options] of [
    ['hashing + symmetry', {}],
    ['symmetry only (no hashing)', { hashing: false }],
    ['hashing only (no symmetry)', { symmetry: false }],
  ] as const) {
    if (depth === DEPTH && label !== 'hashing + symmetry' && DEPTH > 3) continue; // too long to repeat
    const r = await timed({ depth, sessions: 2, ...options });
    console.log(
      `| ${depth} | ${label} | ${upperBound(depth, 2, options.symmetry ?? true)} | ${r.scenarios} | ${r.states} | ${(r.wallMs / 1000).toFixed(1)} |`,
    );
  }
}

console.log(`\n## Known-bad runners, depth ${DEPTH}, judged on what each declares\n`);
console.log(
  '| runner | declares | found | moves (exhaustive, shortest) | steps (shrunk, recorded) | scenarios | seconds |',
);
console.log('|---|---|---|---|---|---|---|');
for (const runner of knownBadRunners) {
  const r = await exploreRunner(runner, { depth: DEPTH, sessions: 2, invariants: runner.declares });
  const c = r.counterexample;
  console.log(
    `| ${runner.name} | ${runner.declares.join(' ')} | ${c !== undefined ? `yes: ${c.invariants.join(' ')}` : 'no'} | ${c !== undefined ? `${c.moves.length}: ${c.moves.join('; ')}` : '-'} | ${shrunkLength(runner.name)} | ${r.scenarios} | ${(r.wallMs / 1000).toFixed(1)} |`,
  );
}
