// The finite alphabet of `check --exhaustive`: every step a scenario may take next, given what
// the steps so far made (how many children, which sessions named), and the classes an agent's
// continuous timing is reduced to.
import type { Anchor } from '../../simulator/anchors.ts';
import { RESTART_STATES, type AgentOverrides, type ScenarioInput, type Step } from '../../simulator/scenario.ts';
import { sessionIdOf } from '../../runner/wire.mjs';

/** The webhook timeout every explored scenario runs with (the runner's default). */
export const EXPLORED_TIMEOUT_MS = 15_000;

/**
 * What an agent does, reduced to classes. A runner sees an agent's timing only against its own
 * webhook timeout, so a boot is before it, exactly at it, or after it (or never reported);
 * everything else an agent can do to a runner is one class each.
 */
export const PLAN_CLASSES = {
  'in-time': { bootDelayMs: 5_000 },
  'at-timeout': { bootDelayMs: EXPLORED_TIMEOUT_MS },
  'after-timeout': { bootDelayMs: EXPLORED_TIMEOUT_MS + 5_000 },
  never: { bootDelayMs: 5_000, webhook: 'never' },
  twice: { bootDelayMs: 5_000, webhook: 'twice' },
  'wrong-pid': { bootDelayMs: 5_000, webhook: 'wrong-pid' },
  'exits-early': { bootDelayMs: 5_000, exitAfterMs: 2_000 },
  'sigterm-ignorer': { bootDelayMs: 5_000, ignoresSigterm: true },
  escapee: {
    bootDelayMs: 5_000,
    tree: [{ escape: 'setsid', ignoresSigterm: true }, { escape: 'double-fork' }],
  },
  // Only in the `grace-boots` world (below): ignores the SIGTERM of its timeout's teardown and
  // reports a second into the kill grace, while the runner is still waiting for it to die.
  'boots-in-grace': { bootDelayMs: EXPLORED_TIMEOUT_MS + 1_000, ignoresSigterm: true },
  // Only in the `slow-io` world, whose webhooks take 50 ms to land: exits 10 ms after posting
  // its webhook, so the runner hears of the exit before the webhook reaches it.
  'exits-after-report': { bootDelayMs: 5_000, exitAfterMs: 5_010 },
} as const satisfies Record<string, AgentOverrides>;
export type PlanClass = keyof typeof PLAN_CLASSES;
/** The classes of one world only (each named there). */
const WORLD_OWN_CLASSES: readonly PlanClass[] = ['boots-in-grace', 'exits-after-report'];
/** The classes of the plain world (and of every world, each with its own class if it has one). */
export const PLAN_CLASS_NAMES = (Object.keys(PLAN_CLASSES) as PlanClass[]).filter(
  (c) => !WORLD_OWN_CLASSES.includes(c),
);

/**
 * The worlds a proof can run in (`--world`). The plain world is the default: every port answers
 * within its move, git and the hub never fail. Each other world adds one thing the plain one
 * leaves out, at one fixed value (a class, as the agents' timings are), so that a proof there is
 * as finite; its bound is the plain one's (grace-boots: with one class more). A proof holds for
 * the world it names, and says so.
 *
 * `anchors`: the world's own windows. What a world adds opens a window that only a move landing
 * inside it can see (a restart between a refused `git worktree remove` and its retry; a list
 * between a late webhook and the tree's death), and that window opens several pending events
 * after the move before it (kill polls come first), too many "advance to the next event" moves
 * away for the bound. So such a world also offers "advance until the runner's next K" for the
 * event K that opens its window (the `until` step, simulator/anchors.ts). The plain world offers
 * none: its proof keeps its alphabet (and its depth-4 time).
 */
