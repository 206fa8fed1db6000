// `simulate`: one scenario (the seed incident by default, or a file) against one or more
// runners in the virtual world, side by side.
import { readFile } from 'node:fs/promises';
import type { RunnerDefinition } from '../runner/contract.ts';
import { seedIncidentRunners } from '../fixtures/runners/index.ts';
import { loadRunner } from './load-runner.ts';
import { runScenario, type RunResult } from '../simulator/run-scenario.ts';
import { parseScenario, type Scenario } from '../simulator/scenario.ts';
import { seedIncidentScenario } from '../simulator/seed-incident.ts';
import { renderTimeline } from '../simulator/timeline.ts';
import { renderVerdictTable } from './report.ts';
import { runReal, type RealRunResult } from '../simulator/real/real-world.ts';

/** Real milliseconds per scenario millisecond: the 15 s timeout takes 300 ms, a 60 min boot 72 s. */
export const DEFAULT_TIME_SCALE = 0.02;
import { UsageError } from './usage-error.ts';
import { packageFile } from './package-version.ts';
import { cliCommand } from '../properties/check.ts';

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
  const results: RunResult[] = [];
  for (const runner of runners) {
    results.push(
      options.real === true
        ? await runReal(runner, scenario, { timeScale: options.timeScale ?? DEFAULT_TIME_SCALE })
        : await runScenario(runner, scenario),
    );
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
        declared: r.declared,
        violations: r.violations.map((v) => ({ invariant: v.invariant, message: v.message, atMs: v.atMs })),
        counts: r.counts,
        verdict: r.verdict,
        ...('harnessErrors' in r ? { harnessErrors: (r as RealRunResult).harnessErrors } : {}),
      })),
      wallMs,
    };
    return { exitCode, output: JSON.stringify(document, null, 2) };
  }
  const sections: string[] = [
    `scenario: ${scenario.name}${scenario.description !== undefined ? ` - ${scenario.description}` : ''} (seed ${scenario.seed})`,
  ];
  if (options.timeline !== false) {
    for (const r of results) {
      sections.push(`\n=== ${r.runner} ===\n${renderTimeline(r.trace, { logs: options.logs === true })}`);
    }
  }
  sections.push(`\n${renderVerdictTable(results)}`);
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
