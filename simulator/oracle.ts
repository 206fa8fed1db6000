// The oracle: DESIGN.md section 2, checked on the world's ground truth. The "always" invariants
// (A1 A2 A3) and the per-answer ones (T1, L1's bounds) are checked the moment the event that
// could break them happens; S1 S2 S3 and unanswered requests are checked at quiescence.
import { SpawnRequestSchema, type InvariantId } from '../runner/contract.ts';
import { killDeadlineMs, type RunnerConfig } from '../runner/config.ts';
import type { ChildRecord, ProcessView, RequestRecord } from './records.ts';
import type { AgentPlan, RestartState } from './scenario.ts';
import type { Answer } from './trace.ts';

export interface Violation {
  readonly invariant: InvariantId;
  readonly message: string;
  readonly atMs: number;
}

export interface Counts {
  ghostSessions: number;
  leakedProcesses: number;
  leakedWorktrees: number;
}

/** What the oracle may look at in the world at quiescence. */
export interface QuiescentWorld {
  readonly now: number;
  readonly children: readonly ChildRecord[];
  readonly requests: readonly RequestRecord[];
  readonly liveProcesses: readonly ProcessView[];
  /** The runner's own final answer to `list`, or undefined when it gave none. */
  readonly listed: readonly { sessionId: string; pid: number }[] | undefined;
  readonly hubActive: readonly string[];
  readonly worktrees: readonly string[];
}

/**
 * How long after the last step the world runs on before the quiescent checks: past every boot,
 * exit and second webhook of the children, the webhook timeout, four kill deadlines, and a margin
 * for the runner's own retries. All in scenario milliseconds.
 */
export function quiescenceHorizonMs(
  plans: readonly AgentPlan[],
  nextPlan: AgentPlan,
  timing: { readonly webhookTimeoutMs: number; readonly killDeadlineMs: number; readonly marginMs: number },
): number {
  const longestAgent = Math.max(
    nextPlan.bootDelayMs,
    ...plans.map((p) => p.bootDelayMs + 1_000 + (p.exitAfterMs ?? 0)),
  );
  return longestAgent + timing.webhookTimeoutMs + 4 * timing.killDeadlineMs + timing.marginMs;
}

/** How late a spawn may answer after its child exited before the webhook (upstream #249). */
export const EXIT_ANSWER_BOUND_MS = 1_000;
const ANSWER_SLACK_MS = 1_000;

export interface OracleOptions {
  /** Time allowed on top of the runner's own deadlines for an answer to arrive (default 1 s). */
  readonly answerSlackMs?: number;
  /**
   * Whether any process of child `spawnIndex` lives, where the world keeps that count (the
   * virtual one): asked instead of scanning every live process, so big runs stay linear.
   */
  readonly childAlive?: (spawnIndex: number) => boolean;
  /**
   * The world sees everything exactly: which processes the runner SIGKILLed
   * (ProcessView.sigkilledAt), when each child was spawned, which ports refused: the virtual
   * world does, a black-box run does not. Without it, the checks that need those (L2's polite
   * stop, T1's error reasons, L3's early "timeout") say nothing rather than guess.
   */
  readonly seesSignals?: boolean;
  /** How soon a spawn must answer after its child exited before its webhook (default 1 s). */
  readonly exitAnswerBoundMs?: number;
  /**
   * Time the world's own I/O may add to an answer (the longest state load and saves, spawn, git
   * and kill latencies it can draw): added to the spawn and stop bounds (default 0).
   */
  readonly ioAllowanceMs?: number;
  /** The worktrees that exist now, where the world can tell: S4 checks none is left at shutdown. */
  readonly worktrees?: () => readonly string[];
}
/** How many children a message names before it says how many more. */
const MAX_NAMED = 5;
const MAX_VIOLATIONS_PER_INVARIANT = 20;

export function formatMs(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(Math.round(ms));
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = Math.floor(rest / 1000);
  const milli = rest - s * 1000;
  const pad = (n: number, w: number): string => String(n).padStart(w, '0');
  return `${sign}${h}:${pad(m, 2)}:${pad(s, 2)}.${pad(milli, 3)}`;
}

function describeProcess(p: ProcessView): string {
  const where = p.spawnIndex !== undefined ? ` of child #${p.spawnIndex}` : '';
  return `pid ${p.pid} (${p.role}${where})`;
}

/** What a world tells of a terminal's session whose webhook the runner took. */
export interface TerminalSessionReport {
  readonly sessionId: string;
  /** The process that posted the webhook: none of the run's (not the runner, no child's PID ever). */
  readonly pid: number;
  readonly generation: string;
  /** Whether that very process still runs. */
  readonly isAlive: () => boolean;
}

/**
 * A session a terminal started and reported, that the runner took in life `life`. A runner
 * lists the sessions a terminal started (the contract's SessionInfo has `startedBy: 'terminal'`;
 * hapi registers them so that the dashboard can show and stop them): while the reporting process
 * runs, a list of the same life that leaves it out is untruthful.
 */
interface TerminalSession extends TerminalSessionReport {
  readonly life: number;
  readonly takenAt: number;
}

/** What a port refused: a spawn, a worktree add, a /proc scan. */
export type PortFailureKind = 'spawn' | 'git-add' | 'scan';

/**
 * What the oracle is shown of a world, as it happens: the one interface through which the worlds
 * and the request log push ground truth (README, Contributing: why pushed, not a function over
 * the finished trace). Each method judges the invariants the event can break, at once.
 */
export interface GroundTruthObserver {
  /** A3: a child started (`others`: every child so far; `live`: asked for only if needed). */
  onChildSpawned(
    child: ChildRecord,
    others: readonly ChildRecord[],
    live: () => readonly ProcessView[],
    atMs: number,
  ): void;
  /** A2: the runner sent a signal reaching `targets`. */
  onRunnerSignal(targets: readonly ProcessView[], how: string, atMs: number): void;
  /** A1: a worktree was removed while `stillInside` ran in it. */
  onWorktreeRemoved(path: string, stillInside: readonly ProcessView[], atMs: number): void;
  /** A session started from a terminal is no ghost. */
  onTerminalWebhook(sessionId: string): void;
  /**
   * T1: the runner took (its `sessionStarted` returned) the webhook of a session a terminal started
   * in a process that is none of the run's. While that process lives, the runner's lists in the
   * same life name the session (see TerminalSession). Worlds that cannot tell never call it.
   */
  onTerminalSessionTaken(session: TerminalSessionReport, atMs: number): void;
  /** A request was sent to the runner (before any answer): S1 judges lists against it. */
  onRequest(request: RequestRecord, children: readonly ChildRecord[], live: () => readonly ProcessView[]): void;
  /**
   * A runner process started: the first (`state` undefined), or one after a restart over its
   * state store as it was kept, corrupted or lost. A life begins.
   */
  onRunnerStart(state?: RestartState, atMs?: number, downMs?: number): void;
  /** The runner did something outside itself other than spawning or signalling (git, the hub): S4. */
  onRunnerAction(what: string, atMs: number): void;
  /**
   * A timer the runner set fired (its clock port): S4 when that is after the shutdown answer
   * (the contract's shutdown "releases its timers"). One due at the very instant of the answer
   * is a tie, not judged.
   */
  onRunnerTimer(setAtMs: number, atMs: number): void;
  /**
   * A port refused the runner: the OS would not spawn, git would not add a worktree (T1's errors),
   * /proc could not be read (a stop's answer and deadline, L2 and T1).
   */
  onPortFailure(kind: PortFailureKind, atMs: number): void;
  /** A state write failed (the disk refused it): what a restart's state file keeps is uncertain since. */
  onStateWriteFailed(atMs: number): void;
  /** L1 and T1: a request was answered. */
  onAnswer(
    request: RequestRecord,
    answer: Answer,
    children: readonly ChildRecord[],
    live: () => readonly ProcessView[],
    atMs: number,
  ): void;
  /** S1, S2, S3 and unanswered requests: the world is quiet. */
  atQuiescence(world: QuiescentWorld): void;
  /** What only a world can see (a bystander hit, a runner that died): reported as it is. */
  report(invariant: InvariantId, message: string, atMs: number): void;
}

