// `check --exhaustive`: every scenario of up to `depth` moves over the finite alphabet
// (alphabet.ts), breadth first, so that the first counterexample found is a shortest one. Each
// scenario is played from its start in a fresh virtual world (worlds are not copied), judged on
// every invariant, and fingerprinted after its last move (simulator/virtual/explore-node.ts): a
// sequence that reaches a state already reached is judged but not extended, since its futures
// are the other's (state hashing, as TLC does).
import type { InvariantId, RunnerDefinition } from '../../runner/contract.ts';
import type { Violation } from '../../simulator/oracle.ts';
import {
  AgentOverridesSchema,
  parseScenario,
  StepSchema,
  type Scenario,
  type ScenarioInput,
} from '../../simulator/scenario.ts';
import { playNode } from '../../simulator/virtual/explore-node.ts';
import {
  describeMove,
  EXPLORED_WORLDS,
  movesFrom,
  positionAfter,
  scenarioOf,
  type ExploredWorld,
  type Move,
  type Position,
} from './alphabet.ts';

export interface ExhaustiveOptions {
  /** Moves per scenario, at most (default 3). */
  readonly depth?: number;
  /** Session ids a spawn may resume (default 2). */
  readonly sessions?: number;
  /** Merge sequences that reach the same state (default true; off only to measure it). */
  readonly hashing?: boolean;
  /** Treat session ids as interchangeable names (default true; see alphabet.ts). */
  readonly symmetry?: boolean;
  /** The world every scenario plays in (default `plain`; see EXPLORED_WORLDS in alphabet.ts). */
  readonly world?: ExploredWorld;
  /** Distinct states kept in memory, at most (default 4,000,000: about 300 MB, at 69 bytes a fingerprint): past it, the run stops and says so. */
  readonly maxStates?: number;
  /**
   * Explore only part of the space: the subtrees under the first moves whose index (in the
   * alphabet's order) is `index - 1` modulo `count`. Shards together cover every scenario; each
   * merges states within itself only.
   */
  readonly shard?: { readonly index: number; readonly count: number };
  /**
   * Plays a batch of move sequences elsewhere (worker threads, see cli/check-pool.ts) and
   * returns each one's verdict, in order. The exploration consumes them in the order one thread
   * would, so the report is the same for any number of workers. Unset: played here, one by one.
   */
  readonly parallel?: (batch: readonly (readonly Move[])[], world: ExploredWorld) => Promise<readonly PlayedNode[]>;
  /** With `parallel`: sequences per batch (default 256: enough to keep threads busy, few enough to stop soon after a counterexample). */
  readonly batch?: number;
  /** Which invariants count (default: all); a known-bad runner is judged on what it declares. */
  readonly invariants?: readonly InvariantId[];
  /** Called after every batch of scenarios with where the exploration is. */
  readonly onProgress?: (progress: ExhaustiveProgress) => void;
}

export interface ExhaustiveProgress {
  readonly depth: number;
  readonly scenarios: number;
  readonly states: number;
  /** Scenarios left at most (without merging), and at the rate so far, how long. */
  readonly upperBoundLeft: number;
  readonly msLeftAtMost: number;
}

export interface ExhaustiveLevel {
  readonly depth: number;
  /** Scenarios of exactly this many moves played (and judged). */
  readonly scenarios: number;
  /** Of them, those that reached a state not reached before (extended to the next depth). */
  readonly newStates: number;
}

export interface ExhaustiveCounterexample {
  readonly moves: readonly string[];
  readonly scenario: ScenarioInput;
  readonly invariants: readonly InvariantId[];
  readonly violations: readonly Violation[];
}

export interface ExhaustiveReport {
  readonly runner: string;
  readonly depth: number;
  readonly sessions: number;
  readonly hashing: boolean;
  readonly symmetry: boolean;
  /** The world the scenarios played in: what the proof holds for. */
  readonly world: ExploredWorld;
  /** Scenarios played and judged, over all depths. */
  readonly scenarios: number;
  /** Distinct states reached (fingerprints), the start included. */
  readonly states: number;
  readonly levels: readonly ExhaustiveLevel[];
  /** The first (so a shortest) scenario that broke an invariant, if any. */
  readonly counterexample?: ExhaustiveCounterexample;
  /** Why the exploration stopped before its bound (the memory budget, the runner broke the contract). */
  readonly incomplete?: string;
  readonly wallMs: number;
}

/**
 * How many scenarios of up to `depth` moves the alphabet has, at most (no two merged): the
 * estimate given before a run, and the bound progress counts down from.
 */
