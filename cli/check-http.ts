// `check --http COMMAND`: the black-box scenarios, in the real world, against a runner command.
// A file of its own so that a virtual check starts without loading the real world's HTTP stack.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckCliOptions, CheckOutcome } from './check-options.ts';
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
import { UsageError } from './usage-error.ts';

/** Real ms per scenario ms for black-box runs: hapi's 15 s timeout takes 1.5 s, several agent start-ups. */
export const DEFAULT_HTTP_TIME_SCALE = 0.1;
/** The runner's webhook timeout must be at least this many agent start-ups, or children are judged before they ran. */
const MIN_STARTS_PER_TIMEOUT = 4;

/** `check --http COMMAND`: the black-box scenarios, in the real world, against a runner command. */
export async function checkHttp(options: CheckCliOptions): Promise<CheckOutcome> {
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