export class Oracle implements GroundTruthObserver {
  readonly violations: Violation[] = [];
  readonly counts: Counts = { ghostSessions: 0, leakedProcesses: 0, leakedWorktrees: 0 };
  /** Violations kept per invariant (at most MAX_VIOLATIONS_PER_INVARIANT each). */
  private readonly reported = new Map<InvariantId, number>();
  private readonly childAlive: ((spawnIndex: number) => boolean) | undefined;
  /** The newest child with each PID (every world announces each child through onChildSpawned). */
  private readonly childByPid = new Map<number, ChildRecord>();
  /** For each resume, the spawns of its session that were still open when it was issued. */
  private readonly openAtIssue = new Map<RequestRecord, RequestRecord[]>();
  /** The children of each requested session not yet seen dead (see livingOfKey). */
  private readonly maybeAliveOfKey = new Map<string, ChildRecord[]>();
  /** The children started for each requested session, in order: A3 looks only at these. */
  private readonly childrenOfKey = new Map<string, ChildRecord[]>();
  /** Sessions the runner may show: answered by a successful spawn and not stopped since. */
  private readonly granted = new Set<string>();
  /** When a granted session was taken back by a stop's answer: a list issued before may show it. */
  private readonly revokedAt = new Map<string, number>();
  private readonly terminal = new Set<string>();
  /** Sessions terminals reported that lists must name while their process lives (TerminalSession). */
  private readonly terminalSessions: TerminalSession[] = [];
  /** The first terminal report each sender made in each life (`life:pid:generation`). */
  private readonly terminalSenders = new Set<string>();
  /** Each list's due terminal sessions, as they were when it was issued. */
  private readonly terminalDue = new WeakMap<RequestRecord, readonly TerminalSession[]>();
  /** Spawn requests not yet answered: while one is open, a reported session may be on its way. */
  private readonly openSpawns = new Set<RequestRecord>();
  /** When the last spawn answer came: a list issued before it may show that spawn's session. */
  private lastSpawnAnswerAt = -Infinity;
  /** Resume requests issued while a tree of their session still lived. */
  private readonly sessionAliveAtIssue = new WeakSet<RequestRecord>();
  /** Every answered spawn, for the reasons given in ghost messages. */
  private readonly spawnAnswers: RequestRecord[] = [];
  /** Ghosts already named by a list answer, so a later list does not name them again. */
  private readonly ghostsNamed = new Set<string>();
  private readonly seesSignals: boolean;
  /** Stops answered `still_alive` while their session's tree lived: L2 is judged at quiescence. */
  private readonly stopsToFinish: Array<{
    label: string;
    sessionId: string;
    deadline: number;
    living: readonly ProcessView[];
  }> = [];
  /** Every child, by spawn index, as the world reported them: A4 asks whose tree a signal hit. */
  private readonly childByIndex = new Map<number, ChildRecord>();
  /** Which runner life spawned each child: a restart since may legitimately sweep it. */
  private readonly lifeOfChild = new Map<number, number>();
  private life = 0;
  /** Each life's start: after a restart over a kept state file, granted sessions must be adopted. */
  /** Each life of the runner: how its state came through, when it started, and when the one before died. */
  private readonly lifeStarts: Array<{
    life: number;
    state: RestartState | undefined;
    atMs: number;
    crashedAt: number;
  }> = [];
  /** When each session was granted (its spawn answered success). */
  private readonly grantedAt = new Map<string, number>();
  /** Which runner life granted each session (last): a restart at the very instant is a new one. */
  private readonly grantedInLife = new Map<string, number>();
  private readonly persistGraceMs: number;
  /** When state writes failed: a grant made before one may never have reached the state file. */
  private readonly stateWriteFailures: number[] = [];
  /** Sessions a stop named (issued, answered or not): the runner may kill their trees. */
  private readonly stopsIssued = new Set<string>();
  /** Stops issued when every tree of their session was already dead (see forgotten). */
  private readonly deadAtIssue = new WeakSet<RequestRecord>();
  /** Stops: the session's children whose root still ran, unsignalled, when the stop was issued. */
  private readonly runningAtIssue = new WeakMap<RequestRecord, readonly ChildRecord[]>();
  /** How many ended sessions a runner is bound to remember (config.maxTombstones). */
  private readonly maxTombstones: number;
  /** This life's shutdown: when (and as which request) it was asked for, and when answered. */
  private shutdownIssuedAt: number | undefined;
  private shutdownRequestId: number | undefined;
  private shutdownAnsweredAt: number | undefined;
  private shutdownEverIssued = false;
  private readonly worktreesNow: (() => readonly string[]) | undefined;
  /** Worktrees a SIGKILL survivor held when the runner's shutdown was answered. */
  private readonly excusedWorktrees = new Set<string>();
  /**
   * Worktrees a shutdown's answer excused (held by a SIGKILL survivor), by the runner life that
   * gave it: a later shutdown of that same life answers from a runner that may not act again, so
   * what it could not remove then it cannot remove since, even once its holder has died.
   */
  private readonly excusedAtShutdownOfLife = new Map<string, number>();
  /** The run's processes the runner has signalled (their records keep changing): S4's excuses. */
  private readonly signalled = new Set<ProcessView>();
  private readonly killGraceMs: number;
  private readonly webhookTimeoutMs: number;
  /**
   * When a port last refused a spawn, a worktree or a scan: an error answer after that may be
   * truthful, and a stop or spawn that could not read /proc is judged knowing it.
   */
  private readonly lastPortFailure: Record<PortFailureKind, number> = {
    spawn: -Infinity,
    'git-add': -Infinity,
    scan: -Infinity,
  };
  readonly spawnBoundMs: number;
  /** How long a restarted runner's orphan sweep may hold spawns back. */
  private readonly sweepAllowanceMs: number;
  readonly stopBoundMs: number;
  readonly exitAnswerBoundMs: number;

  constructor(
    config: RunnerConfig,
    private readonly onViolation: (violation: Violation) => void = () => {},
    options: OracleOptions = {},
  ) {
    const killDeadline = killDeadlineMs(config);
    // A spawn may first wait for an earlier child of the same session to die.
    const slack = options.answerSlackMs ?? ANSWER_SLACK_MS;
    const io = options.ioAllowanceMs ?? 0;
    this.spawnBoundMs = config.webhookTimeoutMs + killDeadline + slack + io;
    // Two sweeps (the second because a scan may miss a process mid-exec), each up to a kill deadline.
    this.sweepAllowanceMs = 2 * (killDeadline + io);
    this.stopBoundMs = killDeadline + slack + io;
    this.exitAnswerBoundMs = options.exitAnswerBoundMs ?? EXIT_ANSWER_BOUND_MS;
    this.seesSignals = options.seesSignals ?? false;
    this.childAlive = options.childAlive;
    this.worktreesNow = options.worktrees;
    this.webhookTimeoutMs = config.webhookTimeoutMs;
    this.maxTombstones = config.maxTombstones;
    this.killGraceMs = config.killGraceMs;
    // How long a runner may take to get a grant onto disk: its own I/O, and a second for luck.
    this.persistGraceMs = io + 1_000;
  }

