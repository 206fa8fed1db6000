// `simulate`: one scenario (the seed incident by default, or a file) against one or more
// runners in the virtual world, side by side.
import { readFile } from 'node:fs/promises';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderHtmlTimeline } from '../simulator/html-timeline.ts';
import type { RunnerDefinition } from '../runner/contract.ts';
import { findBundledRunner, seedIncidentRunners } from '../fixtures/runners/index.ts';
import { loadRunner } from './load-runner.ts';
import { runScenario, type RunResult } from '../simulator/run-scenario.ts';
import { parseScenario, type Scenario } from '../simulator/scenario.ts';
import { seedIncidentScenario } from '../simulator/seed-incident.ts';
import { renderTimeline } from '../simulator/timeline.ts';
import { renderVerdictTable } from './report.ts';
import type { RealRunInterrupted, RealRunResult } from '../simulator/real/real-world.ts';
import { runProgress } from './run-progress.ts';

/** Real milliseconds per scenario millisecond: the 15 s timeout takes 300 ms, a 60 min boot 72 s. */
export const DEFAULT_TIME_SCALE = 0.02;
import { UsageError } from './usage-error.ts';
import { packageFile } from './package-version.ts';
import { cliCommand } from '../properties/cli-command.ts';

export interface SimulateOptions {
  resumes?: number;
  delay?: number;
  timeout?: number;
  worktree?: boolean;
  runner?: string[];
  scenario?: string;
  seed?: number;
  json?: boolean;
  logs?: boolean;
  timeline?: boolean;
  real?: boolean;
  timeScale?: number;
  html?: string;
}

