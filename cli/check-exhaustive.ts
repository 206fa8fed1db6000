// `check --exhaustive`: the bounded proof. Says up front how big the bound is (and refuses one
// that would not finish, without --yes), shows progress, and ends with either the bounds of
// what it proved or a shortest counterexample with its timeline and replay line.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunnerDefinition } from '../runner/contract.ts';
import { cliCommand } from '../properties/cli-command.ts';
import {
  exploreRunner,
  ordersPerSequence,
  upperBound,
  type ExhaustiveOptions,
  type Shard,
  type ExhaustiveReport,
} from '../properties/exhaustive/explore.ts';
import { EXPLORED_WORLDS, type ExploredWorld } from '../properties/exhaustive/alphabet.ts';
import { runScenario } from '../simulator/run-scenario.ts';
import { parseScenario } from '../simulator/scenario.ts';
import { renderTimeline } from '../simulator/timeline.ts';
import { UsageError } from './usage-error.ts';

/**
 * Measured on a 2-core machine (bench/RESULTS.md): a scenario of 3-4 moves, played and judged,
 * 0.23-0.25 ms on one thread with a 192 MB young generation (0.33-0.42 ms with Node's default);
 * rounded up past both, so the estimate before a run is rather long than short, also on a slower
 * machine or in a process of the user's own (the Node API) with the default young generation.
 */
const MS_PER_SCENARIO = 0.5;
/** A bound estimated to take longer than this needs --yes. */
const REFUSE_PAST_MS = 10 * 60_000;

export interface ExhaustiveCliOptions {
  readonly shard?: Shard;
  readonly parallel?: ExhaustiveOptions['parallel'];
  readonly workers?: number;
  readonly depth?: number;
  readonly sessions?: number;
  readonly world?: ExploredWorld;
  readonly yes?: boolean;
  readonly maxStates?: number;
  readonly ties?: number;
  readonly maxOrders?: number;
  readonly hashing?: boolean;
  readonly symmetry?: boolean;
  readonly json?: boolean;
  readonly artifacts?: string;
  readonly progress?: boolean;
}

const minutes = (ms: number): string => (ms < 60_000 ? `${Math.ceil(ms / 1000)} s` : `${(ms / 60_000).toFixed(1)} min`);

/**
 * How many scenarios the run's bound has at most (its shard's share), after checking the depth
 * and session count: what the estimate, the refusal and the choice of threads go by.
 */
export function exhaustiveBound(
  options: Pick<ExhaustiveCliOptions, 'depth' | 'sessions' | 'symmetry' | 'shard' | 'world'>,
): number {
  const depth = options.depth ?? 3;
  const sessions = options.sessions ?? 2;
  if (!Number.isInteger(depth) || depth < 1 || depth > 8)
    throw new UsageError(`--depth ${depth}: give 1 to 8 moves (each level multiplies the scenarios by about 50)`);
  if (!Number.isInteger(sessions) || sessions < 1 || sessions > 4)
    throw new UsageError(`--sessions ${sessions}: give 1 to 4 session ids`);
  // A shard takes the subtrees under every n-th first move: counted exactly.
  return upperBound(depth, sessions, options.symmetry ?? true, options.world ?? 'plain', options.shard);
}

export async function checkExhaustive(
  runner: RunnerDefinition,
  runnerRef: string,
  options: ExhaustiveCliOptions,
): Promise<{ exitCode: 0 | 1 | 2; output: string }> {
  const depth = options.depth ?? 3;
  const sessions = options.sessions ?? 2;
  const world = options.world ?? 'plain';
  const bound = exhaustiveBound(options);
  if (options.maxOrders !== undefined && (options.ties ?? 0) === 0)
    throw new UsageError('--max-orders bounds the orders --ties plays: give it with --ties N|all');
  // Estimated on one core: two threads gave 1.2-1.45x on this 2-core machine (bench/RESULTS.md,
  // "Batches in flight"), so the estimate stays on the long side.
  const ties = options.ties ?? 0;
  const orders = ordersPerSequence(ties, options.maxOrders ?? 10_000);
  const inOrders =
    ties === 0
      ? ''
      : ties <= 2
        ? ` (each in about ${orders} orders of its same-instant events)`
        : ` (each in up to ${orders.toLocaleString('en')} orders of its same-instant events, --max-orders)`;
  const estimateMs = bound * orders * MS_PER_SCENARIO;
  if (estimateMs > REFUSE_PAST_MS && options.yes !== true)
    throw new UsageError(
      `--depth ${depth} --sessions ${sessions}${ties === 0 ? '' : ` --ties ${ties === Infinity ? 'all' : ties}`}${options.shard !== undefined ? ` --shard ${options.shard.index}/${options.shard.count}` : ''} is up to ${bound.toLocaleString('en')} scenarios${inOrders}, about ${minutes(estimateMs)} on one core of a small machine; ` +
        `lower --depth${ties === 0 ? '' : ' or --ties'}, or give --yes to run it anyway`,
    );
  const tell = (line: string): void => {
    if (process.stderr.isTTY === true || options.progress === true) process.stderr.write(`${line}\n`);
  };
  tell(
    `exhaustive: up to ${bound.toLocaleString('en')} scenarios${inOrders} (depth ${depth}, ${sessions} session(s), world ${world}), about ${minutes(estimateMs)} at most`,
  );
  let lastTold = performance.now();
  const report = await exploreRunner(runner, {
    depth,
    sessions,
    world,
    ...(options.hashing !== undefined ? { hashing: options.hashing } : {}),
    ...(options.symmetry !== undefined ? { symmetry: options.symmetry } : {}),
    ...(options.maxStates !== undefined ? { maxStates: options.maxStates } : {}),
    ...(options.ties !== undefined ? { ties: options.ties } : {}),
    ...(options.maxOrders !== undefined ? { maxOrders: options.maxOrders } : {}),
    ...(options.shard !== undefined ? { shard: options.shard } : {}),
    ...(options.parallel !== undefined ? { parallel: options.parallel } : {}),
    ...(runner.declares.length > 0 ? { invariants: runner.declares } : {}),
    onProgress: (p) => {
      if (performance.now() - lastTold < 5_000) return;
      lastTold = performance.now();
      tell(
        `exhaustive: depth ${p.depth}, ${p.scenarios.toLocaleString('en')} scenarios, ${p.states.toLocaleString('en')} states, at most ${minutes(p.msLeftAtMost)} left`,
      );
    },
  });
  if (options.json === true)
    return {
      exitCode: exitCodeOf(runner, report),
      output: JSON.stringify(report, (_, v: unknown) => (v === Infinity ? 'all' : v), 2),
    }; // ties: every order
  return { exitCode: exitCodeOf(runner, report), output: await render(runner, runnerRef, report, options) };
}

