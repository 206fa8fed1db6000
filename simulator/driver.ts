// The scenario driver: one step interpreter, one quiescence, one result, for both worlds. A
// world (virtual: simulator/virtual/world.ts; real: simulator/real/real-world.ts) only says how
// its own time passes and how its own faults are made; what a scenario step means, when the run
// is quiet, and what the oracle is shown at the end are said once, here.
//
//   scenario → driver → world → runner (through its ports) → trace → oracle → verdict → result
import type { InvariantId, RunnerDefinition, SessionInfo } from '../runner/contract.ts';
import type { Counts, Oracle, QuiescentWorld, Violation } from './oracle.ts';
import type { ChildRecord } from './records.ts';
import type { RequestLog, RunnerHandle } from './request-log.ts';
import { sessionNamed } from './records.ts';
import type { ParsedStep, PidRef, RestartState, Scenario } from './scenario.ts';
import type { Trace, TraceEvent } from './trace.ts';
import { judge, type VerdictKind } from './verdict.ts';
import { BrokenAdapterError } from './broken-adapter.ts';
import { isAnchor, type Anchor } from './anchors.ts';

/** What a world offers the driver: its clock, its faults, and its view of the ground truth. */
export interface World {
  readonly scenario: Scenario;
  readonly trace: Trace;
  readonly oracle: Oracle;
  readonly log: RequestLog;
  /** The repository a spawn's directory names. */
  readonly repo: string;
  /** The runner that is up now (none: requests are refused). */
  runner(): RunnerHandle | undefined;
  /** The children seen so far, by spawn index. */
  knownChildren(): readonly ChildRecord[];
  /** Scenario milliseconds since the run started. */
  now(): number;

  /** Starts the world and the runner in it. */
  start(): Promise<void>;
  /** Lets `ms` scenario milliseconds pass. */
  advance(ms: number): Promise<void>;
  /**
   * Runs the events of the next instant that has any, if it is not past `limit`; false when
   * there is none. Worlds with an agenda (the virtual one) offer it, for `until` steps.
   */
  advanceToNextEvent?(limit: number): Promise<boolean>;
  /** After each step: lets what the step set off settle before the next one. */
  settle(): Promise<void>;
  /** Something outside the runner kills child `spawn` (its wrapper, or its whole tree). */
  crash(spawn: number, wholeTree: boolean): Promise<void>;
  /** A webhook nobody legitimate sent, naming the process `pid` refers to. */
  forgeWebhook(pid: PidRef, sessionId: string, startedBy: 'runner' | 'terminal'): Promise<void>;
  /** A stranger starts (taking a dead child's PID where the world can make it). */
  bystander(reusePidOf: number | undefined): Promise<void>;
  /** The runner is SIGKILLed and, `downMs` later, started again over its state, kept, corrupted or lost. */
  restart(state: RestartState, downMs: number): Promise<void>;
  /** How long after the last step every boot, timeout, kill grace and retry is over. */
  quiescenceHorizonMs(): number;
  /**
   * Lets up to `ms` pass, ending as soon as the world can tell nothing more will happen (every
   * request answered, no runner timer or port call pending, every agent's plan played out).
   * Worlds whose time costs real time offer it; the others let the whole horizon pass.
   */
  advanceUntilQuiet?(ms: number): Promise<void>;
  /** Lets the final list request be answered: until `answered()` says so, or the world's bound. */
  awaitFinalList(answered: () => boolean): Promise<void>;
  /** The ground truth the quiescent invariants are judged on (all but the list and the requests). */
  groundTruth(): Omit<QuiescentWorld, 'listed' | 'requests' | 'now'>;
}