export async function buildScenario(options: SimulateOptions): Promise<Scenario> {
  if (options.scenario === undefined) {
    return seedIncidentScenario({
      resumes: options.resumes ?? 4,
      delayMs: options.delay ?? 3_600_000,
      timeoutMs: options.timeout ?? 15_000,
      worktree: options.worktree === true,
      seed: options.seed ?? 1,
    });
  }
  const clashing = (['resumes', 'delay', 'worktree'] as const).filter((k) => options[k] !== undefined);
  if (clashing.length > 0) {
    throw new UsageError(
      `--scenario cannot be combined with ${clashing.map((k) => `--${k}`).join(', ')}: they shape the built-in seed scenario`,
    );
  }
  let text: string;
  try {
    text = await readFile(options.scenario, 'utf8');
  } catch (error) {
    throw new UsageError(
      `cannot read scenario file ${options.scenario}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`scenario file ${options.scenario} is not JSON: ${(error as Error).message}`);
  }
  const scenario = parseWithUsageError(json, options.scenario);
  if (options.seed !== undefined) scenario.seed = options.seed;
  if (options.timeout !== undefined)
    scenario.runnerConfig = { ...scenario.runnerConfig, webhookTimeoutMs: options.timeout };
  return scenario;
}

function parseWithUsageError(json: unknown, source: string): Scenario {
  try {
    return parseScenario(json, source);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export async function resolveRunners(names: readonly string[] | undefined): Promise<RunnerDefinition[]> {
  if (names === undefined || names.length === 0) return [...seedIncidentRunners];
  const runners: RunnerDefinition[] = [];
  for (const name of names) {
    try {
      runners.push(await loadRunner(name));
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  return runners;
}

/** One runner's result, and the scenario it played when that was not the one asked for. */
type Played = RunResult & { readonly scenarioName?: string; readonly scenarioDescription?: string };

export interface SimulateOutcome {
  readonly exitCode: 0 | 1 | 2;
  readonly output: string;
}

export async function simulate(options: SimulateOptions): Promise<SimulateOutcome> {
  const scenario = await buildScenario(options);
  const runners = await resolveRunners(options.runner);
  if (options.timeScale !== undefined && options.real !== true)
    throw new UsageError('--time-scale only applies to --real');
  if (options.real === true && process.platform !== 'linux')
    throw new UsageError(`--real needs Linux (/proc); this is ${process.platform}`);
  const started = performance.now();
  const results: Played[] = [];
  const progress = runProgress({ real: options.real === true });
  const notes: string[] = [];
  const play = async (runner: RunnerDefinition, played: Scenario): Promise<RunResult> => {
    const onProgress = progress.forRunner(runner.name, runners.indexOf(runner), runners.length);
    if (options.real !== true) return runScenario(runner, played, onProgress);
    // The real world (msw, undici, git) is loaded only for a real run.
    const [{ runReal }, { playPaced }] = await Promise.all([
      import('../simulator/real/real-world.ts'),
      import('../simulator/real/paced-run.ts'),
    ]);
    // A busy machine can start agents slower than the default scale allows: replayed slower then.
    const paced = await playPaced(
      (timeScale) =>
        runReal(runner, played, {
          timeScale,
          onProgress,
          onInterrupt: (interrupted) => {
            progress.done();
            process.stdout.write(`${interruptedReport(interrupted, results, options)}\n`);
          },
        }),
      options.timeScale ?? DEFAULT_TIME_SCALE,
      { pinned: options.timeScale !== undefined },
    );
    notes.push(...paced.notes.map((n) => `note: ${runner.name}: ${n}`));
    return paced.result;
  };
  for (const runner of runners) {
    const result = await play(runner, scenario).finally(() => progress.done());
    // A known-bad runner whose bug the seed incident does not show: with nothing asked of the
    // scenario, play its recorded counterexample instead, and say so.
    const recorded = isDefaultScenario(options) ? await recordedCounterexample(runner, result) : undefined;
    if (recorded === undefined) {
      results.push(result);
      continue;
    }
    notes.push(
      `note: the seed incident does not exercise ${runner.name}'s bug (${runner.declares.join(' ')}); ` +
        `played its recorded counterexample ${recorded.file} instead`,
    );
    results.push({
      ...(await play(runner, recorded.scenario)),
      scenarioName: recorded.scenario.name,
      ...(recorded.scenario.description !== undefined ? { scenarioDescription: recorded.scenario.description } : {}),
    });
  }
  const wallMs = Math.round((performance.now() - started) * 100) / 100;
  // A real run whose agents could not run as the scenario asked proves nothing: exit 2, said why.
  const harnessErrors = results.flatMap((r) =>
    'harnessErrors' in r ? (r as RealRunResult).harnessErrors.map((e) => `${r.runner}: ${e}`) : [],
  );
  const exitCode = harnessErrors.length > 0 ? 2 : results.every((r) => r.verdict === 'as-declared') ? 0 : 1;
  if (options.json === true) {
    const document = {
      scenario,
      ...(options.real === true ? { world: { kind: 'real', timeScale: options.timeScale ?? DEFAULT_TIME_SCALE } } : {}),
      runners: results.map((r) => ({
        runner: r.runner,
        ...(r.scenarioName !== undefined ? { scenario: r.scenarioName } : {}),
        declared: r.declared,
        violations: r.violations.map((v) => ({ invariant: v.invariant, message: v.message, atMs: v.atMs })),
        counts: r.counts,
        verdict: r.verdict,
        ...('harnessErrors' in r ? { harnessErrors: (r as RealRunResult).harnessErrors } : {}),
      })),
      ...(notes.length > 0 ? { notes } : {}),
      wallMs,
    };
    return { exitCode, output: JSON.stringify(document, null, 2) };
  }
  const sections: string[] = [
    `scenario: ${scenario.name}${scenario.description !== undefined ? ` - ${scenario.description}` : ''} (seed ${scenario.seed})`,
  ];
  if (options.timeline !== false) {
    for (const r of results) {
      const of = r.scenarioName !== undefined ? ` (scenario ${r.scenarioName})` : '';
      sections.push(`\n=== ${r.runner}${of} ===\n${timelineOf(r.trace, options)}`);
    }
  }
  if (options.html !== undefined) {
    mkdirSync(options.html, { recursive: true });
    for (const r of results) {
      const file = resolve(options.html, `${safeFileName(r.runner)}.html`);
      const verdict = r.violated.length === 0 ? 'breaks nothing' : `breaks ${r.violated.join(', ')}`;
      writeFileSync(
        file,
        renderHtmlTimeline({
          title: `${r.runner} ${verdict} in ${r.scenarioName ?? scenario.name}`,
          subtitle: r.scenarioName !== undefined ? (r.scenarioDescription ?? '') : (scenario.description ?? ''),
          trace: r.trace,
          violations: r.violations,
        }),
      );
      sections.push(`timeline picture of ${r.runner}: ${file}`);
    }
  }
  sections.push(`\n${renderVerdictTable(results)}`);
  sections.push(...notes);
  // A known-bad runner whose bug this scenario does not exercise: say so, and which command shows it.
  for (const r of results) {
    if (r.verdict === 'as-declared' || r.declared.length === 0) continue;
    const recorded = r.declared
      .map((id) => packageFile(`fixtures/scenarios/counterexamples/${r.runner}-${id}.json`))
      .find((f) => f !== undefined);
    sections.push(
      `note: ${r.runner} breaks ${r.declared.join(' ')}, which this scenario does not exercise` +
        (recorded !== undefined
          ? `; its recorded counterexample does: ${cliCommand('simulate')} --runner ${r.runner} --scenario ${recorded}`
          : ''),
    );
  }
  for (const e of harnessErrors) sections.push(`harness error: ${e}`);
  const summary =
    exitCode === 2
      ? 'HARNESS ERROR: the run proves nothing (see above)'
      : exitCode === 0
        ? 'every verdict is as declared'
        : 'some verdicts are NOT as declared';
  sections.push(`\n${results.length} runner(s) in ${wallMs} ms of wall time; ${summary}`);
  return { exitCode, output: sections.join('\n') };
}