  get violated(): InvariantId[] {
    return [...new Set(this.violations.map((v) => v.invariant))].sort();
  }

  report(invariant: InvariantId, message: string, atMs: number): void {
    if (this.full(invariant)) return;
    this.reported.set(invariant, (this.reported.get(invariant) ?? 0) + 1);
    const violation = { invariant, message, atMs };
    this.violations.push(violation);
    this.onViolation(violation);
  }

  // ---- always ------------------------------------------------------------------------------

  /** A2: the runner signals only processes of its own children's trees. */
  onRunnerSignal(targets: readonly ProcessView[], how: string, atMs: number): void {
    if (targets.length > 0) this.onRunnerAction(`sent ${how}`, atMs);
    for (const target of targets) {
      if (target.spawnIndex === undefined) {
        this.report('A2', `the runner's ${how} reached ${describeProcess(target)}, a process it never spawned`, atMs);
        continue;
      }
      this.signalled.add(target);
      const spared = this.collateral(target.spawnIndex, atMs);
      if (spared !== undefined)
        this.report('A4', `the runner's ${how} reached ${describeProcess(target)}, ${spared}`, atMs);
    }
  }

  /**
   * A4: why a signal to child `index`'s tree is collateral, or undefined when something allows
   * it: a stop named its session, a shutdown was asked for, a restart came since it was spawned
   * (the new life may sweep what it does not know), or its wrapper has exited (the rest is
   * cleanup). Otherwise a granted session's tree, and a booting child within its timeout, are off
   * limits.
   */
  private collateral(index: number, atMs: number): string | undefined {
    const child = this.childByIndex.get(index);
    if (child === undefined) return undefined;
    // A shutdown of any life names every session (a later life finishes the kills it started).
    if (this.stopsIssued.has(child.sessionId) || this.shutdownEverIssued) return undefined;
    if (!child.root.alive) return undefined;
    const born = this.lifeOfChild.get(index) ?? this.life;
    if (born !== this.life) {
      // A later life may sweep what it does not know, but not a session its kept state file
      // knew: one granted before the restart, with time to write it, must be adopted.
      const grantedAt = this.grantedAt.get(child.sessionId);
      const restarts = this.lifeStarts.filter((l) => l.life > born);
      const knew =
        this.granted.has(child.sessionId) &&
        grantedAt !== undefined &&
        restarts.length > 0 &&
        // What counts is when the earlier life died: a grant it had no time to write is not kept,
        // nor one whose life's writes failed after it (the disk refused what would have kept it).
        restarts.every(
          (l) =>
            l.state === 'kept' &&
            l.crashedAt >= grantedAt + this.persistGraceMs &&
            !this.stateWriteFailures.some((t) => t >= grantedAt && t <= l.crashedAt),
        );
      return knew
        ? `of session ${child.sessionId}, granted at ${formatMs(grantedAt)} and kept in the state file across the restart: a restart adopts it, it does not kill it`
        : undefined;
    }
    if (this.granted.has(child.sessionId))
      return `of session ${child.sessionId}, which the runner granted and no stop or shutdown named`;
    const deadline = child.spawnedAt + this.webhookTimeoutMs;
    if (atMs < deadline)
      return `a child still booting, ${deadline - atMs} ms before its webhook timeout, which no stop or shutdown named`;
    return undefined;
  }

  /** A1: a worktree goes only when no process of the session lives in it. */
  onWorktreeRemoved(path: string, stillInside: readonly ProcessView[], atMs: number): void {
    if (stillInside.length > 0) {
      this.report(
        'A1',
        `worktree ${path} was removed while ${stillInside.map(describeProcess).join(', ')} still ran in it`,
        atMs,
      );
    }
  }

  /** A3: when a child starts, no other live tree may serve the same requested session. */
  onChildSpawned(
    child: ChildRecord,
    others: readonly ChildRecord[],
    live: () => readonly ProcessView[],
    atMs: number,
  ): void {
    this.childByIndex.set(child.index, child);
    this.childByPid.set(child.root.pid, child);
    this.lifeOfChild.set(child.index, this.life);
    this.onRunnerAction(`started child #${child.index} (pid ${child.root.pid})`, atMs);
    if (child.resumeKey === undefined) return;
    // Indexed by session, so that a thousand resumes of one session cost linear time, not cubic.
    let sameSession = this.childrenOfKey.get(child.resumeKey);
    if (sameSession === undefined) this.childrenOfKey.set(child.resumeKey, (sameSession = []));
    sameSession.push(child);
    // Only now look at the processes: a scan of /proc, in the real world.
    const rivalLives = this.someLivingOfKey(child.resumeKey, live);
    this.maybeAliveOfKey.get(child.resumeKey)!.push(child);
    if (!rivalLives || this.full('A3')) return;
    const alive = this.aliveTest(live);
    const rivals = sameSession.filter((o) => o !== child && alive(o.index));
    if (rivals.length > 0) {
      const named = rivals.slice(0, MAX_NAMED).map((r) => `child #${r.index}`);
      const more = rivals.length > MAX_NAMED ? ` and ${rivals.length - MAX_NAMED} more` : '';
      this.report(
        'A3',
        `child #${child.index} (pid ${child.root.pid}) was started for session ${child.resumeKey} while ` +
          `${named.join(', ')}${more} of the same session still lived`,
        atMs,
      );
    }
  }

  /** Whether a child started at or after `since` has died: looked for from the newest back. */
  private childDiedSince(children: readonly ChildRecord[], since: number): boolean {
    for (let i = children.length - 1; i >= 0; i--) {
      const c = children[i]!;
      if (c.spawnedAt < since) return false;
      if (!c.root.alive) return true;
    }
    return false;
  }

  /** A test of "some process of child n lives": the world's count, else one scan of `live`. */
  private aliveTest(live: () => readonly ProcessView[]): (spawnIndex: number) => boolean {
    if (this.childAlive !== undefined) return this.childAlive;
    const living = new Set(live().map((p) => p.spawnIndex));
    return (index) => living.has(index);
  }

  /**
   * Whether a child of requested session `key` has a live process. Where the world keeps exact
   * counts, a child found dead is dropped from the candidates for good (a tree never revives):
   * a session resumed ten thousand times costs linear time in all, live or dead.
   */
  private someLivingOfKey(key: string, live: () => readonly ProcessView[]): boolean {
    let candidates = this.maybeAliveOfKey.get(key);
    if (candidates === undefined) this.maybeAliveOfKey.set(key, (candidates = []));
    const alive = this.aliveTest(live);
    const prune = this.childAlive !== undefined;
    // Bounded by the candidates: each pass either finds a live one or removes a dead one.
    for (let i = 0; i < candidates.length;) {
      if (alive(candidates[i]!.index)) return true;
      if (!prune) {
        i++;
        continue;
      }
      candidates[i] = candidates[candidates.length - 1]!;
      candidates.pop();
    }
    return false;
  }

  /** Whether `invariant` has as many violations as are kept: checks need not look further. */
  private full(invariant: InvariantId): boolean {
    return (this.reported.get(invariant) ?? 0) >= MAX_VIOLATIONS_PER_INVARIANT;
  }

  onTerminalWebhook(sessionId: string): void {
    this.terminal.add(sessionId);
  }