function exitCodeOf(runner: RunnerDefinition, report: ExhaustiveReport): 0 | 1 | 2 {
  if (report.incomplete !== undefined) return 2;
  const found = report.counterexample !== undefined;
  // A known-bad runner must be caught breaking what it declares; any other must hold.
  return runner.declares.length > 0 ? (found ? 0 : 1) : found ? 1 : 0;
}

async function render(
  runner: RunnerDefinition,
  runnerRef: string,
  report: ExhaustiveReport,
  options: ExhaustiveCliOptions,
): Promise<string> {
  const lines = [
    `exhaustive check of ${runner.name}${runner.declares.length > 0 ? ` (declares it breaks ${runner.declares.join(' ')}; judged on those)` : ''}: ` +
      `every scenario of up to ${report.depth} moves, ${report.sessions} session id(s), ${EXPLORED_WORLDS[report.world].classes.length} agent classes, world ${report.world} (${EXPLORED_WORLDS[report.world].about})` +
      `${report.ties === 0 ? '' : report.ties === Infinity ? ', every order of same-instant events' : `, up to ${report.ties} same-instant event(s) out of scheduling order`}` +
      `${report.hashing ? '' : ', no state hashing'}${report.symmetry ? '' : ', no symmetry'}` +
      `${options.workers !== undefined && options.workers > 1 ? `, ${options.workers} worker threads` : ''}` +
      `${options.shard !== undefined ? `; shard ${options.shard.index}/${options.shard.count} (the first moves of index ${options.shard.index - 1} mod ${options.shard.count}: every shard must hold)` : ''}`,
  ];
  for (const level of report.levels)
    lines.push(
      `  depth ${level.depth}: ${level.scenarios.toLocaleString('en')} scenarios, ${level.newStates.toLocaleString('en')} new states`,
    );
  const seconds = (report.wallMs / 1000).toFixed(1);
  if (report.incomplete !== undefined) {
    lines.push(`INCOMPLETE, proves nothing: ${report.incomplete} (${seconds} s)`);
    return lines.join('\n');
  }
  const c = report.counterexample;
  // The plain world goes unsaid in the verdict line (as it always has); any other is part of what was proved.
  const inWorld =
    (report.world === 'plain' ? '' : ` in the ${report.world} world`) +
    (report.ties === 0
      ? ''
      : report.ties === Infinity
        ? ', in every order of same-instant events'
        : `, with up to ${report.ties} same-instant event(s) out of scheduling order`);
  if (c === undefined) {
    lines.push(
      runner.declares.length > 0
        ? `${report.scenarios.toLocaleString('en')} distinct scenarios (${report.states.toLocaleString('en')} states) up to depth ${report.depth}${inWorld}: NOT caught breaking ${runner.declares.join(' ')} (${seconds} s)`
        : `${report.scenarios.toLocaleString('en')} distinct scenarios (${report.states.toLocaleString('en')} states) up to depth ${report.depth} with ${report.sessions} session(s)${inWorld}: every invariant held (${seconds} s)`,
      'what this bound covers and what it does not: README, "A bounded proof"',
    );
    return lines.join('\n');
  }
  const artifacts = options.artifacts ?? 'runner-chaos-artifacts';
  mkdirSync(artifacts, { recursive: true });
  const file = join(artifacts, `${runner.name.replace(/[^A-Za-z0-9._-]/g, '_')}-exhaustive-${c.invariants[0]}.json`);
  writeFileSync(file, `${JSON.stringify(c.scenario, null, 2)}\n`);
  const played = await runScenario(runner, parseScenario(c.scenario, file));
  lines.push(
    `shortest counterexample (${c.moves.length} move(s), found after ${report.scenarios.toLocaleString('en')} scenarios, ${seconds} s): ${c.invariants.join(', ')}`,
    ...c.moves.map((m, i) => `  ${i + 1}. ${m}`),
    ...(c.tieOrder !== undefined
      ? [
          `  same-instant events out of scheduling order: world.tieOrder ${JSON.stringify(c.tieOrder)} (at the n-th instant with events due together, the one of that index ran first; the timeline shows the order)`,
        ]
      : []),
    ...c.violations.map((v) => `  ${v.invariant}: ${v.message}`),
    '',
    'timeline:',
    renderTimeline(played.trace),
    `saved to ${file}`,
    `replay: ${cliCommand('simulate')} --runner ${runnerRef} --scenario ${file}`,
  );
  return lines.join('\n');
}
