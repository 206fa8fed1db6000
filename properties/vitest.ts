// The property suite for a runner's own vitest file: one call, one test per invariant; and the
// bounded proof (`check --exhaustive`) as one more test.
//
//   import { runnerProperties, runnerProof } from 'runner-chaos/vitest';
//   import { myRunner } from '../src/runner.ts';
//   runnerProperties(myRunner, { numRuns: 500 });
//   runnerProof(myRunner, { depth: 2 });
import { describe, it } from 'vitest';
import { INVARIANT_NAMES, INVARIANTS, type RunnerDefinition } from '../runner/contract.ts';
import { checkRunner, formatCounterexample, type CheckOptions, type CheckReport } from './check.ts';
import { exploreRunner, ordersPerSequence, upperBound, type ExhaustiveOptions } from './exhaustive/explore.ts';

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

export interface RunnerProofOptions extends Omit<
  ExhaustiveOptions,
  'parallel' | 'batch' | 'inFlight' | 'onProgress' | 'shard'
> {
  /** vitest timeout of the proof, in ms (default 600 000). */
  readonly testTimeoutMs?: number;
  /**
   * Scenarios the bound may hold, at most, before the test refuses to start (default 20,000:
   * depth 2 with 2 sessions has 1,549, depth 3 about 70,000, at roughly 0.4 ms each on one core).
   */
  readonly maxScenarios?: number;
}

/**
 * Declares one vitest test: every scenario of up to `depth` moves (default 2) with `sessions`
 * session ids (default 2), played and judged on every invariant (the alphabet of `check
 * --exhaustive`). It passes only when the exploration finished within its bounds and nothing broke;
 * a runner that declares invariants passes only when a scenario breaking one of them is found.
 * An exploration that stopped early (the memory budget, the runner broke the contract) fails: a
 * partial search proves nothing.
 */
export function runnerProof(runner: RunnerDefinition, options: RunnerProofOptions = {}): void {
  const depth = options.depth ?? 2;
  const sessions = options.sessions ?? 2;
  const declared = runner.declares.length > 0;
  const title = `runner-chaos bounded proof: ${runner.name}, every scenario up to depth ${depth} with ${sessions} session(s)${options.world !== undefined && options.world !== 'plain' ? ` in the ${options.world} world` : ''}${options.ties === Infinity ? ', in every order of same-instant events' : options.ties !== undefined && options.ties > 0 ? `, up to ${options.ties} same-instant event(s) out of order` : ''}${declared ? ` (declared broken: ${runner.declares.join(' ')} must be found)` : ''}`;
  it(title, { timeout: options.testTimeoutMs ?? 600_000 }, () => proveRunner(runner, options));
}

/** What `runnerProof`'s test runs: resolves when the proof holds as declared, else rejects saying why. */
export async function proveRunner(runner: RunnerDefinition, options: RunnerProofOptions = {}): Promise<void> {
  const depth = options.depth ?? 2;
  const sessions = options.sessions ?? 2;
  const declared = runner.declares.length > 0;
  // With ties, each sequence is played in several orders: the guard counts those too.
  const orders = ordersPerSequence(options.ties ?? 0, options.maxOrders ?? 10_000);
  const bound = upperBound(depth, sessions, options.symmetry ?? true, options.world ?? 'plain') * orders;
  const most = options.maxScenarios ?? 20_000;
  if (bound > most)
    throw new Error(
      `depth ${depth} with ${sessions} session(s)${orders > 1 ? ` and ties ${options.ties === Infinity ? 'all' : options.ties}` : ''} holds up to ${bound.toLocaleString('en')} scenarios (about ${Math.ceil((bound * 0.5) / 60_000)} min at 0.5 ms each on one core), over maxScenarios ${most.toLocaleString('en')}: lower the depth, or raise maxScenarios (and testTimeoutMs) to run it`,
    );
  const { testTimeoutMs: _timeout, maxScenarios: _most, ...explore } = options;
  const report = await exploreRunner(runner, {
    ...explore,
    depth,
    sessions,
    ...(declared ? { invariants: runner.declares } : {}),
  });
  if (report.incomplete !== undefined)
    throw new Error(
      `the exploration of ${runner.name} stopped before its bound, so it proves nothing: ${report.incomplete}`,
    );
  const found = report.counterexample;
  if (declared && found === undefined)
    throw new Error(
      `${runner.name} declares it breaks ${runner.declares.join(' ')}, but none of ${report.scenarios.toLocaleString('en')} scenarios up to depth ${depth} did`,
    );
  if (!declared && found !== undefined)
    throw new Error(
      [
        `${runner.name} breaks ${found.invariants.join(', ')} in a scenario of ${found.moves.length} move(s) (a shortest one):`,
        ...found.moves.map((m, i) => `  ${i + 1}. ${m}`),
        ...found.violations.map((v) => `  VIOLATION ${v.invariant}: ${v.message}`),
        `scenario (replay it with simulate --scenario FILE): ${JSON.stringify(found.scenario)}`,
      ].join('\n'),
    );
}