  onTerminalSessionTaken(session: TerminalSessionReport, atMs: number): void {
    // A process that reports a second session (an agent that began a new conversation) may be
    // listed under either: runners that track by PID (hapi) keep the first. Only the first is due.
    const sender = `${this.life}:${session.pid}:${session.generation}`;
    if (this.terminalSenders.has(sender)) return;
    this.terminalSenders.add(sender);
    this.terminalSessions.push({ ...session, life: this.life, takenAt: atMs });
  }

  onRequest(request: RequestRecord, children: readonly ChildRecord[], live: () => readonly ProcessView[]): void {
    if (request.op === 'list' && this.terminalSessions.length > 0)
      this.terminalDue.set(
        request,
        this.terminalSessions.filter((t) => t.life === this.life && t.isAlive()),
      );
    // The spawns of the same session open as this one is issued (or answered, or issued, at that
    // very instant): it may join one of them and share its answer.
    if (request.op === 'spawn' && request.resumeKey !== undefined) {
      const key = request.resumeKey;
      const now = request.issuedAt;
      const sameInstant: RequestRecord[] = [];
      // Answers are kept in the order given: those of this instant are at the end.
      for (let i = this.spawnAnswers.length - 1; i >= 0 && this.spawnAnswers[i]!.answeredAt === now; i--)
        if (this.spawnAnswers[i]!.resumeKey === key) sameInstant.push(this.spawnAnswers[i]!);
      const open = [...this.openSpawns].filter((r) => r.resumeKey === key);
      this.openAtIssue.set(request, [...open, ...sameInstant]);
      for (const r of open) if (r.issuedAt === now) this.openAtIssue.get(r)?.push(request);
    }
    if (request.op === 'spawn') this.openSpawns.add(request);
    // A resume issued while a tree of its session still lives may be answered busy (torn down).
    if (request.op === 'spawn' && request.resumeKey !== undefined) {
      if (this.someLivingOfKey(request.resumeKey, live)) this.sessionAliveAtIssue.add(request);
    }
    if (request.op === 'stop' && request.sessionId !== undefined) {
      this.stopsIssued.add(request.sessionId);
      // Only where `forgotten` judges (in the real world, live() is a /proc scan).
      if (this.seesSignals && this.sessionTreesDead(request.sessionId, children, live)) this.deadAtIssue.add(request);
      if (this.seesSignals) {
        // (One the runner was already killing is left out: a restart may forget why it was.)
        const running = children.filter(
          (c) => c.sessionId === request.sessionId && c.root.alive && c.root.signalledByRunner !== true,
        );
        if (running.length > 0) this.runningAtIssue.set(request, running);
      }
    }
    if (request.op === 'shutdown') this.shutdownEverIssued = true;
    if (request.op === 'shutdown' && this.shutdownRequestId === undefined) {
      this.shutdownIssuedAt = request.issuedAt;
      this.shutdownRequestId = request.id;
    }
  }

  onRunnerStart(state?: RestartState, atMs = 0, downMs = 0): void {
    this.life++;
    this.lifeStarts.push({ life: this.life, state, atMs, crashedAt: atMs - downMs });
    this.excusedWorktrees.clear();
    // A new runner process has not been asked to shut down.
    this.shutdownIssuedAt = undefined;
    this.shutdownRequestId = undefined;
    this.shutdownAnsweredAt = undefined;
  }

  /**
   * A restarted runner first makes sure its earlier life's orphans are dead (two sweeps, each a
   * kill deadline and its I/O): a spawn issued meanwhile may also wait out what is left of them.
   */
  private sweepWaitMs(issuedAt: number): number {
    const restart = this.lifeStarts.findLast((l) => l.atMs <= issuedAt);
    if (restart === undefined || restart.state === undefined) return 0;
    return Math.max(0, restart.atMs + this.sweepAllowanceMs - issuedAt);
  }

  onStateWriteFailed(atMs: number): void {
    // Bounded: one per planned refusal (saveFaults: at most 32 of at most 100 calls each).
    this.stateWriteFailures.push(atMs);
  }

  onPortFailure(kind: PortFailureKind, atMs: number): void {
    this.lastPortFailure[kind] = atMs;
  }

  /** Whether /proc refused the runner (a scan, or a look by PID) at or after `atMs`. */
  private procRefusedSince(atMs: number): boolean {
    return this.lastPortFailure.scan >= atMs;
  }

  onRunnerTimer(setAtMs: number, atMs: number): void {
    if (this.shutdownAnsweredAt === undefined || atMs <= this.shutdownAnsweredAt) return;
    this.report(
      'S4',
      `a timer the runner set at ${formatMs(setAtMs)} fired at ${formatMs(atMs)}, after it answered shutdown at ${formatMs(this.shutdownAnsweredAt)}: a shutdown releases the runner's timers (contract.ts)`,
      atMs,
    );
  }

  /** S4: after its shutdown answer, a runner does nothing but (at most) a last state write. */
  onRunnerAction(what: string, atMs: number): void {
    if (this.shutdownAnsweredAt === undefined) return;
    this.report(
      'S4',
      `the runner ${what} at ${formatMs(atMs)}, after it answered shutdown at ${formatMs(this.shutdownAnsweredAt)}`,
      atMs,
    );
  }

  // ---- answers -----------------------------------------------------------------------------

