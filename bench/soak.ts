// Soak of the real world (issue #6): generated scenarios with faults on — resumes, worktrees,
// stops, early exits, webhook oddities, SIGTERM-ignorers, escapees, slow deaths, crashes, forged
// webhooks, strangers, restarts over kept, corrupt or lost state files — played with real
// processes against the reference runner for a few minutes. Reports violations (unanswered
// requests are L1), processes killed by the harness at the end, and bystander signals: all must
// be zero. Durations are capped at a minute of scenario time so that each run stays short.
// Run: pnpm soak [minutes] [time scale]      (defaults: 5 minutes, 0.01)
import fc from 'fast-check';
import { referenceRunner } from '../runner/reference.ts';
import { scenarioArb } from '../properties/arbitraries.ts';
import { parseScenario, type ScenarioInput, type Step } from '../simulator/scenario.ts';
import { runReal } from '../simulator/real/real-world.ts';

const minutes = Number(process.argv[2] ?? 5);
const timeScale = Number(process.argv[3] ?? 0.01);
const CAP_MS = 60_000;

/** Caps every duration of a generated scenario, so one real run takes seconds, not hours. */
function capped(input: ScenarioInput): ScenarioInput {
  const cap = (ms: number | undefined) => (ms === undefined ? undefined : Math.min(ms, CAP_MS));
  const agent = (a: Record<string, unknown> | null | undefined) =>
    a == null
      ? a
      : {
          ...a,
          bootDelayMs: cap(a.bootDelayMs as number | undefined),
          exitAfterMs: cap(a.exitAfterMs as number | undefined),
        };
  return {
    ...input,
    agent: agent(input.agent as Record<string, unknown>) as ScenarioInput['agent'],
    agents: (input.agents ?? []).map((a) => agent(a as Record<string, unknown> | null)) as ScenarioInput['agents'],
    steps: input.steps.map((s: Step) => (s.op === 'advance' ? { ...s, ms: Math.min(s.ms, CAP_MS) } : s)),
  };
}

const arbitrary = scenarioArb({ maxSteps: 6, faults: { gitFaults: false, shuffledTies: false } });
const deadline = Date.now() + minutes * 60_000;
let runs = 0;
let requests = 0;
const violations: string[] = [];
let killed = 0;
let bystanderSignals = 0;
const harnessErrors: string[] = [];
let seed = 1;
const started = Date.now();
while (Date.now() < deadline) {
  const [input] = fc.sample(arbitrary, { numRuns: 1, seed: seed++ });
  const scenario = parseScenario(capped(input!));
  let result;
  try {
    result = await runReal(referenceRunner, scenario, { timeScale });
  } catch (error) {
    // A harness failure is a finding too: counted, and the soak goes on.
    harnessErrors.push(`seed ${seed - 1}: ${error instanceof Error ? error.message : String(error)}`);
    continue;
  }
  runs++;
  requests += result.trace.filter((e) => e.kind === 'request').length;
  killed += result.killedAtEnd.length;
  bystanderSignals += result.bystanderSignals;
  for (const v of result.violations) violations.push(`seed ${seed - 1}: ${v.invariant} ${v.message}`);
  if (runs % 10 === 0) {
    const elapsed = (Date.now() - started) / 1000;
    process.stderr.write(
      `soak: ${runs} runs (${(runs / elapsed).toFixed(2)}/s), ${requests} requests, ${violations.length} violations, ${Math.max(0, Math.round((deadline - Date.now()) / 1000))} s left\n`,
    );
  }
}
console.log(`# Real-world soak\n`);
console.log(
  `${minutes} minutes at time scale ${timeScale}: ${runs} generated scenarios, ${requests} requests to the reference runner.\n`,
);
console.log(`| what | count |\n|---|---|`);
console.log(`| violations (unanswered requests are L1) | ${violations.length} |`);
console.log(`| processes the harness had to kill at the end, leaked or listed | ${killed} |`);
console.log(`| signals received by bystanders | ${bystanderSignals} |`);
console.log(`| harness errors | ${harnessErrors.length} |`);
for (const v of [...violations, ...harnessErrors].slice(0, 20)) console.log(`- ${v}`);
process.exitCode = violations.length === 0 && bystanderSignals === 0 && harnessErrors.length === 0 ? 0 : 1;