export function upperBound(depth: number, sessions: number, symmetry: boolean, world: ExploredWorld = 'plain'): number {
  const { classes, anchors } = EXPLORED_WORLDS[world];
  // Memoised on what decides the alphabet: children so far, sessions used, shut down.
  const memo = new Map<string, number>();
  const count = (at: Position, left: number): number => {
    if (left === 0) return 0;
    const key = `${at.spawns}/${at.sessionsUsed}/${at.shutDown}/${at.worktrees === true}/${left}`;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let total = 0;
    // With a pending event (an upper bound: there may be none).
    for (const move of movesFrom({ ...at, nextEventInMs: 1 }, { sessions, symmetry, classes, anchors }))
      total += 1 + count({ ...positionAfter(at, move), nextEventInMs: 1 }, left - 1);
    memo.set(key, total);
    return total;
  };
  return count({ spawns: 0, sessionsUsed: 0, shutDown: false }, depth);
}

interface Node {
  readonly moves: readonly Move[];
  readonly at: Position;
}

/** What playing one sequence of moves came to: what the exploration needs of it (structured-clonable). */
export interface PlayedNode {
  readonly fingerprint: string;
  readonly nextEventInMs?: number;
  readonly violated: readonly InvariantId[];
  readonly violations: readonly Violation[];
}

/** The parsed scenario of no moves, by world: every field but the agents and the steps. */
const parsedBases = new Map<ExploredWorld, Scenario>();
/** Each move's step and agent class, parsed once (the alphabet is finite and small). */
const parsedSteps = new Map<string, Scenario['steps'][number]>();
const parsedPlans = new Map<string, Scenario['agents'][number]>();

/**
 * `parseScenario(scenarioOf(moves))`, assembled from parts parsed once: a scenario's fields are
 * validated independently of each other, so the parts are what a whole parse gives (tested on
 * every sequence of two moves). An exploration parses millions of scenarios of a few hundred
 * distinct moves: zod was a twentieth of its time.
 */
export function parsedScenarioOf(moves: readonly Move[], world: ExploredWorld = 'plain'): Scenario {
  let base = parsedBases.get(world);
  if (base === undefined)
    parsedBases.set(world, (base = parseScenario(scenarioOf([], 'exhaustive', world), 'explored scenario')));
  const input = scenarioOf(moves, 'exhaustive', world);
  return {
    ...base,
    agents: (input.agents ?? []).map((raw) =>
      parsedOnce(parsedPlans, raw, (r) => AgentOverridesSchema.nullable().parse(r)),
    ),
    steps: input.steps.map((raw) => parsedOnce(parsedSteps, raw, (r) => StepSchema.parse(r))),
  };
}

/** `parse(raw)`, remembered in `cache` by the raw value's JSON. */
function parsedOnce<T>(cache: Map<string, T>, raw: unknown, parse: (raw: unknown) => T): T {
  const key = JSON.stringify(raw);
  let parsed = cache.get(key);
  if (parsed === undefined) cache.set(key, (parsed = parse(raw)));
  return parsed;
}

/** Plays one sequence of moves against `runner` (what a worker thread does for each of its batch). */
export async function playMoves(
  runner: RunnerDefinition,
  moves: readonly Move[],
  world: ExploredWorld = 'plain',
): Promise<PlayedNode> {
  const outcome = await playNode(runner, parsedScenarioOf(moves, world));
  return {
    fingerprint: outcome.fingerprint,
    ...(outcome.nextEventInMs !== undefined ? { nextEventInMs: outcome.nextEventInMs } : {}),
    violated: outcome.result.violated,
    violations: outcome.result.violations,
  };
}

/** Plays each sequence of the batch here, one after the other (one thread's share, or all of it). */
export async function playInOrder(
  runner: RunnerDefinition,
  batch: readonly (readonly Move[])[],
  world: ExploredWorld = 'plain',
): Promise<PlayedNode[]> {
  const played: PlayedNode[] = [];
  for (const moves of batch) played.push(await playMoves(runner, moves, world));
  return played;
}

/** Sequences handed to the workers at once: large enough to keep them busy, small enough to stop soon after a counterexample. */
const BATCH = 256;

