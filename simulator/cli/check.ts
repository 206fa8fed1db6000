// `check`: the property suite against one runner, as a CI gate.
import { INVARIANTS, type InvariantId } from '../../runner/contract.ts';
import { checkRunner, formatCounterexample, type CheckReport } from '../../properties/check.ts';
import { loadRunner } from '../load-runner.ts';
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
}

export interface CheckOutcome {
  readonly exitCode: 0 | 1 | 2;
  readonly output: string;
}

export async function check(options: CheckCliOptions): Promise<CheckOutcome> {
  if (options.runner === undefined) throw new UsageError('check needs --runner NAME|PATH');
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
    stopAtFirstFailure: options.all !== true,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.path !== undefined ? { path: options.path } : {}),
    ...(options.invariant !== undefined ? { invariants: options.invariant as InvariantId[] } : {}),
    ...(options.without !== undefined ? { faults: Object.fromEntries(options.without.map((kind) => [kind, false])) } : {}),
  });
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
