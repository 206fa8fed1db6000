// The property suite as a plain function: each invariant of DESIGN.md §2 is its own fast-check
// property over generated scenarios. A failure is shrunk to a minimal scenario and comes back
// with its timeline, the fast-check seed and path, and one command that replays it.
import fc from 'fast-check';
import { mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { cliCommand } from './cli-command.ts';
import { INVARIANTS, type InvariantId, type RunnerDefinition } from '../runner/contract.ts';
import type { Violation } from '../simulator/oracle.ts';
import { runScenario } from '../simulator/run-scenario.ts';
import { parseScenario, type ScenarioInput } from '../simulator/scenario.ts';
import { renderTimeline } from '../simulator/timeline.ts';
import { renderHtmlTimeline } from '../simulator/html-timeline.ts';
import { judge, type VerdictKind } from '../simulator/verdict.ts';
import { scenarioArb, type FaultKind } from './arbitraries.ts';
import { completeGenerated } from './generated-scenario.ts';

export interface CheckOptions {
  /** Generated scenarios per search (default 1000); each is played once and judged on every invariant asked for. */
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
  /** Stop looking after the first counterexample (what a CI gate wants to know first). */
  readonly stopAtFirstFailure?: boolean;
  /** Where minimal counterexamples are written as scenario JSON; none written when unset. */
  readonly artifactsDir?: string;
  /** How to name the runner in replay commands: a bundled name or a module path. */
  readonly runnerRef?: string;
  /** Called after every generated scenario, for progress output. */
  readonly onRun?: (progress: { judging: readonly InvariantId[]; run: number; of: number }) => void;
  /**
   * Plays the search's runs elsewhere (worker threads: see properties/scout.ts) and says which
   * run failed first; the search then shrinks from exactly that run, so the report is the one a
   * single thread gives for the same seed. Unset: one thread plays every run.
   */
  readonly parallel?: ParallelSearch;
}

/** One search, as handed to `CheckOptions.parallel`. */
export interface ParallelSearchTask {
  readonly judging: readonly InvariantId[];
  readonly seed: number;
  readonly numRuns: number;
  readonly maxSteps: number;
  readonly faults?: Partial<Record<FaultKind, boolean>>;
}

/** Plays a search's runs and returns the first (lowest) run that broke one of `judging`, if any. */
export type ParallelSearch = (task: ParallelSearchTask) => Promise<{ readonly firstFailure?: number }>;

/** A fresh fast-check seed, as fast-check draws one when none is given. */
function freshSeed(): number {
  return Date.now() ^ (Math.random() * 0x100000000);
}

export interface Counterexample {
  /** The invariant the search kept broken while shrinking: the first cause (CAUSE_ORDER) it broke. */
  readonly invariant: InvariantId;
  /** Every invariant asked for that the minimal scenario breaks, causes before symptoms. */
  readonly invariants: readonly InvariantId[];
  /** The shrunk scenario, as JSON that `simulate --scenario` and `parseScenario` accept. */
  readonly scenario: ScenarioInput;
  /** Its violations of those invariants, causes before symptoms. */
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
  /** The minimal scenario was played twice and gave the same trace both times. */
  readonly replayedTheSame: boolean;
}

export interface InvariantOutcome {
  readonly invariant: InvariantId;
  readonly held: boolean;
  /** Scenarios judged on this invariant (up to and including the first that broke it). */
  readonly runs: number;
  readonly wallMs: number;
  /** Time from the start of the search to its first failing scenario (before shrinking). */
  readonly msToFirstFailure?: number;
  /** The minimal scenario that breaks it; shared by every invariant that scenario breaks. */
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
  /** Scenarios played (each judged on every invariant still open). */
  readonly scenariosRun: number;
  readonly wallMs: number;
}

/** What the outcomes add up to: the invariants broken, and the verdict (a harness error is never as declared). */
export function verdictOf(
  declared: readonly InvariantId[],
  outcomes: readonly InvariantOutcome[],
): Pick<CheckReport, 'violated' | 'verdict'> {
  const violated = outcomes.filter((o) => !o.held && o.error === undefined).map((o) => o.invariant);
  return {
    violated,
    verdict: outcomes.some((o) => o.error !== undefined) ? 'unexpected' : judge(declared, violated),
  };
}

export class HarnessError extends Error {
  override readonly name = 'HarnessError';
}

/**
 * Causes before symptoms: a lie (T1), a request left waiting (L1), a stop that gave up (L2), a
 * healthy spawn failed (L3) or a tree killed that nobody asked to stop (A4) usually explains the
 * ghost, leak or stranger signalled that follows from it, so a
 * counterexample is shrunk keeping its first cause broken and names it first.
 */
export const CAUSE_ORDER: readonly InvariantId[] = [
  'T1',
  'L1',
  'L2',
  'L3',
  'A4',
  'A2',
  'A3',
  'A1',
  'S4',
  'S1',
  'S2',
  'S3',
];

function byCause(ids: Iterable<InvariantId>): InvariantId[] {
  return [...new Set(ids)].sort((a, b) => CAUSE_ORDER.indexOf(a) - CAUSE_ORDER.indexOf(b));
}

/** Plays one scenario; harness failures throw HarnessError. */
async function play(runner: RunnerDefinition, input: ScenarioInput) {
  try {
    return await runScenario(runner, completeGenerated(input));
  } catch (error) {
    throw new HarnessError(error instanceof Error ? error.message : String(error));
  }
}

interface SearchOutcome {
  readonly runs: number;
  readonly wallMs: number;
  readonly msToFirstFailure?: number;
  readonly counterexample?: Counterexample;
  readonly error?: string;
}

/**
 * One fast-check search: each generated scenario is played once and judged on all of `judging`.
 * The first failure fixes the target, its first cause; shrinking then keeps the target broken.
 */
async function search(
  runner: RunnerDefinition,
  judging: readonly InvariantId[],
  options: CheckOptions,
): Promise<SearchOutcome> {
  const numRuns = options.numRuns ?? 1_000;
  const started = performance.now();
  let seed = options.seed;
  let path = options.path;
  // Runs the parallel scouts played before the one replayed here (counted as this thread's).
  let runsBefore = 0;
  if (options.parallel !== undefined && path === undefined) {
    seed ??= freshSeed();
    const scouted = await options.parallel({
      judging,
      seed,
      numRuns,
      maxSteps: options.maxSteps ?? 10,
      ...(options.faults !== undefined ? { faults: options.faults } : {}),
    });
    if (scouted.firstFailure === undefined) return { runs: numRuns, wallMs: performance.now() - started };
    path = String(scouted.firstFailure);
    runsBefore = scouted.firstFailure;
  }
  let runs = runsBefore;
  let firstFailureAt: number | undefined;
  let firstFailureRuns: number | undefined;
  let target: InvariantId | undefined;
  const arbitrary = scenarioArb({
    maxSteps: options.maxSteps ?? 10,
    ...(options.faults !== undefined ? { faults: options.faults } : {}),
  });
  const property = fc.asyncProperty(arbitrary, async (input) => {
    runs++;
    options.onRun?.({ judging, run: Math.min(runs, numRuns), of: numRuns });
    const result = await play(runner, input);
    const broken = result.violated.filter((id) => judging.includes(id));
    if (target !== undefined) return !broken.includes(target);
    if (broken.length === 0) return true;
    target = byCause(broken)[0];
    firstFailureAt = performance.now() - started;
    firstFailureRuns = runs;
    return false;
  });
  const details = await fc.check(property, {
    numRuns,
    ...(seed !== undefined ? { seed } : {}),
    ...(path !== undefined ? { path } : {}),
  });
  const wallMs = performance.now() - started;
  if (!details.failed && path !== options.path)
    // Fail closed: a worker saw this run fail, and here it passed.
    return {
      runs: runsBefore + 1,
      wallMs,
      error: `run ${path} (seed ${seed}) failed in a worker thread but passed when replayed here: the runner is not deterministic (state kept between runs, wall-clock time?); check it with --workers 1`,
    };
  if (!details.failed) return { runs: runsBefore + details.numRuns, wallMs };
  const cause = details.errorInstance;
  if (cause instanceof HarnessError || target === undefined) {
    const message = cause instanceof Error ? cause.message : String(cause);
    return { runs: firstFailureRuns ?? runsBefore + details.numRuns, wallMs, error: message };
  }
  const scenario = { ...details.counterexample![0], name: `${runner.name}-${target}` } as ScenarioInput;
  const counterexample = await explain(
    runner,
    target,
    judging,
    scenario,
    details.seed,
    details.counterexamplePath ?? '',
    details.numShrinks,
    options,
  );
  return {
    runs: firstFailureRuns ?? runsBefore + details.numRuns,
    wallMs,
    ...(firstFailureAt !== undefined ? { msToFirstFailure: firstFailureAt } : {}),
    counterexample,
  };
}

/** One invariant's outcome: `checkRunner` asked for just that invariant. */
export async function checkInvariant(
  runner: RunnerDefinition,
  invariant: InvariantId,
  options: CheckOptions = {},
): Promise<InvariantOutcome> {
  const report = await checkRunner(runner, { ...options, invariants: [invariant] });
  return report.outcomes.find((o) => o.invariant === invariant)!;
}

async function explain(
  runner: RunnerDefinition,
  target: InvariantId,
  judging: readonly InvariantId[],
  scenario: ScenarioInput,
  seed: number,
  path: string,
  shrinks: number,
  options: CheckOptions,
): Promise<Counterexample> {
  const described: ScenarioInput = {
    ...scenario,
    description: `minimal counterexample: runner ${runner.name} breaks ${target} (fast-check seed ${seed}, path ${path})`,
  };
  const result = await runScenario(runner, parseScenario(described));
  // Played twice: a runner that escapes the ports (a global it keeps between runs, say) shows
  // as two different traces of one scenario, and the report says so.
  const again = await runScenario(runner, parseScenario(described));
  const replayedTheSame = JSON.stringify(again.trace) === JSON.stringify(result.trace);
  const invariants = byCause(result.violated.filter((id) => judging.includes(id)));
  if (!invariants.includes(target)) invariants.unshift(target); // (the search saw it: keep it named)
  const violations = [...result.violations]
    .filter((v) => invariants.includes(v.invariant))
    .sort((a, b) => invariants.indexOf(a.invariant) - invariants.indexOf(b.invariant));
  let file: string | undefined;
  let htmlFile: string | undefined;
  if (options.artifactsDir !== undefined) {
    mkdirSync(options.artifactsDir, { recursive: true });
    // Named after the first cause it breaks (which shrinking may have reached before the target).
    file = join(options.artifactsDir, `${safeName(runner.name)}-${invariants[0]}.json`);
    writeFileSync(file, `${JSON.stringify(described, null, 2)}\n`);
    htmlFile = join(options.artifactsDir, `${safeName(runner.name)}-${invariants[0]}.html`);
    writeFileSync(
      htmlFile,
      renderHtmlTimeline({
        title: `${runner.name} breaks ${invariants.join(', ')}`,
        subtitle: described.description ?? '',
        trace: result.trace,
        violations,
      }),
    );
  }
  const shown =
    file !== undefined && !relative(process.cwd(), file).startsWith('..') ? relative(process.cwd(), file) : file;
  const replayCommand = replayLine(options.runnerRef, target, seed, path, shown);
  return {
    invariant: target,
    invariants,
    scenario: described,
    violations,
    timeline: renderTimeline(result.trace),
    seed,
    path,
    ...(file !== undefined ? { file } : {}),
    ...(htmlFile !== undefined ? { htmlFile } : {}),
    replayCommand,
    shrinks,
    replayedTheSame,
  };
}

export { cliCommand } from './cli-command.ts';

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

/**
 * Every property against one runner. Each generated scenario is played once and judged on every
 * invariant still open; a counterexample settles every invariant it breaks, and the search goes
 * on for the rest (unless `stopAtFirstFailure`), so a report names each broken invariant with a
 * minimal scenario and each held one with the scenarios it held over.
 */
export async function checkRunner(runner: RunnerDefinition, options: CheckOptions = {}): Promise<CheckReport> {
  const started = performance.now();
  let open = byCause(options.invariants ?? INVARIANTS);
  const outcomes: InvariantOutcome[] = [];
  let scenariosRun = 0;
  // A known-bad runner is judged first on what it declares (is it caught as declared?), then on
  // the rest; a runner that declares nothing, on everything at once.
  const declaredFirst = open.filter((id) => runner.declares.includes(id));
  // Each search settles at least one invariant, so this ends within |invariants| + 1 searches.
  for (let searches = 0; open.length > 0 && searches <= INVARIANTS.length + 1; searches++) {
    const judging = declaredFirst.some((id) => open.includes(id))
      ? open.filter((id) => declaredFirst.includes(id))
      : open;
    const found = await search(runner, judging, options);
    scenariosRun += found.runs;
    const timing = {
      wallMs: found.wallMs,
      ...(found.msToFirstFailure !== undefined ? { msToFirstFailure: found.msToFirstFailure } : {}),
    };
    if (found.error !== undefined) {
      for (const invariant of open)
        outcomes.push({ invariant, held: false, runs: scenariosRun, ...timing, error: found.error });
      open = [];
      break;
    }
    const c = found.counterexample;
    if (c === undefined) {
      for (const invariant of judging) outcomes.push({ invariant, held: true, runs: scenariosRun, ...timing });
      open = open.filter((id) => !judging.includes(id));
      continue;
    }
    const settled = c.invariants.filter((id) => open.includes(id));
    for (const invariant of settled)
      outcomes.push({ invariant, held: false, runs: scenariosRun, ...timing, counterexample: c });
    open = open.filter((id) => !settled.includes(id));
    if (options.stopAtFirstFailure === true || options.path !== undefined) break;
  }
  outcomes.sort((a, b) => CAUSE_ORDER.indexOf(a.invariant) - CAUSE_ORDER.indexOf(b.invariant));
  return {
    runner: runner.name,
    declared: runner.declares,
    outcomes,
    ...verdictOf(runner.declares, outcomes),
    scenariosRun,
    wallMs: performance.now() - started,
  };
}

/** The human-readable failure report: what broke, the timeline, and how to replay it. */
export function formatCounterexample(runner: string, c: Counterexample): string {
  return [
    `runner ${runner} breaks ${c.invariants.join(', ')}${c.invariants.length > 1 ? ` (first cause: ${c.invariants[0]})` : ''}:`,
    ...c.violations.map((v) => `  ${v.message}`),
    '',
    `minimal scenario (${c.scenario.steps.length} steps after ${c.shrinks} shrinks):`,
    JSON.stringify(c.scenario),
    '',
    'timeline:',
    c.timeline,
    '',
    c.replayedTheSame
      ? ''
      : 'WARNING: played twice, this scenario gave two different traces: the runner keeps state outside its ports (a module-level variable, the real clock), so this report may not replay',
    `fast-check seed ${c.seed}, path "${c.path}"`,
    c.file !== undefined ? `saved to ${c.file}${c.htmlFile !== undefined ? ` (timeline: ${c.htmlFile})` : ''}` : '',
    `replay: ${c.replayCommand}`,
  ].join('\n');
}
