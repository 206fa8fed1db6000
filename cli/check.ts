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
import { runRealCommand, type RealRunResult } from '../simulator/real/real-world.ts';
import { probeAgent } from '../simulator/real/agent-probe.ts';
import { playPaced, type PacedRun } from '../simulator/real/paced-run.ts';
import { coverageOf, stopTimings } from '../simulator/real/coverage.ts';
import { buildScenario } from './simulate.ts';
import { sandboxAvailability } from '../simulator/real/sandbox.ts';
import { renderTimeline } from '../simulator/timeline.ts';
import { renderHtmlTimeline } from '../simulator/html-timeline.ts';
import { renderHttpJunit } from './junit.ts';
import { resolveRunnerConfig } from '../runner/config.ts';
import { PROFILES } from '../simulator/real/http-runner.ts';
import { blackBoxScenarios, EXERCISES } from '../simulator/real/black-box-scenarios.ts';
import { FAULT_KINDS } from '../properties/fault-kinds.ts';
import { UsageError } from './usage-error.ts';
import type { ExploredWorld } from '../properties/exhaustive/alphabet.ts';

/** An exploration bound past which one worker plays in a thread rather than here (a thread starts in about a second from the sources). */
const POOL_PAST_SCENARIOS = 20_000;
/** With no --workers, one thread per this many runs (at most one per core). */
const RUNS_PER_DEFAULT_WORKER = 5_000;

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
  killGrace?: number;
  only?: string[];
  sandbox?: boolean;
  acceptUnexercised?: boolean;
  scenario?: string;
  shard?: string;
  minutes?: number;
  workers?: number;
  exhaustive?: boolean;
  depth?: number;
  sessions?: number;
  world?: ExploredWorld;
  yes?: boolean;
  maxStates?: number;
  ties?: number;
  maxOrders?: number;
  hashing?: boolean;
  symmetry?: boolean;
}

export interface CheckOutcome {
  readonly exitCode: 0 | 1 | 2;
  readonly output: string;
}

