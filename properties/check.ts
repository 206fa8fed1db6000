// The property suite as a plain function: each invariant of DESIGN.md §2 is its own fast-check
// property over generated scenarios. A failure is shrunk to a minimal scenario and comes back
// with its timeline, the fast-check seed and path, and one command that replays it.
import fc from 'fast-check';
import { mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { INVARIANTS, type InvariantId, type RunnerDefinition } from '../runner/contract.ts';
import type { Violation } from '../simulator/oracle.ts';
import { runScenario } from '../simulator/run-scenario.ts';
import { parseScenario, type ScenarioInput } from '../simulator/scenario.ts';
import { renderTimeline } from '../simulator/timeline.ts';
import { renderHtmlTimeline } from '../simulator/html-timeline.ts';
import { judge, type VerdictKind } from '../simulator/verdict.ts';
import { scenarioArb, type FaultKind } from './arbitraries.ts';

export interface CheckOptions {
  /** Generated scenarios per invariant (default 1000). */
  readonly numRuns?: number;
  /** fast-check seed; with `path`, replays one exact run. */
  readonly seed?: number;
  readonly path?: string;
  /** Which invariants (default: all). */
  readonly invariants?: readonly InvariantId[];
  /** Longest generated scenario, in moves (default 10). */
  readonly maxSteps?: number;
  /** Fault kinds pinned on or off, e.g. `{ worktrees: false }` for a runner without worktrees. */
  readonly faults?: Partial<Record<FaultKind, boolean>>;
  /** Stop looking once one invariant fails (what a CI gate wants to know first). */
  readonly stopAtFirstFailure?: boolean;
  /** Where minimal counterexamples are written as scenario JSON; none written when unset. */
  readonly artifactsDir?: string;
  /** How to name the runner in replay commands: a bundled name or a module path. */
  readonly runnerRef?: string;
  /** Called after every generated scenario, for progress output. */
  readonly onRun?: (progress: { invariant: InvariantId; run: number; of: number }) => void;
}

export interface Counterexample {
  readonly invariant: InvariantId;
  /** The shrunk scenario, as JSON that `simulate --scenario` and `parseScenario` accept. */
  readonly scenario: ScenarioInput;
  readonly violations: readonly Violation[];
  readonly timeline: string;
  /** fast-check's seed and path of the failing run. */
  readonly seed: number;
  readonly path: string;
  /** Where the scenario was written, if it was. */
  readonly file?: string;
  /** Its timeline as one self-contained HTML file, beside the scenario. */
  readonly htmlFile?: string;
  /** One command that replays the failure exactly. */
  readonly replayCommand: string;
  readonly shrinks: number;
}

export interface InvariantOutcome {
  readonly invariant: InvariantId;
  readonly held: boolean;
  /** Scenarios run for this invariant (up to and including the first failure). */
  readonly runs: number;
  readonly wallMs: number;
  /** Time from the start of this invariant's search to its first failing scenario (before shrinking). */
  readonly msToFirstFailure?: number;
  readonly counterexample?: Counterexample;
  /** The harness itself failed (the runner's create() hung, the world overflowed...). */
  readonly error?: string;
}

export interface CheckReport {
  readonly runner: string;
  readonly declared: readonly InvariantId[];
  readonly outcomes: readonly InvariantOutcome[];
  readonly violated: readonly InvariantId[];
  readonly verdict: VerdictKind;
  readonly scenariosRun: number;
  readonly wallMs: number;
}

export class HarnessError extends Error {
  override readonly name = 'HarnessError';
}

/** Runs one scenario and tells whether `invariant` held; harness failures throw HarnessError. */
async function holds(runner: RunnerDefinition, input: ScenarioInput, invariant: InvariantId): Promise<boolean> {
  let result;
  try {
    result = await runScenario(runner, parseScenario(input, 'generated scenario'));
  } catch (error) {
    throw new HarnessError(error instanceof Error ? error.message : String(error));
  }
  return !result.violated.includes(invariant);
}

export async function checkInvariant(
  runner: RunnerDefinition,
  invariant: InvariantId,
  options: CheckOptions = {},
): Promise<InvariantOutcome> {
  const numRuns = options.numRuns ?? 1_000;
  const started = performance.now();
  let runs = 0;
  let firstFailureAt: number | undefined;
  let firstFailureRuns: number | undefined;
  const arbitrary = scenarioArb({
    maxSteps: options.maxSteps ?? 10,
    ...(options.faults !== undefined ? { faults: options.faults } : {}),
  });
  const property = fc.asyncProperty(arbitrary, async (input) => {
    runs++;
    options.onRun?.({ invariant, run: Math.min(runs, numRuns), of: numRuns });
    const ok = await holds(runner, input, invariant);
    if (!ok && firstFailureAt === undefined) {
      firstFailureAt = performance.now() - started;
      firstFailureRuns = runs;
    }
    return ok;
  });
  const details = await fc.check(property, {
    numRuns,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.path !== undefined ? { path: options.path } : {}),
  });
  const wallMs = performance.now() - started;
  if (!details.failed) return { invariant, held: true, runs: details.numRuns, wallMs };
  const cause = details.errorInstance;
  if (cause instanceof HarnessError) {
    return { invariant, held: false, runs: firstFailureRuns ?? details.numRuns, wallMs, error: cause.message };
  }
  const scenario = { ...details.counterexample![0], name: `${runner.name}-${invariant}` } as ScenarioInput;
  const counterexample = await explain(
    runner,
    invariant,
    scenario,
    details.seed,
    details.counterexamplePath ?? '',
    details.numShrinks,
    options,
  );
  return {
    invariant,
    held: false,
    runs: firstFailureRuns ?? details.numRuns,
    wallMs,
    ...(firstFailureAt !== undefined ? { msToFirstFailure: firstFailureAt } : {}),
    counterexample,
  };
}