  /** `live` is asked for only when an answer claims a tree is gone (a scan of /proc, for real). */
  onAnswer(
    request: RequestRecord,
    answer: Answer,
    children: readonly ChildRecord[],
    live: () => readonly ProcessView[],
    atMs: number,
  ): void {
    if (request.op === 'spawn') {
      this.openSpawns.delete(request);
      this.lastSpawnAnswerAt = atMs;
      this.spawnAnswers.push(request);
    }
    if (answer.op === 'shutdown' && !('failure' in answer)) this.judgeShutdown(request, live, atMs);
    if (!('result' in answer)) return; // a dropped connection (the runner crashed) is an answer too
    const latency = atMs - request.issuedAt;
    const label = `${request.op} request #${request.id} (issued ${formatMs(request.issuedAt)})`;
    if (answer.op === 'spawn') {
      const result = answer.result;
      // While /proc refuses the runner's scans, a spawn may wait for a sweep or a dying tree it
      // cannot see the end of: its bound counts from the last refusal, not from its request.
      const unreadMs = Math.max(0, Math.min(atMs, this.lastPortFailure.scan) - request.issuedAt);
      const bound = this.spawnBoundMs + this.sweepWaitMs(request.issuedAt) + unreadMs;
      if (latency > bound)
        this.report(
          'L1',
          `${label} took ${latency} ms, over the bound of ${bound} ms${unreadMs > 0 ? ` (${unreadMs} ms of it while /proc refused its scans)` : ''}`,
          atMs,
        );
      const child = request.child;
      // The child died on its own (not by the runner's hand) and never got its webhook through.
      const exitedAt = child !== undefined ? this.knownExitBeforeWebhook(child) : undefined;
      if (child !== undefined && exitedAt !== undefined && atMs - exitedAt > this.exitAnswerBoundMs) {
        this.report(
          'L1',
          `${label} answered ${atMs - exitedAt} ms after it could know its child (pid ${child.root.pid}) exited before its webhook`,
          atMs,
        );
      } else {
        // Every child started for this request counts (#249): one that died before its webhook
        // fails the spawn at once, even if the runner quietly started another in its place.
        const earlier = (request.children ?? []).find(
          (c) => c !== child && this.knownExitBeforeWebhook(c) !== undefined,
        );
        const known = earlier !== undefined ? this.knownExitBeforeWebhook(earlier)! : undefined;
        if (earlier !== undefined && known !== undefined && atMs - known > this.exitAnswerBoundMs) {
          this.report(
            'L1',
            `${label} answered ${atMs - known} ms after it could know its child #${earlier.index} (pid ${earlier.root.pid}) exited before its webhook (it started child #${child?.index ?? '?'} in its place instead of answering)`,
            atMs,
          );
        }
      }
      if (result.type === 'success') {
        // PIDs come round: any child that ever held the PID may be the one meant.
        const holders = children.filter((c) => c.root.pid === result.pid);
        const owner = holders.find((c) => c.sessionId === result.sessionId);
        if (holders.length === 0 && result.pid <= 0) {
          // A black-box answer that names no PID (hapi's): the harness looked for the child that reported the session.
          this.report(
            'T1',
            `${label} answered success with session ${result.sessionId}, which no child of the runner reported (a forged webhook's session?)`,
            atMs,
          );
        } else if (holders.length === 0) {
          this.report(
            'T1',
            `${label} answered success with pid ${result.pid}, which is no child the runner started`,
            atMs,
          );
        } else if (owner === undefined) {
          const reported = holders.map((c) => `child #${c.index} reported ${c.sessionId}`).join(', ');
          this.report(
            'T1',
            `${label} answered session ${result.sessionId} for pid ${result.pid}, but ${reported}`,
            atMs,
          );
        } else if (
          request.resumeKey !== undefined &&
          owner.resumeKey !== request.resumeKey &&
          !owner.resumeKeyUnknown
        ) {
          // A resume must continue the conversation asked for, or fail: never hand over another.
          const what =
            owner.resumeKeyNotPassed !== undefined
              ? `a new conversation (the runner named ${owner.resumeKeyNotPassed} in resumeSessionId but passed it in neither the agent's arguments nor its environment)`
              : owner.resumeKey === undefined
                ? 'a new conversation (the runner did not pass resumeSessionId to spawnDetached)'
                : `a resume of ${owner.resumeKey}`;
          this.report(
            'T1',
            `${label} asked to resume ${request.resumeKey}, but answered session ${result.sessionId} of child #${owner.index}, ${what}`,
            atMs,
          );
        } else if (
          (this.revokedAt.get(result.sessionId) ?? Number.POSITIVE_INFINITY) < request.issuedAt &&
          this.sessionTreesDead(result.sessionId, children, live)
        ) {
          // The runner itself said this session was gone (a stop answered "stopped" or
          // "already_gone", which T1 holds only when its tree is gone) before this request was
          // issued: handing it out again is a success with nothing running behind it.
          this.report(
            'T1',
            `${label} answered session ${result.sessionId}, which a stop had already ended (answered at ${formatMs(this.revokedAt.get(result.sessionId)!)}, before this request was issued), and whose tree is dead: a success with nothing running`,
            atMs,
          );
        } else if (
          request.worktree === true &&
          request.directory !== undefined &&
          owner.root.cwd === request.directory &&
          owner.spawnedAt >= request.issuedAt &&
          (this.openAtIssue.get(request) ?? []).length === 0
        ) {
          // A worktree session exists to keep the agent's edits off the checkout the user works
          // in: a child started for this request in the repository itself is not what was asked
          // for, whatever its answer says. A resume that joins its conversation's running child,
          // or a spawn of it under way, shares that child's directory: not judged. (Judged only
          // against the repository directory itself: where a runner puts worktrees is its choice.)
          this.report(
            'T1',
            `${label} asked for a worktree session, but answered session ${result.sessionId} of child #${owner.index}, which runs in the repository directory ${request.directory} itself, not in a worktree`,
            atMs,
          );
        } else if (request.resumeKey === undefined && owner.resumeKey !== undefined && !owner.resumeKeyUnknown) {
          this.report(
            'T1',
            `${label} asked for a new session, but answered session ${result.sessionId} of child #${owner.index}, a resume of ${owner.resumeKey}`,
            atMs,
          );
        } else if (request.resumeKey === undefined && owner.spawnedAt < request.issuedAt) {
          this.report(
            'T1',
            `${label} asked for a new session, but answered session ${result.sessionId} of child #${owner.index}, started at ${formatMs(owner.spawnedAt)} before the request`,
            atMs,
          );
        } else {
          this.granted.add(result.sessionId);
          this.grantedAt.set(result.sessionId, atMs);
          this.grantedInLife.set(result.sessionId, this.life);
          if (this.shutdownRequestId !== undefined && request.id > this.shutdownRequestId)
            this.report(
              'S4',
              `${label} was issued after shutdown was asked for (${formatMs(this.shutdownIssuedAt ?? 0)}), and answered success: a runner shutting down refuses spawns`,
              atMs,
            );
        }
      } else if (this.healthyButFailed(request, result, child, children, atMs)) {
        // (reported inside)
      } else if (this.seesSignals && this.untruthfulError(request, result, children, live, atMs)) {
        // (reported inside)
      } else if (result.reason === 'timeout' && child !== undefined && exitedAt !== undefined && exitedAt < atMs) {
        // (An exit at the very instant of the timeout is a tie the runner cannot have seen.)
        this.report(
          'T1',
          `${label} answered "timeout", but its child (pid ${child.root.pid}) had exited, and the runner could know it at ${formatMs(exitedAt)}`,
          atMs,
        );
      }
      return;
    }
    if (answer.op === 'stop') {
      if (latency > this.stopBoundMs)
        this.report('L1', `${label} took ${latency} ms, over the bound of ${this.stopBoundMs} ms`, atMs);
      const sessionId = request.sessionId ?? '';
      const status = answer.result.status;
      // /proc refused a scan while the stop ran: the runner could not find what left the tree's
      // root, nor show the tree gone, so "still_alive" is its truthful answer, and only what it
      // knows without a scan, each root by its PID, is held to the stop's deadline (S2 still
      // holds the rest to die in the end).
      const procUnread = this.procRefusedSince(request.issuedAt);
      if (status === 'still_alive' && this.seesSignals && this.granted.has(sessionId)) {
        // L2: what lives on must die by the stop's deadline, or have survived SIGKILL by then.
        // Judged at quiescence, on the processes as they are now (their records keep changing).
        const trees = children.filter((c) => c.sessionId === sessionId).map((c) => c.index);
        const living = live().filter(
          (p) => p.spawnIndex !== undefined && trees.includes(p.spawnIndex) && (!procUnread || p.role === 'wrapper'),
        );
        if (living.length > 0)
          this.stopsToFinish.push({ label, sessionId, deadline: request.issuedAt + this.stopBoundMs, living });
      }
      if (
        status === 'still_alive' &&
        this.seesSignals &&
        !procUnread &&
        this.forgotten(request, sessionId, children, live)
      )
        this.report(
          'T1',
          `${label} for ${sessionId} answered "still_alive" (something of its tree survived SIGKILL, or the id is unknown), but its whole tree was dead before the stop was asked, and this runner process granted the session (at ${formatMs(this.grantedAt.get(sessionId) ?? 0)}), with no more children in the run than it keeps ended sessions (config.maxTombstones ${this.maxTombstones}): it must remember it and answer "already_gone"`,
          atMs,
        );
      if (status === 'stopped' || status === 'already_gone') {
        const trees = children.filter((c) => c.sessionId === sessionId).map((c) => c.index);
        const alive =
          trees.length === 0 ? [] : live().filter((p) => p.spawnIndex !== undefined && trees.includes(p.spawnIndex));
        // "already_gone" says the session had ended on its own; one whose child still ran, not
        // yet signalled, when the stop came, and which the runner's own signals then ended, was
        // stopped. Judged of the runner life that granted it (a restart may forget a stop that
        // an earlier life began, as it may forget its tombstones).
        const killed =
          status === 'already_gone' && this.grantedInLife.get(sessionId) === this.life
            ? (this.runningAtIssue.get(request) ?? []).find((c) => !c.root.alive && c.root.signalledByRunner === true)
            : undefined;
        if (alive.length > 0) {
          this.report(
            'T1',
            `${label} for ${sessionId} answered "${status}" while ${alive.map(describeProcess).join(', ')} still lived`,
            atMs,
          );
        } else if (killed !== undefined) {
          this.report(
            'T1',
            `${label} for ${sessionId} answered "already_gone", but child #${killed.index} (pid ${killed.root.pid}) still ran, not yet signalled, when the stop was asked and died of the runner's own signals: the session was stopped, it had not ended on its own`,
            atMs,
          );
        } else if (status === 'stopped' && trees.length === 0 && !this.terminal.has(sessionId)) {
          // "stopped" says a session was killed: never of an id no child ever had (the contract
          // answers an unknown id still_alive).
          this.report(
            'T1',
            `${label} answered "stopped" for ${sessionId}, which no child of the runner ever reported`,
            atMs,
          );
        }
        if (this.granted.delete(sessionId)) this.revokedAt.set(sessionId, atMs);
      }
      return;
    }
    if (answer.op === 'list') this.judgeList(request, answer.result, children, atMs);
  }