/** Explores every scenario of `runner` up to the depth; see ExhaustiveReport. */
export async function exploreRunner(
  runner: RunnerDefinition,
  options: ExhaustiveOptions = {},
): Promise<ExhaustiveReport> {
  const depth = options.depth ?? 3;
  const sessions = options.sessions ?? 2;
  const hashing = options.hashing ?? true;
  const symmetry = options.symmetry ?? true;
  const maxStates = options.maxStates ?? 4_000_000;
  const world = options.world ?? 'plain';
  if (!Object.hasOwn(EXPLORED_WORLDS, world))
    throw new Error(`unknown world "${String(world)}" (known: ${Object.keys(EXPLORED_WORLDS).join(', ')})`);
  const alphabet = {
    sessions,
    symmetry,
    classes: EXPLORED_WORLDS[world].classes,
    anchors: EXPLORED_WORLDS[world].anchors,
  };
  const broken = (violated: readonly InvariantId[]): InvariantId[] =>
    violated.filter((id) => options.invariants === undefined || options.invariants.includes(id));
  const started = performance.now();
  const bound = upperBound(depth, sessions, symmetry, world);
  const seen = new Set<string>();
  const levels: ExhaustiveLevel[] = [];
  let scenarios = 0;
  let counterexample: ExhaustiveCounterexample | undefined;
  let incomplete: string | undefined;

  const progress = (level: number): void => {
    if (options.onProgress === undefined) return;
    const rate = scenarios / Math.max(performance.now() - started, 1);
    options.onProgress({
      depth: level,
      scenarios,
      states: seen.size,
      upperBoundLeft: Math.max(0, bound - scenarios),
      msLeftAtMost: Math.max(0, bound - scenarios) / rate,
    });
  };
  const playBatch = (batch: readonly (readonly Move[])[]): Promise<readonly PlayedNode[]> =>
    options.parallel !== undefined && batch.length > 1
      ? options.parallel(batch, world)
      : playInOrder(runner, batch, world);

  // The start: no moves. A runner that breaks an invariant with nothing asked of it is caught here.
  const root = await playMoves(runner, [], world);
  scenarios++;
  seen.add(root.fingerprint);
  if (broken(root.violated).length > 0)
    counterexample = {
      moves: [],
      scenario: {
        ...scenarioOf([], `${runner.name}-exhaustive`, world),
        description: 'no moves at all: the runner alone',
      },
      invariants: broken(root.violated),
      violations: root.violations.filter((v) => broken([v.invariant]).length > 0),
    };
  let frontier: Node[] = [
    {
      moves: [],
      at: {
        spawns: 0,
        sessionsUsed: 0,
        shutDown: false,
        ...(root.nextEventInMs !== undefined ? { nextEventInMs: root.nextEventInMs } : {}),
      },
    },
  ];
  // Bounded: depth levels, each over a finite frontier and a finite alphabet.
  for (let level = 1; level <= depth && counterexample === undefined && incomplete === undefined; level++) {
    const next: Node[] = [];
    let played = 0;
    let fresh = 0;
    // This level's sequences, in the order one thread plays them (the shard keeps its first moves).
    const candidates: Array<{ node: Node; move: Move; moves: readonly Move[] }> = [];
    for (const node of frontier)
      for (const [index, move] of movesFrom(node.at, alphabet).entries())
        if (level !== 1 || options.shard === undefined || index % options.shard.count === options.shard.index - 1)
          candidates.push({ node, move, moves: [...node.moves, move] });
    // Bounded: each pass consumes up to BATCH candidates.
    const batchSize = options.parallel !== undefined ? (options.batch ?? BATCH) : 1; // one thread stops at once
    explore: for (let from = 0; from < candidates.length; from += batchSize) {
      const batch = candidates.slice(from, from + batchSize);
      const outcomes = await playBatch(batch.map((c) => c.moves));
      for (const [i, { node, move, moves }] of batch.entries()) {
        const outcome = outcomes[i]!;
        scenarios++;
        played++;
        const invariants = broken(outcome.violated);
        if (invariants.length > 0) {
          counterexample = {
            moves: moves.map(describeMove),
            scenario: {
              ...scenarioOf(moves, `${runner.name}-exhaustive`, world),
              description: `shortest counterexample found by check --exhaustive (depth ${level}, world ${world})`,
            },
            invariants,
            violations: outcome.violations.filter((v) => invariants.includes(v.invariant)),
          };
          break explore;
        }
        if (hashing && seen.has(outcome.fingerprint)) continue;
        seen.add(outcome.fingerprint);
        fresh++;
        if (seen.size > maxStates) {
          incomplete = `the memory budget of ${maxStates} states was reached at depth ${level}: lower --depth or --sessions, or raise --max-states`;
          break explore;
        }
        if (level < depth)
          next.push({
            moves,
            at: {
              ...positionAfter(node.at, move),
              ...(outcome.nextEventInMs !== undefined ? { nextEventInMs: outcome.nextEventInMs } : {}),
            },
          });
      }
      progress(level);
    }
    levels.push({ depth: level, scenarios: played, newStates: fresh });
    frontier = next;
  }
  return {
    runner: runner.name,
    depth,
    sessions,
    hashing,
    symmetry,
    world,
    scenarios,
    states: seen.size,
    levels,
    ...(counterexample !== undefined ? { counterexample } : {}),
    ...(incomplete !== undefined ? { incomplete } : {}),
    wallMs: performance.now() - started,
  };
}
