// `check`: the property suite against one runner, as a CI gate.
import { INVARIANTS, type InvariantId } from '../runner/contract.ts';
import { checkRunner, formatCounterexample, type CheckReport } from '../properties/check.ts';
import { loadRunner } from './load-runner.ts';
import { renderJunit } from './junit.ts';
import { progressReporter } from './progress.ts';
import { checkPool, defaultWorkers } from './check-pool.ts';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mergeReports, parseShard, shardRuns, shardSeed, shardSuffix, type Shard } from './campaign.ts';
import { join } from 'node:path';
import { FAULT_KINDS } from '../properties/fault-kinds.ts';
import { UsageError } from './usage-error.ts';
import type { CheckCliOptions, CheckOutcome } from './check-options.ts';

/** An exploration bound past which one worker plays in a thread rather than here (a thread starts in about a second from the sources). */
const POOL_PAST_SCENARIOS = 20_000;
/** With no --workers, one thread per this many runs (at most one per core). */
const RUNS_PER_DEFAULT_WORKER = 5_000;

/**
 * `check`: the property suite against a runner in the virtual world, or with `--http` the
 * black-box scenarios against a runner command. Bad usage throws a UsageError (exit 2); what the
 * runner does is in the outcome.
 */
export async function check(options: CheckCliOptions): Promise<CheckOutcome> {
  // Loaded when used: a virtual check does not load the real world (undici, msw, fastify).
  if (options.http !== undefined) return (await import('./check-http.ts')).checkHttp(options);
  if (options.scenario !== undefined)
    throw new UsageError(
      '--scenario plays a scenario against a runner command, with --http; in the virtual world, replay one with simulate --scenario FILE',
    );
  if (options.runner === undefined) throw new UsageError('check needs --runner NAME|PATH, or --http "COMMAND"');
  if (options.path !== undefined && options.seed === undefined)
    throw new UsageError('--path replays a run of a given --seed: give both');
  const unknown = (options.invariant ?? []).filter((id) => !(INVARIANTS as readonly string[]).includes(id));
  if (unknown.length > 0)
    throw new UsageError(`unknown invariant(s) ${unknown.join(', ')} (known: ${INVARIANTS.join(' ')})`);
  const badFaults = (options.without ?? []).filter((kind) => !(FAULT_KINDS as readonly string[]).includes(kind));
  if (badFaults.length > 0)
    throw new UsageError(`unknown fault kind(s) ${badFaults.join(', ')} (known: ${FAULT_KINDS.join(' ')})`);
  let runner;
  try {
    runner = await loadRunner(options.runner);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (options.exhaustive === true) {
    const clash = (['runs', 'seed', 'path', 'minutes', 'without', 'invariant'] as const).filter(
      (k) => options[k] !== undefined,
    );
    if (clash.length > 0)
      throw new UsageError(
        `--exhaustive explores every scenario up to --depth: it takes no ${clash.map((k) => `--${k}`).join(', ')}`,
      );
    const { checkExhaustive, exhaustiveBound } = await import('./check-exhaustive.ts');
    const { shard: shardText, ...rest } = options;
    const shard = shardText !== undefined ? parseShard(shardText) : undefined;
    const workers = options.workers ?? defaultWorkers();
    // Long explorations play in threads even with one worker: see YOUNG_GENERATION_MB.
    const long = exhaustiveBound({ ...rest, ...(shard !== undefined ? { shard } : {}) }) > POOL_PAST_SCENARIOS;
    const pool = workers > 1 || long ? checkPool(options.runner, workers) : undefined;
    try {
      return await checkExhaustive(runner, options.runner, {
        ...rest,
        ...(shard !== undefined ? { shard } : {}),
        ...(pool !== undefined ? { parallel: (batch, settings) => pool.explore(batch, settings), workers } : {}),
      });
    } finally {
      await pool?.close();
    }
  }
  const flagName = {
    depth: 'depth',
    sessions: 'sessions',
    maxStates: 'max-states',
    world: 'world',
    ties: 'ties',
    maxOrders: 'max-orders',
  } as const;
  for (const flag of ['depth', 'sessions', 'maxStates', 'world', 'ties', 'maxOrders'] as const)
    if (options[flag] !== undefined) throw new UsageError(`--${flagName[flag]} is for --exhaustive`);
  const shard = options.shard !== undefined ? parseShard(options.shard) : undefined;
  if (shard !== undefined && options.path !== undefined)
    throw new UsageError('--path replays one run of one seed: give it without --shard');
  if (options.minutes !== undefined && (options.path !== undefined || shard !== undefined))
    throw new UsageError('--minutes runs seed after seed: give it without --path or --shard');
  const runs = options.runs ?? 1_000;
  // A matrix's jobs must agree on the seed they split: without --seed, shards split seed 0.
  const baseSeed = options.seed ?? (shard !== undefined ? 0 : undefined);
  const onRun = process.stderr.isTTY === true || options.progress === true ? progressReporter() : undefined;
  // Threads pay off only for long searches: each loads and warms up its own copy of the code
  // (seconds), and a run allocates so much that two threads share a 2-core machine's memory
  // badly (bench/RESULTS.md: on Node 20, 2 threads were slower than 1 even at 6,000 runs). A
  // replay (--path) is one run.
  const workers =
    options.path !== undefined
      ? 1
      : (options.workers ?? Math.max(1, Math.min(defaultWorkers(), Math.floor(runs / RUNS_PER_DEFAULT_WORKER))));
  const pool = workers > 1 ? checkPool(options.runner, workers, onRun) : undefined;
  const play = (seed: number | undefined, numRuns: number): ReturnType<typeof checkRunner> =>
    checkRunner(runner, {
      numRuns,
      runnerRef: options.runner!,
      artifactsDir: options.artifacts ?? 'runner-chaos-artifacts',
      ...(onRun !== undefined ? { onRun } : {}),
      ...(pool !== undefined ? { parallel: pool.search } : {}),
      stopAtFirstFailure: options.all !== true,
      ...(seed !== undefined ? { seed } : {}),
      ...(options.path !== undefined ? { path: options.path } : {}),
      ...(options.invariant !== undefined ? { invariants: options.invariant as InvariantId[] } : {}),
      ...(options.without !== undefined
        ? { faults: Object.fromEntries(options.without.map((kind) => [kind, false])) }
        : {}),
    });
  try {
    return await playCampaign(options, runs, baseSeed, shard, play, workers);
  } finally {
    await pool?.close();
  }
}

/** One check, a shard of one, or rounds of them for `--minutes`. */
async function playCampaign(
  options: CheckCliOptions,
  runs: number,
  baseSeed: number | undefined,
  shard: Shard | undefined,
  play: (seed: number | undefined, numRuns: number) => Promise<CheckReport>,
  workers: number,
): Promise<CheckOutcome> {
  let report: CheckReport;
  const notes: string[] = workers > 1 ? [`${workers} worker threads`] : [];
  if (options.minutes !== undefined) {
    // Round after round of `runs` scenarios, seed after seed, until the budget is spent or a
    // round is not as declared.
    const first = baseSeed ?? (Math.random() * 0x7fffffff) | 0;
    const budgetMs = options.minutes * 60_000;
    const started = performance.now();
    const rounds: CheckReport[] = [];
    // Bounded by the budget: each round takes time.
    for (let round = 0; rounds.length === 0 || performance.now() - started < budgetMs; round++) {
      const r = await play(first + round, runs);
      rounds.push(r);
      if (r.verdict !== 'as-declared' || r.outcomes.some((o) => o.error !== undefined)) break;
    }
    report = mergeReports(rounds, true);
    const seconds = (performance.now() - started) / 1000;
    notes.push(
      `campaign: ${rounds.length} round(s) of up to ${runs} scenarios, seeds ${first} to ${first + rounds.length - 1}, ` +
        `${report.scenariosRun} scenarios in ${seconds.toFixed(1)} s (${Math.round(report.scenariosRun / Math.max(seconds, 1e-3))} scenarios/s)`,
    );
  } else if (shard !== undefined) {
    const seed = shardSeed(baseSeed!, shard);
    report = await play(seed, shardRuns(runs, shard));
    notes.push(
      `shard ${shard.index}/${shard.count}: ${shardRuns(runs, shard)} of ${runs} scenarios, fast-check seed ${seed} (from --seed ${baseSeed}); join the shards' reports with: runner-chaos merge DIR...`,
    );
  } else {
    report = await play(baseSeed, runs);
  }
  return finishVirtualCheck(report, options, shard, notes);
}

/** Writes JUnit and the JSON report (for `merge`) into the artifacts, and says the verdict. */
function finishVirtualCheck(
  report: CheckReport,
  options: Pick<CheckCliOptions, 'artifacts' | 'json'>,
  shard: Shard | undefined,
  notes: readonly string[] = [],
): CheckOutcome {
  // JUnit XML for CI dashboards, on every run, beside any counterexamples; the report as JSON,
  // which `merge` joins across shards.
  const artifacts = options.artifacts ?? 'runner-chaos-artifacts';
  mkdirSync(artifacts, { recursive: true });
  const suffix = shardSuffix(shard);
  writeFileSync(join(artifacts, `junit${suffix}.xml`), renderJunit(report));
  writeFileSync(join(artifacts, `runner-chaos-report${suffix}.json`), `${JSON.stringify(report, null, 2)}\n`);
  const broken = report.outcomes.some((o) => o.error !== undefined);
  const exitCode = broken ? 2 : report.verdict === 'as-declared' ? 0 : 1;
  const text = [renderReport(report), ...notes].join('\n');
  return { exitCode, output: options.json === true ? JSON.stringify(report, null, 2) : text };
}

/** `merge`: the reports of a campaign's shards (files, or directories holding them) as one. */
export async function merge(
  paths: readonly string[],
  options: Pick<CheckCliOptions, 'artifacts' | 'json'>,
): Promise<CheckOutcome> {
  const files: string[] = [];
  for (const path of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      throw new UsageError(`cannot read ${path}: no such file or directory`);
    }
    if (!isDir) files.push(path);
    else
      files.push(
        ...readdirSync(path)
          .filter((name) => /^runner-chaos-report.*\.json$/.test(name))
          .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
          .map((name) => join(path, name)),
      );
  }
  if (files.length === 0)
    throw new UsageError(
      `no runner-chaos-report*.json in ${paths.join(', ')}: give the artifacts of check --shard runs`,
    );
  const reports = files.map((file) => {
    try {
      const report = JSON.parse(readFileSync(file, 'utf8')) as CheckReport;
      if (typeof report.runner !== 'string' || !Array.isArray(report.outcomes)) throw new Error('not a check report');
      return report;
    } catch (error) {
      throw new UsageError(`${file} is not a runner-chaos check report: ${(error as Error).message}`);
    }
  });
  const merged = mergeReports(reports);
  return finishVirtualCheck(merged, options, undefined, [`merged ${reports.length} report(s): ${files.join(', ')}`]);
}