  /**
   * T1 of a stop answered `still_alive`: that claims something of the session's tree survived
   * SIGKILL, or an id the runner does not know (contract.ts). Neither is true of a session whose
   * whole tree was dead before the stop was asked (no SIGKILL was needed) and that this runner
   * process granted itself, while it can still remember it: the run has no more children than
   * its tombstones hold, and no shutdown was asked for. (A restart may forget: the tombstones of
   * the reference live in memory, as hapi's do.)
   */
  private forgotten(
    request: RequestRecord,
    sessionId: string,
    children: readonly ChildRecord[],
    live: () => readonly ProcessView[],
  ): boolean {
    if (!this.deadAtIssue.has(request) || this.shutdownIssuedAt !== undefined) return false;
    if (this.grantedInLife.get(sessionId) !== this.life) return false;
    // Each child is at most one ended session to remember (timed-out and adopted ones too): with
    // no more children in the whole run than tombstones, none can have been pushed out.
    if (children.length > this.maxTombstones) return false;
    return this.sessionTreesDead(sessionId, children, live);
  }

  /** Whether the session had children, and no process of any of their trees lives. */
  private sessionTreesDead(
    sessionId: string,
    children: readonly ChildRecord[],
    live: () => readonly ProcessView[],
  ): boolean {
    const trees = children.filter((c) => c.sessionId === sessionId);
    if (trees.length === 0) return false;
    const alive = this.aliveTest(live);
    return !trees.some((c) => alive(c.index));
  }

  /** When the runner could know `child` exited on its own before its webhook, if it did. */
  private knownExitBeforeWebhook(child: ChildRecord): number | undefined {
    const root = child.root;
    if (root.alive || root.signalledByRunner === true || child.webhookAt !== undefined || root.exitedAt === undefined)
      return undefined;
    // ...and when the runner could first know it: its exit notice and its spawn's answer (the
    // PID), where the world can tell.
    return Math.max(root.exitedAt, root.exitNoticeAt ?? root.exitedAt, child.pidKnownAt ?? root.exitedAt);
  }

  /**
   * L3: a spawn whose own child's valid webhook reached the runner in time (before the webhook
   * timeout less the slack) and while the child ran (the worlds set `webhookAt` only then: one
   * that lands after its root exited may be taken or ignored) is answered with that child's
   * session, never an error; and "timeout" is never answered before the timeout could have run
   * out. Reports and returns true when broken.
   */
  private healthyButFailed(
    request: RequestRecord,
    result: Extract<Answer, { op: 'spawn'; result: unknown }>['result'] & { type: 'error' },
    child: ChildRecord | undefined,
    children: readonly ChildRecord[],
    atMs: number,
  ): boolean {
    if (this.shutdownIssuedAt !== undefined || result.reason === 'shutting-down') return false;
    const label = `spawn request #${request.id} (issued ${formatMs(request.issuedAt)})`;
    // The timeout runs from the child the answer names (a request that joined an earlier spawn
    // of its session shares that spawn's timeout), else from the request.
    const named = result.pid === undefined ? undefined : this.childByPid.get(result.pid);
    const from = Math.min(named?.spawnedAt ?? request.issuedAt, request.issuedAt);
    // (Only where spawn times are exact: a black-box run learns of a child when it finds it.)
    if (this.seesSignals && result.reason === 'timeout' && atMs < from + this.webhookTimeoutMs) {
      this.report(
        'L3',
        `${label} answered "timeout" after ${atMs - request.issuedAt} ms, before its webhook timeout of ${this.webhookTimeoutMs} ms could run out`,
        atMs,
      );
      return true;
    }
    if (child === undefined || child.webhookAt === undefined || this.stopsIssued.has(child.sessionId)) return false;
    const valid = child.plan.webhook === 'on-time' || child.plan.webhook === 'twice';
    const inTime = child.webhookAt <= child.spawnedAt + this.webhookTimeoutMs - ANSWER_SLACK_MS;
    if (!valid || !inTime || (this.lifeOfChild.get(child.index) ?? this.life) !== this.life) return false;
    this.report(
      'L3',
      `${label} answered error (${result.reason}), though its child #${child.index} (pid ${child.root.pid}) posted a valid webhook for ${child.sessionId} at ${formatMs(child.webhookAt)}, ${child.spawnedAt + this.webhookTimeoutMs - child.webhookAt} ms before its timeout`,
      atMs,
    );
    return true;
  }