export async function check(options: CheckCliOptions): Promise<CheckOutcome> {
  if (options.http !== undefined) return checkHttp(options);
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

/** Real ms per scenario ms for black-box runs: hapi's 15 s timeout takes 1.5 s, several agent start-ups. */
export const DEFAULT_HTTP_TIME_SCALE = 0.1;
/** The runner's webhook timeout must be at least this many agent start-ups, or children are judged before they ran. */
const MIN_STARTS_PER_TIMEOUT = 4;

/** `check --http COMMAND`: the black-box scenarios, in the real world, against a runner command. */
async function checkHttp(options: CheckCliOptions): Promise<CheckOutcome> {
  const command = options.http!;
  if (options.runner !== undefined) throw new UsageError('give either --runner or --http, not both');
  if (process.platform !== 'linux') throw new UsageError(`--http needs Linux (/proc); this is ${process.platform}`);
  if (command.trim() === '') throw new UsageError('--http needs a command that starts the runner');
  const profile = PROFILES[options.profile ?? 'hapi'];
  if (profile === undefined)
    throw new UsageError(`unknown profile "${options.profile}" (known: ${Object.keys(PROFILES).join(', ')})`);
  // A runner whose webhook timeout is fixed (happy's 15 s) needs the scenarios stretched to it.
  const fixed = profile.fixedWebhookTimeoutMs;
  let timeScale =
    options.timeScale ??
    (fixed !== undefined ? Math.min(1, fixed / resolveRunnerConfig({}).webhookTimeoutMs) : DEFAULT_HTTP_TIME_SCALE);
  const killGraceMs = options.killGrace ?? profile.killGraceMs;
  const artifacts = options.artifacts ?? 'runner-chaos-artifacts';
  if (options.scenario !== undefined && options.only !== undefined)
    throw new UsageError('give either --scenario FILE or --only NAME, not both');
  // A user's own scenario, over HTTP like the built-in ones (it declares nothing it must reach).
  const all =
    options.scenario !== undefined ? [await buildScenario({ scenario: options.scenario })] : blackBoxScenarios();
  const unknownNames = (options.only ?? []).filter((name) => !all.some((s) => s.name === name));
  if (unknownNames.length > 0)
    throw new UsageError(
      `unknown black-box scenario(s) ${unknownNames.join(', ')} (known: ${all.map((s) => s.name).join(' ')})`,
    );
  const scenarios = options.only === undefined ? all : all.filter((s) => options.only!.includes(s.name));
  const lines = [
    `runner command: ${command} (profile ${profile.name}; real world, time scale ${timeScale}, runner's kill grace ${killGraceMs} ms per process)`,
  ];
  // The sandbox: on by default where a PID namespace can be made; said either way.
  const availability = sandboxAvailability();
  const sandbox = options.sandbox !== false && availability.ok;
  if (options.sandbox === true && !availability.ok)
    throw new UsageError(`--sandbox: ${availability.why}; drop --sandbox to run the runner unconfined`);
  if (options.sandbox !== false && !availability.ok) {
    lines.push(
      `sandbox: unavailable here (${availability.why}); the runner runs unconfined, and is only ever named processes of the run`,
    );
  } else {
    lines.push(
      sandbox
        ? 'sandbox: the runner runs in a PID namespace of its own; its PID 1 is a canary'
        : 'sandbox: off (--no-sandbox): the runner runs unconfined, and is only ever named processes of the run',
    );
  }
  // Before any scenario ran: exit 2, said in the form asked for (--json gets JSON too).
  const harnessError = (message: string): CheckOutcome => ({
    exitCode: 2,
    output:
      options.json === true
        ? JSON.stringify(
            { command, profile: profile.name, timeScale, sandbox, results: [], harnessError: message, exitCode: 2 },
            null,
            2,
          )
        : [
            ...lines,
            `  harness error: ${message}`,
            '',
            'verdict: HARNESS ERROR: the run proves nothing (see above)',
          ].join('\n'),
  });
  // The canary: the harness sees its own agents, and they start well within the runner's timeout.
  let probe;
  try {
    probe = await probeAgent();
  } catch (error) {
    return harnessError((error as Error).message);
  }
  const defaultTimeoutMs = resolveRunnerConfig({}).webhookTimeoutMs;
  if (
    options.timeScale === undefined &&
    fixed === undefined &&
    probe.startMs * MIN_STARTS_PER_TIMEOUT > defaultTimeoutMs * timeScale
  ) {
    // A slow (or busy) machine: stretch the scenarios until the timeout holds enough start-ups,
    // rather than judging children before they ran. An explicit --time-scale is never changed.
    const raised = Math.min(1, Math.ceil(((probe.startMs * MIN_STARTS_PER_TIMEOUT) / defaultTimeoutMs) * 100) / 100);
    lines.push(
      `note: agents start in ${probe.startMs} ms here, too slow for time scale ${timeScale}; raised to ${raised} so that the 15 s webhook timeout holds ${MIN_STARTS_PER_TIMEOUT} start-ups (--time-scale sets it yourself)`,
    );
    timeScale = raised;
  }
  const timeoutRealMs = fixed ?? defaultTimeoutMs * timeScale;
  if (fixed !== undefined && Math.abs(fixed - resolveRunnerConfig({}).webhookTimeoutMs * timeScale) > 1) {
    lines.push(
      `note: ${profile.name}'s webhook timeout is ${fixed} real ms whatever it is told; at time scale ${timeScale} the scenarios' boot delays no longer fall around it as they are meant to`,
    );
  }
  lines.push(`canary: the harness sees its own agents; one starts in ${probe.startMs} ms here`);
  if (probe.startMs * MIN_STARTS_PER_TIMEOUT > timeoutRealMs) {
    const needed = Math.min(
      1,
      Math.ceil(((probe.startMs * MIN_STARTS_PER_TIMEOUT) / resolveRunnerConfig({}).webhookTimeoutMs) * 100) / 100,
    );
    return harnessError(
      `at time scale ${timeScale} the 15 s webhook timeout is ${Math.round(timeoutRealMs)} real ms, under ${MIN_STARTS_PER_TIMEOUT} agent start-ups (${probe.startMs} ms each): children would be judged before they ran. Use --time-scale ${needed} or more.`,
    );
  }
  const results = [];
  const started = performance.now();
  let harnessFailed = false;
  let unexercised = false;
  for (const [index, scenario] of scenarios.entries()) {
    // Each real scenario takes seconds: say which one runs, and how long is left, as we go.
    const elapsed = (performance.now() - started) / 1000;
    const left = index === 0 ? '' : `, about ${Math.round((elapsed / index) * (scenarios.length - index))} s left`;
    process.stderr.write(`check --http: scenario ${index + 1}/${scenarios.length} ${scenario.name}${left}\n`);
    // Did the run reach what the scenario is for? Not reached is never "held". A clean run that
    // did not, at a time scale the harness chose, is played once more slower: the machine's load
    // may have grown since the canary (agents starting late miss their timeouts). So is a run in
    // which an agent was judged before it had started: it proves nothing either way. What a run
    // that did exercise its agents found is never played again: a violation stands.
    const coverageFor = (played: RealRunResult) =>
      coverageOf(
        EXERCISES[scenario.name] ?? [],
        played.trace,
        scenario.runnerConfig.webhookTimeoutMs ?? resolveRunnerConfig({}).webhookTimeoutMs,
        scenario.steps.filter((s) => s.op === 'forge-webhook').length,
      );
    const missedIn = (coverage: ReturnType<typeof coverageOf>): string[] =>
      coverage.filter((c) => !c.exercised).map((c) => `${c.text} (${c.why})`);
    let paced: PacedRun;
    try {
      paced = await playPaced(
        (scale) =>
          runRealCommand(command, profile, scenario, { timeScale: scale, killGraceMs, sandbox }, 'http-runner'),
        timeScale,
        {
          pinned: options.timeScale !== undefined || fixed !== undefined,
          maxReplays: 1,
          replayBecause: (played, scale) => {
            // Agents judged before they started: the machine got busier than the canary saw.
            if (played.tooSlowForTimeScale) return `agents were judged before they started at time scale ${scale}`;
            const clean = played.harnessErrors.length === 0 && played.violations.length === 0;
            const missed = missedIn(coverageFor(played));
            return clean && missed.length > 0
              ? `not exercised at time scale ${scale} (${missed.join('; ')})`
              : undefined;
          },
          slower: async (scale) => {
            const now = await probeAgent();
            return {
              scale: Math.min(
                1,
                Math.max(scale * 2, Math.ceil(((now.startMs * MIN_STARTS_PER_TIMEOUT) / defaultTimeoutMs) * 100) / 100),
              ),
              why: `agents start in ${now.startMs} ms now`,
            };
          },
        },
      );
    } catch (error) {
      lines.push(`  ${scenario.name}: harness error: ${(error as Error).message}`);
      harnessFailed = true;
      break;
    }
    const { result, timeScale: scale, notes: replayNotes } = paced;
    const coverage = coverageFor(result);
    const missed = missedIn(coverage);
    const errored = result.harnessErrors.length > 0;
    harnessFailed ||= errored;
    if (EXERCISES[scenario.name] === undefined)
      lines.push(
        `  note: ${scenario.name} declares nothing it must reach: its verdict covers only what the run happened to do`,
      );
    if (!errored && result.violations.length === 0 && missed.length > 0 && options.acceptUnexercised !== true)
      unexercised = true;
    results.push({
      scenario: scenario.name,
      violations: result.violations,
      counts: result.counts,
      killedAtEnd: result.killedAtEnd,
      harnessErrors: result.harnessErrors,
      notes: [...replayNotes, ...result.notes],
      forged: result.forged,
      coverage,
      ...(options.acceptUnexercised !== true ? { notExercised: missed } : {}),
    });
    const verdict = errored
      ? 'HARNESS ERROR (proves nothing)'
      : result.violations.length > 0
        ? `VIOLATED ${result.violated.join(' ')}`
        : missed.length === 0
          ? 'held'
          : options.acceptUnexercised === true
            ? 'no violation, NOT EXERCISED (accepted with --accept-unexercised)'
            : 'NOT EXERCISED (proves nothing)';
    lines.push(`  ${scenario.name}: ${verdict} (${Math.round(result.wallMs)} ms)`);
    for (const c of coverage)
      lines.push(`    ${c.exercised ? 'exercised' : 'NOT exercised'}: ${c.text}${c.exercised ? '' : ` (${c.why})`}`);
    // The runner's kill timing as it behaved (a black box never says it), in real time.
    const real = (scenarioMs: number | undefined): string =>
      scenarioMs === undefined ? 'never' : `${((scenarioMs * scale) / 1000).toFixed(2)} s`;
    for (const t of stopTimings(result.trace))
      lines.push(
        `    measured: stopping ${t.sessionId} took the runner ${real(t.treeGoneAfterMs)} until its child was gone, ${real(t.answeredAfterMs)} until it answered (real time; the stop bound allows ${real(result.stopBoundMs)})`,
      );
    for (const e of result.harnessErrors) lines.push(`    harness error: ${e}`);
    for (const n of [...replayNotes, ...result.notes]) lines.push(`    note: ${n}`);
    for (const v of result.violations) lines.push(`    ${v.invariant}: ${v.message}`);
    if (result.killedAtEnd.length > 0) {
      lines.push(
        `    the harness killed the ${result.killedAtEnd.length} process(es) of the run still alive at the end (${result.counts.leakedProcesses} of them leaked, the rest in sessions the runner lists)`,
      );
    }
    if (errored || result.violations.length > 0 || missed.length > 0) {
      if (result.runnerOutput !== undefined && result.runnerOutput !== '')
        lines.push("    the runner's last output:", ...result.runnerOutput.split('\n').map((l) => `      ${l}`));
      mkdirSync(artifacts, { recursive: true });
      const base = join(artifacts, `http-${safeName(scenario.name)}`);
      writeFileSync(`${base}.timeline.txt`, `${renderTimeline(result.trace)}\n`);
      writeFileSync(
        `${base}.html`,
        renderHtmlTimeline({
          title: `${command} in ${scenario.name}`,
          subtitle: scenario.description ?? '',
          trace: result.trace,
          violations: result.violations,
        }),
      );
      if (result.runnerOutput !== undefined) writeFileSync(`${base}.runner-output.txt`, `${result.runnerOutput}\n`);
      lines.push(
        `    timeline (also in ${base}.timeline.txt and ${base}.html):`,
        ...renderTimeline(result.trace)
          .split('\n')
          .map((l) => `    ${l}`),
      );
    }
  }
  mkdirSync(artifacts, { recursive: true });
  writeFileSync(join(artifacts, 'junit.xml'), renderHttpJunit(command, results));
  const failed = results.some((r) => r.violations.length > 0);
  // A violation stands whatever else happened; a scenario that reached nothing it is for proves nothing.
  const exitCode = harnessFailed ? 2 : failed ? 1 : unexercised ? 2 : 0;
  lines.push(
    '',
    `verdict: ${
      harnessFailed
        ? 'HARNESS ERROR: the run proves nothing (see above)'
        : failed
          ? 'NOT as declared'
          : unexercised
            ? 'NOT EXERCISED: some scenarios did not reach what they test, so they prove nothing (see above; --accept-unexercised takes the rest as held)'
            : 'as declared'
    }`,
  );
  return {
    exitCode,
    output:
      options.json === true
        ? JSON.stringify(
            { command, profile: profile.name, timeScale, sandbox, agentStartMs: probe.startMs, results, exitCode },
            null,
            2,
          )
        : lines.join('\n'),
  };
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}