async function explain(
  runner: RunnerDefinition,
  invariant: InvariantId,
  scenario: ScenarioInput,
  seed: number,
  path: string,
  shrinks: number,
  options: CheckOptions,
): Promise<Counterexample> {
  const described: ScenarioInput = {
    ...scenario,
    description: `minimal counterexample: runner ${runner.name} breaks ${invariant} (fast-check seed ${seed}, path ${path})`,
  };
  const result = await runScenario(runner, parseScenario(described));
  let file: string | undefined;
  let htmlFile: string | undefined;
  if (options.artifactsDir !== undefined) {
    mkdirSync(options.artifactsDir, { recursive: true });
    file = join(options.artifactsDir, `${safeName(runner.name)}-${invariant}.json`);
    writeFileSync(file, `${JSON.stringify(described, null, 2)}\n`);
    htmlFile = join(options.artifactsDir, `${safeName(runner.name)}-${invariant}.html`);
    const violations = result.violations.filter((v) => v.invariant === invariant);
    writeFileSync(
      htmlFile,
      renderHtmlTimeline({
        title: `${runner.name} breaks ${invariant}`,
        subtitle: described.description ?? '',
        trace: result.trace,
        violations,
      }),
    );
  }
  const shown =
    file !== undefined && !relative(process.cwd(), file).startsWith('..') ? relative(process.cwd(), file) : file;
  const replayCommand = replayLine(options.runnerRef, invariant, seed, path, shown);
  return {
    invariant,
    scenario: described,
    violations: result.violations.filter((v) => v.invariant === invariant),
    timeline: renderTimeline(result.trace),
    seed,
    path,
    ...(file !== undefined ? { file } : {}),
    ...(htmlFile !== undefined ? { htmlFile } : {}),
    replayCommand,
    shrinks,
  };
}

/**
 * How to run a runner-chaos command where it is printed: `npx runner-chaos <command>` where the
 * package is installed, `pnpm <command>` (the package script) in this repository.
 */
export function cliCommand(command: 'simulate' | 'check'): string {
  const installed = fileURLToPath(import.meta.url)
    .split(sep)
    .includes('node_modules');
  return installed ? `npx runner-chaos ${command}` : `pnpm ${command}`;
}

/**
 * One line that replays the failure where it is printed. From the command line, the command (as
 * `npx runner-chaos …` where the package is installed, `pnpm …` in this repository) with the
 * runner as it was named: a bundled name or a module path. From the Node API or vitest, where no
 * module path is known, the options that replay it.
 */
export function replayLine(
  runnerRef: string | undefined,
  invariant: InvariantId,
  seed: number,
  path: string,
  scenarioFile: string | undefined,
): string {
  if (runnerRef === undefined) {
    return `pass { seed: ${seed}, path: ${JSON.stringify(path)}, invariants: [${JSON.stringify(invariant)}] } to runnerProperties() or checkRunner()`;
  }
  // A module path must still read as a path (`./x.ts`, not `x.ts`, which reads as a bundled name).
  const ref =
    /[/\\.]/.test(runnerRef) && !isAbsolute(runnerRef) && !runnerRef.startsWith('.') ? `./${runnerRef}` : runnerRef;
  const quote = (text: string): string => (/^[\w./@:=+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`);
  return scenarioFile !== undefined
    ? `${cliCommand('simulate')} --runner ${quote(ref)} --scenario ${quote(scenarioFile)}`
    : `${cliCommand('check')} --runner ${quote(ref)} --invariant ${invariant} --seed ${seed} --path ${quote(path)}`;
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** Every property against one runner; a known-bad runner's declared invariants are tried first. */
export async function checkRunner(runner: RunnerDefinition, options: CheckOptions = {}): Promise<CheckReport> {
  const started = performance.now();
  const wanted = options.invariants ?? INVARIANTS;
  const order = [...wanted].sort((a, b) => Number(!runner.declares.includes(a)) - Number(!runner.declares.includes(b)));
  const outcomes: InvariantOutcome[] = [];
  for (const invariant of order) {
    const outcome = await checkInvariant(runner, invariant, options);
    outcomes.push(outcome);
    if (!outcome.held && options.stopAtFirstFailure === true) break;
  }
  const violated = outcomes.filter((o) => !o.held && o.error === undefined).map((o) => o.invariant);
  return {
    runner: runner.name,
    declared: runner.declares,
    outcomes,
    violated,
    verdict: outcomes.some((o) => o.error !== undefined) ? 'unexpected' : judge(runner.declares, violated),
    scenariosRun: outcomes.reduce((n, o) => n + o.runs, 0),
    wallMs: performance.now() - started,
  };
}

/** The human-readable failure report: what broke, the timeline, and how to replay it. */
export function formatCounterexample(runner: string, c: Counterexample): string {
  return [
    `runner ${runner} breaks ${c.invariant}:`,
    ...c.violations.map((v) => `  ${v.message}`),
    '',
    `minimal scenario (${c.scenario.steps.length} steps after ${c.shrinks} shrinks):`,
    JSON.stringify(c.scenario),
    '',
    'timeline:',
    c.timeline,
    '',
    `fast-check seed ${c.seed}, path "${c.path}"`,
    c.file !== undefined ? `saved to ${c.file}${c.htmlFile !== undefined ? ` (timeline: ${c.htmlFile})` : ''}` : '',
    `replay: ${c.replayCommand}`,
  ].join('\n');
}