export function renderReport(report: CheckReport): string {
  const lines = [
    `runner ${report.runner}${report.declared.length > 0 ? ` (declares it breaks ${report.declared.join(' ')})` : ''}`,
  ];
  for (const o of report.outcomes) {
    if (o.error !== undefined) lines.push(`  ${o.invariant}  ERROR: the harness could not run the runner: ${o.error}`);
    else if (o.held) lines.push(`  ${o.invariant}  held over ${o.runs} scenarios (${Math.round(o.wallMs)} ms)`);
    else
      lines.push(
        `  ${o.invariant}  VIOLATED after ${o.runs} scenarios (${Math.round(o.msToFirstFailure ?? o.wallMs)} ms)${
          o.counterexample !== undefined && o.counterexample.invariant !== o.invariant
            ? `, in the counterexample of ${o.counterexample.invariant}`
            : ''
        }`,
      );
  }
  // A counterexample that breaks several invariants is shown once.
  const shown = new Set<unknown>();
  for (const o of report.outcomes) {
    if (o.counterexample === undefined || shown.has(o.counterexample)) continue;
    shown.add(o.counterexample);
    lines.push('', formatCounterexample(report.runner, o.counterexample));
  }
  lines.push(
    '',
    `${report.scenariosRun} scenarios in ${Math.round(report.wallMs)} ms; verdict: ${report.verdict === 'as-declared' ? 'as declared' : 'NOT as declared'}`,
  );
  return lines.join('\n');
}