export const EXPLORED_WORLDS = {
  plain: {
    about: 'every port answers within its move',
    world: { bystander: true },
    classes: PLAN_CLASS_NAMES,
    anchors: [],
  },
  'slow-io': {
    about:
      'state writes and reads take 100 ms, spawns 200 ms, exit notices 20 ms, webhooks 50 ms, git 200 ms, the hub 100 ms; one more agent class exits 10 ms after posting its webhook',
    world: {
      bystander: true,
      latency: { stateSave: 100, stateLoad: 100, spawn: 200, exitNotice: 20, webhook: 50 },
      gitLatencyMs: 200,
      hubLatencyMs: 100,
    },
    classes: [...PLAN_CLASS_NAMES, 'exits-after-report' as const],
    // A request's window is its own awaits: the next pending event already lands in it.
    anchors: [],
  },
  'git-faults': {
    about: 'git refuses the first two worktree removals (EBUSY)',
    world: { bystander: true, gitFaults: [{ op: 'remove' as const, nth: 1, times: 2, code: 'EBUSY' as const }] },
    classes: PLAN_CLASS_NAMES,
    // The back-off after a refused removal: the runner's retry is only in its memory until then.
    anchors: ['git-failure'],
  },
  'proc-unread': {
    about:
      "/proc refuses the runner's 3rd to 42nd process scans (EMFILE, eight runs of five), after the first start's two sweeps",
    world: {
      bystander: true,
      scanFaults: Array.from({ length: 8 }, (_, i) => ({ nth: 3 + 5 * i, times: 5, code: 'EMFILE' as const })),
    },
    classes: PLAN_CLASS_NAMES,
    anchors: [],
  },
  'grace-boots': {
    about: 'one more agent class: ignores SIGTERM and reports inside the kill grace of its own timeout',
    world: { bystander: true },
    classes: [...PLAN_CLASS_NAMES, 'boots-in-grace' as const],
    // The kill grace a late report lands in: from the webhook to the tree's death.
    anchors: ['webhook'],
  },
} as const satisfies Record<
  string,
  {
    about: string;
    world: NonNullable<ScenarioInput['world']>;
    classes: readonly PlanClass[];
    anchors: readonly Anchor[];
  }
>;
export type ExploredWorld = keyof typeof EXPLORED_WORLDS;
export const EXPLORED_WORLD_NAMES = Object.keys(EXPLORED_WORLDS) as ExploredWorld[];

/** A step of the alphabet: a scenario step, and for a spawn, its agent's class. */
export interface Move {
  readonly step: Step;
  readonly plan?: PlanClass;
}

/** What the moves so far made, which decides what may come next. */
export interface Position {
  readonly spawns: number;
  /** Session ids resumed so far (`s1`, `s2`...: in order of first use). */
  readonly sessionsUsed: number;
  readonly shutDown: boolean;
  /** Whether a worktree session was asked for (then a restart keeps its state: see movesFrom). */
  readonly worktrees?: boolean;
  /** Milliseconds to the world's next pending event after the last move, if any. */
  readonly nextEventInMs?: number;
}

export interface AlphabetOptions {
  readonly sessions: number;
  /**
   * Session ids are names: a scenario that resumes s2 before s1 is the same as one that resumes
   * s1 first, renamed. With symmetry, a move may resume a session only if every lower one was
   * used before it. (Sound for runners that treat session ids as opaque names.)
   */
  readonly symmetry: boolean;
  /** The agent classes a spawn may take (default: the plain world's nine). */
  readonly classes?: readonly PlanClass[];
  /** The runner events a move may advance time until (default none; see EXPLORED_WORLDS). */
  readonly anchors?: readonly Anchor[];
}

/** The alphabet of a world: its classes and anchors, with the session bound and symmetry asked for. */
export function alphabetOf(world: ExploredWorld, sessions: number, symmetry: boolean): AlphabetOptions {
  const { classes, anchors } = EXPLORED_WORLDS[world];
  return { sessions, symmetry, classes, anchors };
}

export const sessionName = (i: number): string => `s${i + 1}`;