  /**
   * T1 for an error answer: each reason is a claim about the world, true only when the world
   * shows it. `busy` needs another spawn in flight, a live child of the same session, or a
   * process that survived SIGKILL; `spawn-failed` and `worktree-failed` a refusal by the OS or
   * git since the request; `invalid-request` a request the contract's schema rejects; `exited` a
   * child of the request that exited; `shutting-down` a shutdown asked for; `timeout` a child of
   * this spawn (whether its webhook came in time is L3's).
   * Reports and returns true when the claim is false.
   */
  private untruthfulError(
    request: RequestRecord,
    result: { readonly reason: string; readonly pid?: number },
    children: readonly ChildRecord[],
    live: () => readonly ProcessView[],
    atMs: number,
  ): boolean {
    const label = `spawn request #${request.id} (issued ${formatMs(request.issuedAt)})`;
    // A resume may join a spawn of its session already under way and share its answer: the
    // claim may be true of that spawn.
    const joinable = [request, ...(this.openAtIssue.get(request) ?? [])];
    const claimHolds = (r: RequestRecord): boolean => {
      switch (result.reason) {
        case 'busy': {
          const others = [...this.openSpawns].some((o) => o !== request && o !== r);
          const living = live();
          const livingIndices = new Set(living.map((p) => p.spawnIndex));
          // A child of the session alive, or gone so recently that the runner's teardown of it
          // (its scans a moment stale) may still be running.
          const sameSession =
            r.resumeKey !== undefined &&
            (this.childrenOfKey.get(r.resumeKey) ?? []).some(
              (c) => livingIndices.has(c.index) || (c.root.exitedAt ?? -Infinity) >= r.issuedAt - this.stopBoundMs,
            );
          const survivor = living.some((p) => p.spawnIndex !== undefined && p.sigkilledAt !== undefined);
          // Spawn answers are kept in the order given: look back only as far as r was issued.
          let answeredMeanwhile = false;
          for (let i = this.spawnAnswers.length - 1; i >= 0 && !answeredMeanwhile; i--) {
            const a = this.spawnAnswers[i]!;
            if ((a.answeredAt ?? -Infinity) < r.issuedAt) break;
            answeredMeanwhile = a !== request && a !== r;
          }
          // /proc refused the runner since the request: an earlier tree of the session may have
          // died unseen, and "not verified gone" is as much as the runner can know.
          const unread = this.procRefusedSince(r.issuedAt);
          return others || sameSession || survivor || answeredMeanwhile || unread || this.sessionAliveAtIssue.has(r);
        }
        case 'spawn-failed':
          return this.lastPortFailure.spawn >= r.issuedAt;
        case 'worktree-failed':
          return r.worktree === true && this.lastPortFailure['git-add'] >= r.issuedAt;
        case 'invalid-request':
          return !SpawnRequestSchema.safeParse({
            directory: '/work/repo',
            ...(r.resumeKey !== undefined ? { resumeSessionId: r.resumeKey } : {}),
            ...(r.worktreeName !== undefined ? { worktreeName: r.worktreeName } : {}),
          }).success;
        case 'exited':
          return r.child?.root.alive === false || this.childDiedSince(children, r.issuedAt);
        case 'shutting-down':
          return this.shutdownIssuedAt !== undefined;
        case 'timeout': {
          // About a child of this spawn (or of one it joined), never a stale one from long ago.
          if (result.pid === undefined) return true;
          const named = this.childByPid.get(result.pid);
          return named === undefined || named.spawnedAt >= r.issuedAt;
        }
        default:
          return true;
      }
    };
    const truthful = joinable.some(claimHolds);
    if (truthful) return false;
    this.report('T1', `${label} answered error (${result.reason}), which nothing in the world bears out`, atMs);
    return true;
  }

  /** S4: at its shutdown answer, nothing of the runner lives and none of its worktrees is left. */
  private judgeShutdown(request: RequestRecord, live: () => readonly ProcessView[], atMs: number): void {
    this.shutdownAnsweredAt = atMs;
    const survivedSigkill = (p: ProcessView): boolean => p.sigkilledAt !== undefined;
    const living = live();
    const left = living.filter((p) => p.spawnIndex !== undefined && !survivedSigkill(p));
    const label = `shutdown request #${request.id} (issued ${formatMs(request.issuedAt)})`;
    if (left.length > 0)
      this.report('S4', `${label} was answered while ${left.map(describeProcess).join(', ')} still lived`, atMs);
    const inside = (p: ProcessView, path: string): boolean => p.cwd === path || p.cwd.startsWith(`${path}/`);
    // What holds a worktree for the answer: a live survivor of SIGKILL, or one that outlived its
    // kill routine's SIGKILL grace (the runner rightly gave up on it)
    // and died only as the shutdown was closing, within the time its last state write may take:
    // the runner has decided about its worktree, and must write that down, before it answers.
    const holders = living.filter(survivedSigkill);
    for (const p of this.signalled)
      if (
        !p.alive &&
        p.sigkilledAt !== undefined &&
        p.exitedAt !== undefined &&
        p.exitedAt - p.sigkilledAt >= this.killGraceMs &&
        p.exitedAt >= atMs - this.persistGraceMs
      )
        holders.push(p);
    const occupied = (path: string): boolean => holders.some((p) => inside(p, path));
    const existing = this.worktreesNow?.() ?? [];
    // Held by a process that survived SIGKILL: the runner cannot remove it, and after this answer
    // may not act again; S3 does not blame it (unless a later life leaves it too).
    for (const path of existing.filter(occupied)) {
      this.excusedWorktrees.add(path);
      this.excusedAtShutdownOfLife.set(path, this.life);
    }
    const kept = existing.filter((path) => !occupied(path) && this.excusedAtShutdownOfLife.get(path) !== this.life);
    // /proc refused a scan while the shutdown ran: the runner could not verify that no process
    // of an earlier life still runs in a worktree it recovers, and keeping it is the safe choice
    // (A1); left for the next start, as one a survivor holds (S3 unless a later life leaves it).
    if (this.procRefusedSince(request.issuedAt)) {
      for (const path of kept) this.excusedWorktrees.add(path);
      return;
    }
    if (kept.length > 0)
      this.report('S4', `${label} was answered while worktree(s) ${kept.join(', ')} still existed`, atMs);
  }

  /**
   * S1 at every list answer, not only the last: a listed session must be granted, started from
   * a terminal, or on its way (its child reported it while a spawn is still open). A session
   * granted or revoked while the list was being answered may be shown either way. Each session
   * is named at most once.
   */
  private judgeList(
    request: RequestRecord,
    listed: readonly { readonly sessionId: string }[],
    children: readonly ChildRecord[],
    atMs: number,
  ): void {
    const spawnStillOpen = this.openSpawns.size > 0 || this.lastSpawnAnswerAt >= request.issuedAt;
    // Looked up by session, built once per list: a list of thousands is judged in linear time.
    let reporters: Set<string> | undefined;
    const named = new Set<string>();
    for (const { sessionId } of listed) {
      if (named.has(sessionId)) {
        // One session, two entries: a hub keyed by session would count it twice, and whichever
        // entry it keeps may be the wrong one (a terminal's claim over the runner's own child).
        if (!this.full('S1'))
          this.report(
            'S1',
            `list request #${request.id} (issued ${formatMs(request.issuedAt)}) names session ${sessionId} more than once: a list names each session at most once`,
            atMs,
          );
        continue;
      }
      named.add(sessionId);
      if (this.granted.has(sessionId) || this.terminal.has(sessionId) || this.ghostsNamed.has(sessionId)) continue;
      if ((this.revokedAt.get(sessionId) ?? -Infinity) >= request.issuedAt) continue;
      reporters ??= new Set(children.filter((c) => c.webhookAt !== undefined).map((c) => c.sessionId));
      if (reporters.has(sessionId) && spawnStillOpen) continue;
      this.ghostsNamed.add(sessionId);
      if (this.full('S1')) continue;
      this.report(
        'S1',
        `ghost session ${sessionId}: listed by the runner in its answer to list request #${request.id} (issued ${formatMs(request.issuedAt)}), ${this.ghostReason(sessionId, children)}`,
        atMs,
      );
    }
    this.judgeTerminalSessionsListed(request, listed, children, atMs);
  }

  /**
   * T1: a list leaves out no session a terminal reported to this life of the runner while the
   * process that reported it still runs. Not judged: a session a stop named (what a stop of a
   * session the runner did not spawn leaves behind is the runner's choice), one whose id a child
   * of the runner holds (the child's own report wins), and anything after a shutdown was asked.
   */
  private judgeTerminalSessionsListed(
    request: RequestRecord,
    listed: readonly { readonly sessionId: string }[],
    children: readonly ChildRecord[],
    atMs: number,
  ): void {
    const due = this.terminalDue.get(request);
    if (due === undefined || this.shutdownIssuedAt !== undefined) return;
    for (const t of due) {
      if (this.full('T1')) return;
      if (t.life !== this.life || !t.isAlive() || this.stopsIssued.has(t.sessionId)) continue;
      if (children.some((c) => c.sessionId === t.sessionId)) continue;
      if (listed.some((entry) => entry.sessionId === t.sessionId)) continue;
      this.report(
        'T1',
        `list request #${request.id} (issued ${formatMs(request.issuedAt)}) leaves out session ${t.sessionId}, which a terminal reported from pid ${t.pid} at ${formatMs(t.takenAt)} (the runner took its webhook; the process still runs and no stop named the session)`,
        atMs,
      );
    }
  }