/** Plays one step of a scenario in `world`. */
export async function playStep(world: World, step: ParsedStep): Promise<void> {
  switch (step.op) {
    case 'spawn':
    case 'stop':
    case 'list':
    case 'shutdown':
      world.log.issueStep(world.runner(), step, world.repo, (ref) => sessionNamed(ref, world.knownChildren()));
      break;
    case 'advance':
      await world.advance(step.ms);
      break;
    case 'crash':
      await world.crash(step.spawn, step.tree);
      break;
    case 'forge-webhook':
      await world.forgeWebhook(step.pid, step.sessionId, step.startedBy);
      break;
    case 'bystander':
      await world.bystander(step.reusePidOf);
      break;
    case 'restart':
      await world.restart(step.state ?? 'kept', step.downMs ?? 0);
      break;
    case 'until':
      await advanceUntil(world, step.event, step.withinMs);
      if (step.plusMs > 0) await world.advance(step.plusMs);
      break;
  }
  await world.settle();
}

/**
 * Lets time run until `anchor` happens (or `withinMs` passed): in the world's own steps where it
 * has them (the virtual world, event by event), else in slices of real-world-sized time.
 */
async function advanceUntil(world: World, anchor: Anchor, withinMs: number): Promise<void> {
  const from = world.trace.events.length;
  const seen = (): boolean => world.trace.events.slice(from).some((e) => isAnchor(anchor, e));
  if (world.advanceToNextEvent !== undefined) {
    const deadline = world.now() + withinMs;
    // Bounded: each pass runs at least one event, and the world caps its events.
    while (!seen() && world.now() < deadline) {
      if (!(await world.advanceToNextEvent(deadline))) break;
    }
    return;
  }
  const slice = 50;
  for (let waited = 0; waited < withinMs && !seen(); waited += slice) await world.advance(slice);
}

/** Past every boot, timeout, kill grace and retry; then the final list, and the quiescent invariants. */
export async function quiesce(world: World): Promise<void> {
  const horizon = world.quiescenceHorizonMs();
  if (world.advanceUntilQuiet !== undefined) await world.advanceUntilQuiet(horizon);
  else await world.advance(horizon);
  const listed: readonly SessionInfo[] | undefined = await world.log.finalList(world.runner(), (answered) =>
    world.awaitFinalList(answered),
  );
  world.oracle.atQuiescence({ ...world.groundTruth(), now: world.now(), requests: world.log.requests, listed });
}

/** Where a run is: `done` of `of` steps played, then the wait for quiescence. */
export interface PlayProgress {
  readonly done: number;
  readonly of: number;
  readonly phase: 'steps' | 'quiescence';
}

/**
 * The whole scenario: start, every step, quiescence. A broken adapter stops it (exit 2).
 * `onProgress` hears of every step played (a real run takes minutes; a person wants to know).
 */
export async function playScenario(world: World, onProgress?: (progress: PlayProgress) => void): Promise<void> {
  await world.start();
  const steps = world.scenario.steps as ParsedStep[];
  for (const [index, step] of steps.entries()) {
    onProgress?.({ done: index, of: steps.length, phase: 'steps' });
    await playStep(world, step);
  }
  onProgress?.({ done: steps.length, of: steps.length, phase: 'quiescence' });
  await quiesce(world);
  const broken = world.log.brokenAdapter;
  if (broken !== undefined) throw new BrokenAdapterError(`the runner broke the contract: ${broken}`);
}

/** What one scenario against one runner came to, in either world. */
export interface RunResult {
  readonly runner: string;
  readonly declared: readonly InvariantId[];
  readonly violations: readonly Violation[];
  readonly violated: readonly InvariantId[];
  readonly counts: Counts;
  readonly verdict: VerdictKind;
  readonly trace: readonly TraceEvent[];
}

export function resultOf(
  definition: Pick<RunnerDefinition, 'name' | 'declares'>,
  world: Pick<World, 'oracle' | 'trace'>,
): RunResult {
  const violated = world.oracle.violated;
  return {
    runner: definition.name,
    declared: definition.declares,
    violations: world.oracle.violations,
    violated,
    counts: { ...world.oracle.counts },
    verdict: judge(definition.declares, violated),
    trace: world.trace.events,
  };
}