/** Every move possible from `at`, in a fixed order (the exploration is deterministic). */
export function movesFrom(at: Position, options: AlphabetOptions): Move[] {
  const moves: Move[] = [];
  if (!at.shutDown) {
    const resumable = options.symmetry ? Math.min(options.sessions, at.sessionsUsed + 1) : options.sessions;
    const spawns: Step[] = [
      { op: 'spawn' },
      { op: 'spawn', worktree: true },
      ...Array.from({ length: resumable }, (_, i): Step => ({ op: 'spawn', resume: sessionName(i) })),
    ];
    for (const step of spawns) for (const plan of options.classes ?? PLAN_CLASS_NAMES) moves.push({ step, plan });
  }
  for (let spawn = 0; spawn < at.spawns; spawn++) moves.push({ step: { op: 'stop', session: { spawn } } });
  moves.push({ step: { op: 'stop', session: { id: 'never-spawned' } } });
  moves.push({ step: { op: 'list' } });
  if (at.nextEventInMs !== undefined) moves.push({ step: { op: 'advance', ms: at.nextEventInMs } });
  moves.push({ step: { op: 'advance', ms: EXPLORED_TIMEOUT_MS + 1 } });
  // At most the step's default ten minutes: past every timer a move sets off (timeout, kill grace,
  // git back-off), so an event that is coming is reached, and one that never comes is a long wait.
  for (const event of options.anchors ?? []) moves.push({ step: { op: 'until', event } });
  for (let spawn = 0; spawn < at.spawns; spawn++) moves.push({ step: { op: 'crash', spawn, tree: false } });
  // A stranger takes a dead child's PID (PID reuse): a runner that signals by stale PID hits it.
  for (let spawn = 0; spawn < at.spawns; spawn++) moves.push({ step: { op: 'bystander', reusePidOf: spawn } });
  // Without its state file no runner can know which worktrees it made (it does not know the
  // repositories): as in the generators, a corrupt, foreign or lost state only while there are none.
  for (const state of at.worktrees === true ? (['kept'] as const) : RESTART_STATES)
    moves.push({ step: { op: 'restart', state } });
  const forged = (pid: Extract<Step, { op: 'forge-webhook' }>['pid']): Move => ({
    step: { op: 'forge-webhook', pid, sessionId: 'forged', startedBy: 'runner' },
  });
  for (let spawn = 0; spawn < at.spawns; spawn++) moves.push(forged({ spawn }));
  moves.push(forged({ bystander: true }), forged({ runner: true }));
  // A terminal (any local process) reports the session id of a child the runner started, while
  // it boots or after it reported: a list must still name that session once (S1).
  for (let spawn = 0; spawn < at.spawns; spawn++)
    moves.push({
      step: { op: 'forge-webhook', pid: { bystander: true }, sessionId: sessionIdOf(spawn), startedBy: 'terminal' },
    });
  if (!at.shutDown) moves.push({ step: { op: 'shutdown' } });
  return moves;
}

/** Where a move leads, before it is played (the next event's time comes from playing it). */
export function positionAfter(at: Position, move: Move): Omit<Position, 'nextEventInMs'> {
  const step = move.step;
  const resumed = step.op === 'spawn' && step.resume !== undefined ? Number(step.resume.slice(1)) : 0;
  return {
    spawns: at.spawns + (step.op === 'spawn' ? 1 : 0),
    sessionsUsed: Math.max(at.sessionsUsed, resumed),
    shutDown: at.shutDown || step.op === 'shutdown',
    worktrees: at.worktrees === true || (step.op === 'spawn' && step.worktree === true),
  };
}

/** The scenario a sequence of moves is, in the world named. */
export function scenarioOf(moves: readonly Move[], name = 'exhaustive', world: ExploredWorld = 'plain'): ScenarioInput {
  return {
    name,
    seed: 0,
    runnerConfig: { webhookTimeoutMs: EXPLORED_TIMEOUT_MS },
    world: EXPLORED_WORLDS[world].world,
    agents: moves.flatMap((m) => (m.plan !== undefined ? [PLAN_CLASSES[m.plan] as AgentOverrides] : [])),
    steps: moves.map((m) => m.step),
  };
}

/** A move as a person reads it. */
export function describeMove(move: Move): string {
  const s = move.step;
  switch (s.op) {
    case 'spawn':
      return `spawn ${s.resume !== undefined ? `resume ${s.resume}` : s.worktree === true ? 'new (worktree)' : 'new'} [${move.plan}]`;
    case 'stop':
      return `stop ${'spawn' in s.session ? `child #${s.session.spawn}` : s.session.id}`;
    case 'advance':
      return `advance ${s.ms} ms`;
    case 'until':
      return `advance until the runner's next ${s.event}`;
    case 'crash':
      return `crash child #${s.spawn}`;
    case 'bystander':
      return `a stranger takes child #${s.reusePidOf}'s PID`;
    case 'restart':
      return `restart (state ${s.state})`;
    case 'forge-webhook':
      if (s.startedBy === 'terminal') return `a terminal claims ${s.sessionId}`;
      return `forged webhook naming ${'spawn' in s.pid ? `child #${s.pid.spawn}` : 'bystander' in s.pid ? 'the bystander' : 'the runner'}`;
    default:
      return s.op;
  }
}