  /** Why a shown session is a ghost, from what the spawns and stops answered. */
  private ghostReason(sessionId: string, children: readonly ChildRecord[]): string {
    const revoked = this.revokedAt.get(sessionId);
    if (revoked !== undefined) return `though a stop answered for it at ${formatMs(revoked)}`;
    const child = children.find((c) => c.sessionId === sessionId && c.reportedAt !== undefined);
    if (child === undefined) return 'though no child of the runner reported it and nobody started it from a terminal';
    const answers = this.spawnAnswers.filter((r) => r.child === child);
    if (answers.length === 0) {
      const successes = this.spawnAnswers.filter(
        (r) =>
          r.answer !== undefined &&
          'result' in r.answer &&
          r.answer.op === 'spawn' &&
          r.answer.result.type === 'success',
      ).length;
      return `though child #${child.index} reported it, no spawn answered with it${successes > 0 ? ` (${successes} spawn(s) answered success with other sessions)` : ''}`;
    }
    return `though its spawn ${answers
      .map((r) => {
        const a = r.answer;
        const what =
          a === undefined || !('result' in a)
            ? `got no answer (${a !== undefined && 'failure' in a ? a.failure : 'none'})`
            : a.op === 'spawn' && a.result.type === 'error'
              ? `answered error (${a.result.reason})`
              : 'answered';
        return `request #${r.id} ${what} at ${formatMs(r.answeredAt ?? 0)}`;
      })
      .join(', ')}`;
  }

  // ---- quiescence --------------------------------------------------------------------------

  atQuiescence(world: QuiescentWorld): void {
    const at = world.now;
    for (const request of world.requests) {
      if (request.answeredAt === undefined) {
        this.report(
          'L1',
          `${request.op} request #${request.id} (issued ${formatMs(request.issuedAt)}) was never answered`,
          at,
        );
      }
    }
    if (world.listed === undefined) this.report('L1', 'the runner did not answer the final list request', at);

    // L2: a stop that gave up left nothing alive past its deadline that it had not SIGKILLed.
    for (const stop of this.stopsToFinish) {
      const spared = stop.living.filter(
        (p) =>
          (p.alive || (p.exitedAt ?? 0) > stop.deadline) &&
          (p.sigkilledAt === undefined || p.sigkilledAt > stop.deadline),
      );
      if (spared.length > 0) {
        this.report(
          'L2',
          `${stop.label} for ${stop.sessionId} answered "still_alive", and ${spared.map(describeProcess).join(', ')} lived past the stop's deadline (${formatMs(stop.deadline)}) without getting SIGKILL: a stop must kill the tree, escalating to SIGKILL`,
          at,
        );
      }
    }
    const listed = new Set((world.listed ?? []).map((s) => s.sessionId));
    const allowed = (id: string): boolean => this.granted.has(id) || this.terminal.has(id);

    // S1: no ghost session, on the runner's list or on the hub.
    const ghosts = new Set<string>();
    for (const id of listed) if (!allowed(id)) ghosts.add(id);
    // Indexes built once, so that quiescence costs linear time in children and processes.
    const childByIndex = new Map(world.children.map((c) => [c.index, c]));
    const sessionsWithChildren = new Set(world.children.map((c) => c.sessionId));
    const livingSessions = new Set<string>();
    const survivingSigkill = new Set<string>();
    for (const p of world.liveProcesses) {
      const child = p.spawnIndex !== undefined ? childByIndex.get(p.spawnIndex) : undefined;
      if (child === undefined) continue;
      livingSessions.add(child.sessionId);
      if (p.sigkilledAt !== undefined) survivingSigkill.add(child.sessionId);
    }
    const hubActive = new Set(world.hubActive);
    // A hub row the agent keeps alive after surviving the runner's SIGKILL: the runner did all it could.
    for (const id of hubActive) if (!allowed(id) && !survivingSigkill.has(id)) ghosts.add(id);
    // A granted session still listed after every process of it has exited (the incident's
    // ghost: shown as running, with nothing running): the runner never noticed the exit.
    for (const id of listed) {
      if (ghosts.has(id) || this.terminal.has(id)) continue;
      if (!sessionsWithChildren.has(id) || livingSessions.has(id)) continue;
      ghosts.add(id);
      this.ghostsNamed.add(id); // named here, with its own reason
      this.report('S1', `ghost session ${id}: listed by the runner, though every process of it had exited`, at);
    }
    for (const id of [...ghosts].sort()) {
      if (this.full('S1')) break; // counted below; no more messages are kept
      const onHub = hubActive.has(id);
      // A ghost a list answer already named is named again only for what the list did not show.
      if (this.ghostsNamed.has(id) && !onHub) continue;
      const shownInList = listed.has(id) && !this.ghostsNamed.has(id);
      const where = [shownInList ? 'listed by the runner' : '', onHub ? 'active on the hub' : '']
        .filter(Boolean)
        .join(' and ');
      this.report('S1', `ghost session ${id}: ${where}, ${this.ghostReason(id, world.children)}`, at);
    }
    // Ghosts a list named mid-run count too, though the final list no longer shows them.
    this.counts.ghostSessions = new Set([...ghosts, ...this.ghostsNamed]).size;

    // S2: every live process of the run belongs to a legitimate session the runner lists.
    const owned = new Set(
      world.children.filter((c) => listed.has(c.sessionId) && allowed(c.sessionId)).map((c) => c.index),
    );
    // A process that survived the runner's SIGKILL (D state) is the kernel's, not the runner's, to end.
    const survivedSigkill = (p: ProcessView): boolean => p.sigkilledAt !== undefined;
    const leaked = world.liveProcesses.filter(
      (p) => p.spawnIndex !== undefined && !owned.has(p.spawnIndex) && !survivedSigkill(p),
    );
    const byChild = new Map<number, ProcessView[]>();
    for (const p of leaked) {
      const procs = byChild.get(p.spawnIndex!);
      if (procs === undefined) byChild.set(p.spawnIndex!, [p]);
      else procs.push(p);
    }
    for (const [index, procs] of byChild) {
      if (this.full('S2')) break;
      const child = childByIndex.get(index);
      this.report(
        'S2',
        `leaked process tree of child #${index}${child ? ` (session ${child.sessionId})` : ''}: ${procs.map(describeProcess).join(', ')} alive and not part of any session the runner lists`,
        at,
      );
    }
    this.counts.leakedProcesses = leaked.length;

    // S3: every worktree the runner made belongs to a session it lists.
    const ownedPaths = new Set(world.children.filter((c) => owned.has(c.index)).map((c) => c.root.cwd));
    // A worktree a SIGKILL survivor still runs in cannot go without breaking A1.
    const survivorCwds = world.liveProcesses.filter(survivedSigkill).map((p) => p.cwd);
    const occupied = (path: string): boolean => survivorCwds.some((cwd) => cwd === path || cwd.startsWith(`${path}/`));
    const leakedWorktrees = world.worktrees.filter(
      (path) => !ownedPaths.has(path) && !occupied(path) && !this.excusedWorktrees.has(path),
    );
    for (const path of leakedWorktrees)
      this.report('S3', `leaked worktree ${path}: no session the runner lists uses it`, at);
    this.counts.leakedWorktrees = leakedWorktrees.length;
  }
}
