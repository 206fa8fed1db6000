// `check --exhaustive`: every scenario of up to `depth` moves over the finite alphabet
// (alphabet.ts), breadth first, so that the first counterexample found is a shortest one. Each
// scenario is played from its start in a fresh virtual world (worlds are not copied), judged on
// every invariant, and fingerprinted after its last move (simulator/virtual/explore-node.ts): a
// sequence that reaches a state already reached is judged but not extended, since its futures
// are the other's (state hashing, as TLC does).
//
// With `ties` above 0, each sequence is also played in other orders of its same-instant events
// (the world's events due at one virtual millisecond: I/O completions, timers, exits, webhooks),
// up to `ties` of them taken out of scheduling order per scenario (delay bounding, as in Emmi,
// Qadeer and Rakamarić, POPL 2011; `Infinity`: every order). Each order is a scenario of its own
// (its world's `tieOrder` replays it), and each order a sequence's steps reach is a node of its
// own: its extensions keep the choices its steps made and vary only what comes after.
import type { InvariantId, RunnerDefinition } from '../../runner/contract.ts';
import type { Violation } from '../../simulator/oracle.ts';
import {
  AgentOverridesSchema,
  parseScenario,
  StepSchema,
  type Scenario,
  type ScenarioInput,
} from '../../simulator/scenario.ts';
import { broken as simulatorBroken } from '../../simulator/assert.ts';
import { playNode } from '../../simulator/virtual/explore-node.ts';
import {
  alphabetOf,
  describeMove,
  EXPLORED_WORLDS,
  movesFrom,
  positionAfter,
  scenarioOf,
  type AlphabetOptions,
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
  readonly shard?: Shard;
  /**
   * Plays a batch of move sequences elsewhere (worker threads, see cli/check-pool.ts) and
   * returns each one's verdict, in order. The exploration consumes them in the order one thread
   * would, so the report is the same for any number of workers. Unset: played here, one by one.
   */
  readonly parallel?: (batch: readonly ExploreJob[], settings: PlaySettings) => Promise<readonly PlayedJob[]>;
  /** With `parallel`: sequences per batch (default 256: enough to keep threads busy, few enough to stop soon after a counterexample). */
  readonly batch?: number;
  /**
   * With `parallel`: batches handed out before the first of them is back (default 4). One at a
   * time, the threads waited at every batch for the slowest share and for this thread to consume
   * the verdicts: two threads ran a depth-3 proof 1.07x faster than one. Verdicts are still
   * consumed in order, so the report does not change; a counterexample wastes what is in flight.
   */
  readonly inFlight?: number;
  /** Which invariants count (default: all); a known-bad runner is judged on what it declares. */
  readonly invariants?: readonly InvariantId[];
  /**
   * Same-instant events taken out of scheduling order per scenario, at most (default 0: each
   * sequence in scheduling order only; `Infinity`: every order). See the file's head.
   */
  readonly ties?: number;
  /** Orders of one sequence played, at most (default 10,000): past it, the run stops and says so. */
  readonly maxOrders?: number;
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
  /** The order its same-instant events ran in, when not scheduling order (also in `scenario.world.tieOrder`). */
  readonly tieOrder?: readonly number[];
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
  /** Same-instant events out of scheduling order per scenario, at most (0: none; Infinity: every order). */
  readonly ties: number;
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
 * estimate given before a run, and the bound progress counts down from. With `shard`, exactly
 * that shard's share: the subtrees under its first moves (not the whole divided by n, which is
 * far off when the first moves' subtrees differ in size, as a spawn's and a list's do).
 */
export function upperBound(
  depth: number,
  sessions: number,
  symmetry: boolean,
  world: ExploredWorld = 'plain',
  shard?: Shard,
): number {
  const alphabet = alphabetOf(world, sessions, symmetry);
  // Memoised on what decides the alphabet: children so far, sessions used, shut down.
  const memo = new Map<string, number>();
  const count = (at: Position, left: number): number => {
    if (left === 0) return 0;
    const key = `${at.spawns}/${at.sessionsUsed}/${at.shutDown}/${at.worktrees === true}/${left}`;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let total = 0;
    // With a pending event (an upper bound: there may be none).
    for (const move of movesFrom({ ...at, nextEventInMs: 1 }, alphabet))
      total += 1 + count({ ...positionAfter(at, move), nextEventInMs: 1 }, left - 1);
    memo.set(key, total);
    return total;
  };
  if (depth < 1) return 0;
  // The first level by hand: a shard keeps only its first moves' subtrees.
  const start: Position = { spawns: 0, sessionsUsed: 0, shutDown: false };
  let total = 0;
  for (const [index, move] of movesFrom({ ...start, nextEventInMs: 1 }, alphabet).entries())
    if (inShard(index, shard)) total += 1 + count({ ...positionAfter(start, move), nextEventInMs: 1 }, depth - 1);
  return total;
}

/** The i-th of n deterministic parts of an exploration: the subtrees under every n-th first move. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** Whether the first move of that index belongs to `shard` (every move does without one). */
const inShard = (index: number, shard: Shard | undefined): boolean =>
  shard === undefined || index % shard.count === shard.index - 1;

/**
 * Orders played per move sequence with `--ties N`, rounded up from bench/RESULTS.md ("Same-instant
 * orders": 5x in the plain world and 12x in slow-io at depth 3 with one event out of order, 34x in
 * slow-io at depth 2 with two); more than two out of order, or every order, is estimated at the
 * cap (`maxOrders`), since orders grow exponentially with the instants that meet.
 */
export function ordersPerSequence(ties: number, maxOrders: number): number {
  if (ties === 0) return 1;
  return Math.min(maxOrders, ties === 1 ? 12 : ties === 2 ? 40 : maxOrders);
}
interface Node {
  readonly moves: readonly Move[];
  readonly at: Position;
  /** The same-instant choices its steps made (see PlayedNode.ties). */
  readonly ties: readonly number[];
}

/** One sequence of moves to play, under the same-instant choices its steps before the last made. */
export interface ExploreJob {
  readonly moves: readonly Move[];
  readonly ties?: readonly number[];
}

/** What every play of one exploration shares (structured-clonable: it goes to the threads). */
export interface PlaySettings {
  readonly world: ExploredWorld;
  /** See ExhaustiveOptions.ties. */
  readonly ties: number;
  readonly maxOrders: number;
  /** Which invariants count: a play that breaks one ends its sequence's orders. */
  readonly invariants?: readonly InvariantId[];
}

/** What playing one sequence of moves came to: what the exploration needs of it (structured-clonable). */
export interface PlayedNode {
  readonly fingerprint: string;
  readonly nextEventInMs?: number;
  readonly violated: readonly InvariantId[];
  readonly violations: readonly Violation[];
  /** With ties explored: which event ran first at each same-instant tie of the steps (before quiescence). */
  readonly ties: readonly number[];
  /** With ties explored: the same at every tie of the run, trailing scheduling-order choices left out (its `tieOrder`). */
  readonly tieOrder: readonly number[];
}

/** Every order of one sequence played (in a fixed order), and why they stopped short, if they did. */
export interface PlayedJob {
  readonly orders: readonly PlayedNode[];
  readonly cut?: string;
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
export function parsedScenarioOf(
  moves: readonly Move[],
  world: ExploredWorld = 'plain',
  tieOrder?: readonly number[],
): Scenario {
  let base = parsedBases.get(world);
  if (base === undefined)
    parsedBases.set(world, (base = parseScenario(scenarioOf([], 'exhaustive', world), 'explored scenario')));
  const input = scenarioOf(moves, 'exhaustive', world);
  return {
    ...base,
    ...(tieOrder !== undefined ? { world: { ...base.world, tieOrder: [...tieOrder] } } : {}),
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

/**
 * Plays one sequence of moves against `runner`: in scheduling order, or, with `tieOrder`, in that
 * order of its same-instant events (then `ties` and `tieOrder` say which choices it met and made).
 */
export async function playMoves(
  runner: RunnerDefinition,
  moves: readonly Move[],
  world: ExploredWorld = 'plain',
  tieOrder?: readonly number[],
): Promise<PlayedNode & { readonly tieSizes: readonly number[] }> {
  const outcome = await playNode(runner, parsedScenarioOf(moves, world, tieOrder));
  const taken = outcome.ties.taken;
  let last = taken.length;
  while (last > 0 && taken[last - 1] === 0) last--;
  return {
    fingerprint: outcome.fingerprint,
    ...(outcome.nextEventInMs !== undefined ? { nextEventInMs: outcome.nextEventInMs } : {}),
    violated: outcome.result.violated,
    violations: outcome.result.violations,
    ties: taken.slice(0, outcome.ties.beforeFingerprint),
    tieOrder: taken.slice(0, last),
    tieSizes: outcome.ties.sizes,
  };
}

const outOfOrder = (choices: readonly number[]): number => choices.reduce((n, c) => n + (c !== 0 ? 1 : 0), 0);

/**
 * Plays one sequence in every order of its same-instant events that keeps the choices `job.ties`
 * and takes at most `settings.ties` events out of scheduling order in all (depth first over the
 * choices, each order exactly once: a new order differs from the one it came from first at a
 * choice past everything that one forced). Without ties, one play in scheduling order. Stops at
 * the first order that breaks a counted invariant, or past `settings.maxOrders`, saying so.
 */
export async function playOrders(
  runner: RunnerDefinition,
  job: ExploreJob,
  settings: PlaySettings,
): Promise<PlayedJob> {
  if (settings.ties === 0) {
    const { tieSizes: _, ...played } = await playMoves(runner, job.moves, settings.world);
    return { orders: [played] };
  }
  const orders: PlayedNode[] = [];
  const scripts: (readonly number[])[] = [job.ties ?? []];
  // Bounded: each pass plays one order, and at most maxOrders are played.
  while (scripts.length > 0) {
    if (orders.length >= settings.maxOrders)
      return {
        orders,
        cut: `the sequence "${job.moves.map(describeMove).join('; ')}" has more than ${settings.maxOrders.toLocaleString('en')} orders of same-instant events within --ties ${settings.ties}: lower --ties or --depth, or raise --max-orders`,
      };
    const script = scripts.pop()!;
    const { tieSizes, ...played } = await playMoves(runner, job.moves, settings.world, script);
    orders.push(played);
    if (played.violated.some((id) => settings.invariants === undefined || settings.invariants.includes(id))) break;
    if (outOfOrder(script) >= settings.ties) continue;
    // Pushed last to first, so the earliest new choice is played next.
    const taken = [...played.tieOrder, ...Array<number>(tieSizes.length - played.tieOrder.length).fill(0)];
    for (let at = tieSizes.length - 1; at >= script.length; at--)
      for (let choice = tieSizes[at]! - 1; choice >= 1; choice--) scripts.push([...taken.slice(0, at), choice]);
  }
  return { orders };
}

/** Plays each job of the batch here, one after the other (one thread's share, or all of it). */
export async function playInOrder(
  runner: RunnerDefinition,
  batch: readonly ExploreJob[],
  settings: PlaySettings,
): Promise<PlayedJob[]> {
  const played: PlayedJob[] = [];
  for (const job of batch) played.push(await playOrders(runner, job, settings));
  return played;
}

/** One sequence of a level: a node of the frontier and the move that extends it. */
interface Candidate {
  readonly node: Node;
  readonly move: Move;
  readonly moves: readonly Move[];
}

/** The level's candidates in order: each node of the frontier extended by each move the alphabet offers it. */
function* candidatesOf(
  frontier: readonly Node[],
  alphabet: AlphabetOptions,
  shard: Shard | undefined,
): Generator<Candidate> {
  for (const node of frontier)
    for (const [index, move] of movesFrom(node.at, alphabet).entries())
      if (inShard(index, shard)) yield { node, move, moves: [...node.moves, move] };
}

/** Up to `size` more of `candidates` (none when they are spent). */
function nextBatch(candidates: Iterator<Candidate>, size: number): Candidate[] {
  const batch: Candidate[] = [];
  for (let next = candidates.next(); !next.done; next = candidates.next()) {
    batch.push(next.value);
    if (batch.length === size) break;
  }
  return batch;
}

/** Sequences handed to the workers at once: large enough to keep them busy, small enough to stop soon after a counterexample. */
const BATCH = 256;
/** Batches in flight at once with worker threads (ExhaustiveOptions.inFlight). */
const IN_FLIGHT = 4;

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
  const alphabet = alphabetOf(world, sessions, symmetry);
  const broken = (violated: readonly InvariantId[]): InvariantId[] =>
    violated.filter((id) => options.invariants === undefined || options.invariants.includes(id));
  const started = performance.now();
  const bound = upperBound(depth, sessions, symmetry, world, options.shard);
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
  const ties = options.ties ?? 0;
  if (!(ties >= 0) || (ties !== Infinity && !Number.isInteger(ties)))
    throw new Error(`ties must be a whole number of events or Infinity, got ${String(ties)}`);
  // A batch size or a queue of NaN or 0 would play nothing and prove nothing: refused.
  for (const [name, value] of [
    ['batch', options.batch],
    ['inFlight', options.inFlight],
  ] as const)
    if (value !== undefined && !(Number.isInteger(value) && value >= 1))
      throw new Error(`${name} must be a whole number of at least 1, got ${String(value)}`);
  const settings: PlaySettings = {
    world,
    ties,
    maxOrders: options.maxOrders ?? 10_000,
    ...(options.invariants !== undefined ? { invariants: options.invariants } : {}),
  };
  const playBatch = (batch: readonly ExploreJob[]): Promise<readonly PlayedJob[]> =>
    options.parallel !== undefined && batch.length > 1
      ? options.parallel(batch, settings)
      : playInOrder(runner, batch, settings);
  // Which events ran first at a tie leaves no trace of its own when neither calls a port (two of
  // the runner's timers), so a state reached out of scheduling order is that trace under those
  // choices: they are part of its key (and so is the budget they spent). In scheduling order the
  // choices are the trace's own, and the key is the fingerprint alone, as without ties.
  const stateKey = (played: PlayedNode): string =>
    outOfOrder(played.ties) === 0 ? played.fingerprint : `${played.fingerprint}/${played.ties.join(',')}`;
  const counterexampleOf = (
    moves: readonly Move[],
    played: PlayedNode,
    description: string,
  ): ExhaustiveCounterexample => {
    const invariants = broken(played.violated);
    const input = scenarioOf(moves, `${runner.name}-exhaustive`, world);
    const reordered = played.tieOrder.length > 0;
    return {
      moves: moves.map(describeMove),
      ...(reordered ? { tieOrder: played.tieOrder } : {}),
      scenario: {
        ...input,
        ...(reordered ? { world: { ...input.world, tieOrder: [...played.tieOrder] } } : {}),
        description,
      },
      invariants,
      violations: played.violations.filter((v) => invariants.includes(v.invariant)),
    };
  };

  // The start: no moves. A runner that breaks an invariant with nothing asked of it is caught here.
  let frontier: Node[] = [];
  const start = await playOrders(runner, { moves: [] }, settings);
  for (const root of start.orders) {
    scenarios++;
    if (broken(root.violated).length > 0) {
      counterexample = counterexampleOf([], root, 'no moves at all: the runner alone');
      break;
    }
    if (seen.has(stateKey(root))) continue;
    seen.add(stateKey(root));
    frontier.push({
      moves: [],
      ties: root.ties,
      at: {
        spawns: 0,
        sessionsUsed: 0,
        shutDown: false,
        ...(root.nextEventInMs !== undefined ? { nextEventInMs: root.nextEventInMs } : {}),
      },
    });
  }
  if (start.cut !== undefined && counterexample === undefined) incomplete = start.cut;
  // Bounded: depth levels, each over a finite frontier and a finite alphabet.
  for (let level = 1; level <= depth && counterexample === undefined && incomplete === undefined; level++) {
    const next: Node[] = [];
    let played = 0;
    let fresh = 0;
    // This level's sequences, in the order one thread plays them (the shard keeps its first
    // moves), made a batch at a time: a level of millions held at once took gigabytes the
    // states budget does not count (a depth-5 shard: 2.1 GB at 2.4 million states).
    const candidates = candidatesOf(frontier, alphabet, level === 1 ? options.shard : undefined);
    const batchSize = options.parallel !== undefined ? (options.batch ?? BATCH) : 1; // one thread stops at once
    const inFlight = options.parallel !== undefined ? (options.inFlight ?? IN_FLIGHT) : 1;
    // Batches handed out and not yet consumed, oldest first: at most inFlight (a bounded queue).
    const pending: { readonly batch: readonly Candidate[]; readonly jobs: Promise<readonly PlayedJob[]> }[] = [];
    // Bounded: each pass consumes one batch of the level's finitely many candidates.
    explore: for (;;) {
      while (pending.length < inFlight) {
        const batch = nextBatch(candidates, batchSize);
        if (batch.length === 0) break;
        const jobs = playBatch(batch.map((c) => ({ moves: c.moves, ...(ties > 0 ? { ties: c.node.ties } : {}) })));
        // A batch still in flight when the exploration stops is never awaited: its failure is moot.
        jobs.catch(() => undefined);
        pending.push({ batch, jobs });
      }
      const head = pending.shift();
      if (head === undefined) break;
      const { batch } = head;
      const jobs = await head.jobs;
      if (jobs.length !== batch.length)
        throw simulatorBroken(`a batch of ${batch.length} sequences came back with ${jobs.length} verdicts`);
      for (const [i, { node, move, moves }] of batch.entries()) {
        const job = jobs[i]!;
        // Orders of one sequence that part only after its steps reach one node (their quiescence differs).
        const reached = new Set<string>();
        for (const outcome of job.orders) {
          scenarios++;
          played++;
          if (broken(outcome.violated).length > 0) {
            counterexample = counterexampleOf(
              moves,
              outcome,
              `shortest counterexample found by check --exhaustive (depth ${level}, world ${world}${outcome.tieOrder.length > 0 ? ', same-instant events in the order of world.tieOrder' : ''})`,
            );
            break explore;
          }
          const key = stateKey(outcome);
          if (reached.has(key) || (hashing && seen.has(key))) continue;
          reached.add(key);
          seen.add(key);
          fresh++;
          if (seen.size > maxStates) {
            incomplete = `the memory budget of ${maxStates} states was reached at depth ${level}: lower --depth or --sessions, or raise --max-states`;
            break explore;
          }
          if (level < depth)
            next.push({
              moves,
              ties: outcome.ties,
              at: {
                ...positionAfter(node.at, move),
                ...(outcome.nextEventInMs !== undefined ? { nextEventInMs: outcome.nextEventInMs } : {}),
              },
            });
        }
        if (job.cut !== undefined) {
          incomplete = job.cut;
          break explore;
        }
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
    ties,
    scenarios,
    states: seen.size,
    levels,
    ...(counterexample !== undefined ? { counterexample } : {}),
    ...(incomplete !== undefined ? { incomplete } : {}),
    wallMs: performance.now() - started,
  };
}
