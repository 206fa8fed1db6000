// `check`: the property suite against one runner, as a CI gate.
import { INVARIANTS, type InvariantId } from '../../runner/contract.ts';
import { checkRunner, formatCounterexample, type CheckReport } from '../../properties/check.ts';
import { loadRunner } from '../load-runner.ts';
import { renderJunit } from '../junit.ts';
import { progressReporter } from './progress.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runRealCommand } from '../real/real-world.ts';
import { PROFILES } from '../real/http-runner.ts';
import { blackBoxScenarios } from '../real/black-box-scenarios.ts';
import { DEFAULT_TIME_SCALE } from './simulate.ts';
import { FAULT_KINDS } from '../../properties/arbitraries.ts';
import { UsageError } from './usage-error.ts';

export interface CheckCliOptions {
  runner?: string;
  runs?: number;
  seed?: number;
  path?: string;
  invariant?: string[];
  json?: boolean;
  artifacts?: string;
  all?: boolean;
  without?: string[];
  http?: string;
  profile?: string;
  progress?: boolean;
  timeScale?: number;
}

export interface CheckOutcome {
  readonly exitCode: 0 | 1 | 2;
  readonly output: string;
}

export async function check(options: CheckCliOptions): Promise<CheckOutcome> {
  if (options.http !== undefined) return checkHttp(options);
  if (options.runner === undefined) throw new UsageError('check needs --runner NAME|PATH, or --http "COMMAND"');
  if (options.path !== undefined && options.seed === undefined) throw new UsageError('--path replays a run of a given --seed: give both');
  const unknown = (options.invariant ?? []).filter((id) => !(INVARIANTS as readonly string[]).includes(id));
  if (unknown.length > 0) throw new UsageError(`unknown invariant(s) ${unknown.join(', ')} (known: ${INVARIANTS.join(' ')})`);
  const badFaults = (options.without ?? []).filter((kind) => !(FAULT_KINDS as readonly string[]).includes(kind));
  if (badFaults.length > 0) throw new UsageError(`unknown fault kind(s) ${badFaults.join(', ')} (known: ${FAULT_KINDS.join(' ')})`);
  let runner;
  try {
    runner = await loadRunner(options.runner);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const report = await checkRunner(runner, {
    numRuns: options.runs ?? 1_000,
    runnerRef: options.runner,
    artifactsDir: options.artifacts ?? 'runner-chaos-artifacts',
    ...(process.stderr.isTTY === true || options.progress === true ? { onRun: progressReporter() } : {}),
    stopAtFirstFailure: options.all !== true,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.path !== undefined ? { path: options.path } : {}),
    ...(options.invariant !== undefined ? { invariants: options.invariant as InvariantId[] } : {}),
    ...(options.without !== undefined ? { faults: Object.fromEntries(options.without.map((kind) => [kind, false])) } : {}),
  });
  // JUnit XML for CI dashboards, on every run, beside any counterexamples.
  const artifacts = options.artifacts ?? 'runner-chaos-artifacts';
  mkdirSync(artifacts, { recursive: true });
  writeFileSync(join(artifacts, 'junit.xml'), renderJunit(report));
  const broken = report.outcomes.some((o) => o.error !== undefined);
  const exitCode = broken ? 2 : report.verdict === 'as-declared' ? 0 : 1;
  return { exitCode, output: options.json === true ? JSON.stringify(report, null, 2) : renderReport(report) };
}

export function renderReport(report: CheckReport): string {
  const lines = [`runner ${report.runner}${report.declared.length > 0 ? ` (declares it breaks ${report.declared.join(' ')})` : ''}`];
  for (const o of report.outcomes) {
    if (o.error !== undefined) lines.push(`  ${o.invariant}  ERROR: the harness could not run the runner: ${o.error}`);
    else if (o.held) lines.push(`  ${o.invariant}  held over ${o.runs} scenarios (${Math.round(o.wallMs)} ms)`);
    else lines.push(`  ${o.invariant}  VIOLATED after ${o.runs} scenarios (${Math.round(o.msToFirstFailure ?? o.wallMs)} ms)`);
  }
  for (const o of report.outcomes) {
    if (o.counterexample !== undefined) lines.push('', formatCounterexample(report.runner, o.counterexample));
  }
  lines.push('', `${report.scenariosRun} scenarios in ${Math.round(report.wallMs)} ms; verdict: ${report.verdict === 'as-declared' ? 'as declared' : 'NOT as declared'}`);
  return lines.join('\n');
}

/** `check --http COMMAND`: the black-box scenarios, in the real world, against a runner command. */
async function checkHttp(options: CheckCliOptions): Promise<CheckOutcome> {
  const command = options.http!;
  if (options.runner !== undefined) throw new UsageError('give either --runner or --http, not both');
  if (process.platform !== 'linux') throw new UsageError(`--http needs Linux (/proc); this is ${process.platform}`);
  const profile = PROFILES[options.profile ?? 'hapi'];
  if (profile === undefined) throw new UsageError(`unknown profile "${options.profile}" (known: ${Object.keys(PROFILES).join(', ')})`);
  const lines = [`runner command: ${command} (profile ${profile.name}; real world, time scale ${options.timeScale ?? DEFAULT_TIME_SCALE})`];
  const results = [];
  const scenarios = blackBoxScenarios();
  const started = performance.now();
  for (const [index, scenario] of scenarios.entries()) {
    // Each real scenario takes seconds: say which one runs, and how long is left, as we go.
    const elapsed = (performance.now() - started) / 1000;
    const left = index === 0 ? '' : `, about ${Math.round((elapsed / index) * (scenarios.length - index))} s left`;
    process.stderr.write(`check --http: scenario ${index + 1}/${scenarios.length} ${scenario.name}${left}\n`);
    let result;
    try {
      result = await runRealCommand(command, profile, scenario, { timeScale: options.timeScale ?? DEFAULT_TIME_SCALE }, 'http-runner');
    } catch (error) {
      lines.push(`  ${scenario.name}: ERROR ${(error as Error).message}`);
      return { exitCode: 2, output: lines.join('\n') };
    }
    results.push({ scenario: scenario.name, violations: result.violations, counts: result.counts, killedAtEnd: result.killedAtEnd });
    lines.push(`  ${scenario.name}: ${result.violations.length === 0 ? 'held' : `VIOLATED ${result.violated.join(' ')}`} (${Math.round(result.wallMs)} ms)`);
    for (const v of result.violations) lines.push(`    ${v.invariant}: ${v.message}`);
    if (result.killedAtEnd.length > 0) {
      lines.push(`    the harness killed the ${result.killedAtEnd.length} process(es) of the run still alive at the end (${result.counts.leakedProcesses} of them leaked, the rest in sessions the runner lists)`);
    }
  }
  const failed = results.some((r) => r.violations.length > 0);
  lines.push('', `verdict: ${failed ? 'NOT as declared' : 'as declared'}`);
  return { exitCode: failed ? 1 : 0, output: options.json === true ? JSON.stringify({ command, profile: profile.name, results }, null, 2) : lines.join('\n') };
}