/** Nothing on the command line shapes the scenario: the seed incident as the README shows it. */
function isDefaultScenario(options: SimulateOptions): boolean {
  return (['scenario', 'resumes', 'delay', 'timeout', 'worktree', 'seed'] as const).every(
    (k) => options[k] === undefined,
  );
}

/** The shipped counterexample of a bundled known-bad runner that the seed incident did not catch. */
async function recordedCounterexample(
  runner: RunnerDefinition,
  result: RunResult,
): Promise<{ file: string; scenario: Scenario } | undefined> {
  if (result.verdict === 'as-declared' || runner.declares.length === 0) return undefined;
  if (findBundledRunner(runner.name) !== runner) return undefined;
  const file = runner.declares
    .map((id) => packageFile(`fixtures/scenarios/counterexamples/${runner.name}-${id}.json`))
    .find((f) => f !== undefined);
  if (file === undefined) return undefined;
  return { file, scenario: parseScenario(JSON.parse(await readFile(file, 'utf8')), file) };
}

/**
 * What a person sees after Ctrl-C on a real run: the timelines and verdicts of the runners that
 * had finished, the interrupted one's timeline so far, and every process of the run killed.
 */
function interruptedReport(
  interrupted: RealRunInterrupted,
  finished: readonly Played[],
  options: SimulateOptions,
): string {
  const sections: string[] = [];
  if (options.timeline !== false) {
    for (const r of finished) {
      sections.push(`=== ${r.runner} ===\n${timelineOf(r.trace, options)}`);
    }
    sections.push(`=== ${interrupted.runner} (interrupted) ===\n${timelineOf(interrupted.trace, options)}`);
  }
  if (finished.length > 0) sections.push(renderVerdictTable(finished));
  const killed =
    interrupted.killed.length === 0
      ? 'no process of the run was left to kill'
      : `killed ${interrupted.killed.length} process(es) of the run:\n${interrupted.killed.map((p) => `  pid ${p.pid}  ${p.cmd}`).join('\n')}`;
  sections.push(
    `interrupted by ${interrupted.signal} while playing ${interrupted.runner}; ${killed}\n` +
      `the temporary repository, worktrees and state are removed; no verdict for ${interrupted.runner}`,
  );
  return sections.join('\n\n');
}

/** A timeline as the options ask: with logs or without, a real run's durations on one clock. */
function timelineOf(trace: RunResult['trace'], options: SimulateOptions): string {
  return renderTimeline(trace, {
    logs: options.logs === true,
    ...(options.real === true ? { realTimeScale: options.timeScale ?? DEFAULT_TIME_SCALE } : {}),
  });
}

/** A runner's name as a file name: a module path's slashes and dots are not a directory. */
function safeFileName(name: string): string {
  return name.replace(/[^\w.-]+/g, '_').replace(/^\.+/, '_');
}
