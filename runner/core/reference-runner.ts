// The reference runner: the lifecycle of detached agent children, written only against ports.
//
// One record per child, in one of three phases:
//   booting  spawned, its spawn request waits for the webhook (or exit, or the timeout);
//   session  its webhook arrived in time: a session the runner lists and can stop;
//   dying    being torn down (timed out, exited, stopped, orphaned by a restart): its webhook
//            is ignored, its tree is killed, and only when the whole tree is verified dead is
//            its worktree removed and the record dropped.
// The record is keyed by an internal id, never by PID: a PID is only trusted together with the
// generation read when the child was spawned.
import {
  SessionWebhookSchema,
  type SessionWebhook,
  SpawnRequestSchema,
  type Runner,
  type SessionInfo,
  type SpawnResult,
  type SpawnRequest,
  type StopResult,
} from '../contract.ts';
import type { RunnerConfig } from '../config.ts';
import { sleep, type ExitInfo, type ProcessRef, type RunnerPorts, type TimerHandle } from '../ports.ts';
import { BoundedMap } from './bounded-map.ts';
import {
  BOOT_ENV,
  killMembers,
  killTree,
  OWNER_ENV,
  SPAWN_MARKER_ENV,
  SPAWN_TOKEN_ENV,
  treeGone,
  type KillOutcome,
} from './kill-tree.ts';
import { generationNow, sameProcess } from './generation.ts';
import { OrphanSurvivors } from './orphan-sweep.ts';
import { parsePersistedState, type PersistedChild, type PersistedState } from './persisted-state.ts';
import { describeError, WorktreeJanitor, type Worktree } from './worktree-janitor.ts';

type Phase = 'booting' | 'session' | 'dying';

interface TrackedChild {
  readonly id: number;
  readonly ref: ProcessRef;
  readonly marker: string;
  /** Echoed by the child in its webhook; absent for children adopted from an older state file. */
  readonly token?: string;
  readonly resumeKey?: string;
  readonly worktree?: Worktree;
  phase: Phase;
  sessionId?: string;
  rootExit?: ExitInfo;
  /** True once a stop request asked for this child's death (answers `stopped`, not `already_gone`). */
  stopRequested: boolean;
  /** False for children adopted after a restart: the OS tells only a parent of an exit. */
  watched: boolean;
  /** Settles the waiting spawn request; present only while booting. */
  answer?: (result: SpawnResult) => void;
  webhookTimer?: TimerHandle;
  /** The next try at a tree that survived SIGKILL: cleared by a teardown that starts sooner (a stop, a shutdown). */
  retryTimer?: TimerHandle;
  /** What the last try left alive after its SIGKILL (D state): the next try does not SIGTERM and wait on them again. */
  sigkilled?: readonly ProcessRef[];
  teardown?: Promise<KillOutcome>;
}

const MAX_EXTERNAL_SESSIONS = 1_000;
/**
 * A tree that survived SIGKILL (D state) is tried again, backing off to once a minute, for a
 * day: a process stuck on a dead NFS mount may come back after minutes, and only then can its
 * worktree go. Past that, it is logged and left (bounded, like every loop here).
 */
const MAX_TEARDOWN_BACKOFF_MS = 60_000;
/** Extra tries a shutdown gives a tree that survived SIGKILL: 1 + 2 + 4 + 8 + 16 s of waiting. */
const SHUTDOWN_KILL_RETRIES = 5;
const MAX_TEARDOWN_RETRIES = 24 * 60 + 10;
/** Kill routines over an earlier life's spawn marker whose last look at /proc failed, before the next start is left to it. */
const MARKER_SWEEP_TRIES = 5;

export class ReferenceRunner implements Runner {
  private readonly children = new Map<number, TrackedChild>();
  private readonly external = new BoundedMap<string, SessionInfo>(MAX_EXTERNAL_SESSIONS);
  private readonly tombstones: BoundedMap<string, ExitInfo | 'stopped'>;
  private readonly inflightByResumeKey = new Map<string, Promise<SpawnResult>>();
  /** Spawn tokens of children being spawned, and the webhook one of them sent early (else null). */
  private readonly earlyWebhooks = new Map<string, SessionWebhook | null>();
  private readonly janitor: WorktreeJanitor;
  private nextChildId = 1;
  private boots = 0;
  private bootStamp = '';
  private shuttingDown = false;
  /** Shutdown answered: the runner acts no more (exits and timers that come later change nothing). */
  private halted = false;
  private pollTimer: TimerHandle | undefined;
  private readonly ready: Promise<void>;
  private orphansSwept: Promise<void> = Promise.resolve();
  /** Markers of spawns under way whose child has no record yet (persisted: spawnIntents). */
  private readonly spawnIntents = new Set<string>();
  /** Spawns that have not yet registered their child (or given up). */
  private readonly starting = new Set<Promise<void>>();
  /** Orphans of an earlier life that survived SIGKILL: resumes answer busy while one lives. */
  private readonly orphans: OrphanSurvivors;

  constructor(
    private readonly ports: RunnerPorts,
    private readonly config: RunnerConfig,
  ) {
    this.tombstones = new BoundedMap(config.maxTombstones);
    this.orphans = new OrphanSurvivors(ports, config.killGraceMs);
    this.janitor = new WorktreeJanitor(ports.worktrees, ports.clock, ports.logger, () => this.persist());
    this.ready = this.recover();
  }

  // ---- spawn ------------------------------------------------------------------------------

  async spawnSession(raw: SpawnRequest): Promise<SpawnResult> {
    await this.ready;
    await this.orphansSwept;
    const parsed = SpawnRequestSchema.safeParse(raw);
    if (!parsed.success) {
      return {
        type: 'error',
        reason: 'invalid-request',
        message: parsed.error.issues.map((i) => i.message).join('; '),
      };
    }
    const request = parsed.data;
    // Checked before joining a spawn under way: a runner shutting down hands out no session.
    if (this.shuttingDown) return { type: 'error', reason: 'shutting-down', message: 'runner is shutting down' };
    const key = request.resumeSessionId;
    if (key === undefined) return this.spawnFresh(request);
    // Rapid resume: every request for one session while a spawn is in flight joins that spawn.
    const inflight = this.inflightByResumeKey.get(key);
    if (inflight !== undefined) return inflight;
    const spawn = this.spawnFresh(request).finally(() => this.inflightByResumeKey.delete(key));
    this.inflightByResumeKey.set(key, spawn);
    return spawn;
  }

  private async spawnFresh(request: ReturnType<typeof SpawnRequestSchema.parse>): Promise<SpawnResult> {
    // Tracked until its child is registered (or it gave up): a shutdown waits for that, so that
    // no child or worktree of a spawn under way outlives the shutdown's answer.
    let started: () => void = () => {};
    const starting = new Promise<void>((resolve) => (started = resolve));
    this.starting.add(starting);
    try {
      if (this.shuttingDown) return { type: 'error', reason: 'shutting-down', message: 'runner is shutting down' };
      const key = request.resumeSessionId;
      if (key !== undefined && this.orphans.linger()) {
        // Nothing says which conversation an orphan serves: it may be this one.
        return { type: 'error', reason: 'busy', message: 'processes of an earlier runner life survived SIGKILL' };
      }
      if (key !== undefined) {
        const running = [...this.children.values()].find((c) => c.resumeKey === key && c.phase === 'session');
        if (running?.sessionId !== undefined)
          return { type: 'success', sessionId: running.sessionId, pid: running.ref.pid };
        // A child of the same session still dying: one live tree per session, so wait for it.
        for (const dying of [...this.children.values()].filter((c) => c.resumeKey === key && c.phase === 'dying')) {
          const outcome = await this.teardown(dying);
          if (!treeGone(outcome)) {
            return { type: 'error', reason: 'busy', message: `an earlier child of session ${key} ${notGone(outcome)}` };
          }
        }
      }
      const booting = [...this.children.values()].filter((c) => c.phase === 'booting').length;
      if (booting >= this.config.maxInFlightSpawns) {
        return { type: 'error', reason: 'busy', message: `${booting} spawns already in flight` };
      }

      const id = this.nextChildId++;
      const marker = `${this.bootStamp}.${id}`;
      let cwd = request.directory;
      let worktree: Worktree | undefined;
      if (request.sessionType === 'worktree') {
        const name = `${request.worktreeName ?? 'session'}-${marker.replace(/[^A-Za-z0-9]/g, '-')}`;
        try {
          worktree = await this.janitor.add(request.directory, name, marker);
        } catch (error) {
          return {
            type: 'error',
            reason: 'worktree-failed',
            message: `git worktree add failed: ${describeError(error)}`,
          };
        }
        cwd = worktree.path ?? cwd;
      }

      if (this.shuttingDown) {
        // Answer now; git may need retries, and the answer must not wait on them.
        if (worktree !== undefined) void this.janitor.release(worktree);
        return { type: 'error', reason: 'shutting-down', message: 'runner is shutting down' };
      }
      const token = this.ports.random.token();
      // Known before the child can post: a webhook that beats spawnDetached's answer is kept.
      this.earlyWebhooks.set(token, null);
      // Written ahead: a crash between the spawn and the child's record leaves its marker on disk.
      this.spawnIntents.add(marker);
      await this.persist();
      let ref: ProcessRef;
      try {
        ref = await this.ports.processes.spawnDetached({
          command: this.config.agentCommand,
          args: [...this.config.agentArgs, ...(key !== undefined ? ['--resume', key] : []), '--started-by', 'runner'],
          cwd,
          ...(key !== undefined ? { resumeSessionId: key } : {}),
          env: {
            [SPAWN_MARKER_ENV]: marker,
            [SPAWN_TOKEN_ENV]: token,
            [BOOT_ENV]: this.bootStamp,
            ...(this.config.ownerId !== undefined ? { [OWNER_ENV]: this.config.ownerId } : {}),
          },
        });
      } catch (error) {
        this.earlyWebhooks.delete(token);
        this.spawnIntents.delete(marker);
        if (worktree !== undefined) void this.janitor.release(worktree);
        return {
          type: 'error',
          reason: 'spawn-failed',
          message: `could not start ${this.config.agentCommand}: ${describeError(error)}`,
        };
      }

      const child: TrackedChild = { id, ref, marker, token, phase: 'booting', stopRequested: false, watched: false };
      if (key !== undefined) Object.assign(child, { resumeKey: key });
      this.children.set(id, child);
      this.spawnIntents.delete(marker); // the child's record names it from now on, in the same write
      if (worktree !== undefined) {
        // The child's record takes the worktree over from its intent, in the same write.
        Object.assign(child, { worktree });
        this.janitor.handOver(worktree);
      }
      void this.persist();
      this.ports.logger.log('info', 'spawned child', { pid: ref.pid, marker });
      // Its webhook may have come before spawnDetached resolved (a fast agent, a slow fork).
      const early = this.earlyWebhooks.get(token);
      this.earlyWebhooks.delete(token);

      return new Promise<SpawnResult>((resolve) => {
        child.answer = resolve;
        child.webhookTimer = this.ports.clock.setTimeout(
          () => this.onWebhookTimeout(child),
          this.config.webhookTimeoutMs,
        );
        child.watched = this.ports.processes.onExit(ref, (exit) => this.onRootExit(child, exit));
        if (!child.watched) this.ensurePolling();
        // A shutdown that came while we were spawning: this child is not wanted any more.
        if (this.shuttingDown) void this.teardown(child);
        else if (early !== undefined && early !== null) void this.sessionStarted(early);
      });
    } finally {
      this.starting.delete(starting);
      started();
    }
  }

  private settle(child: TrackedChild, result: SpawnResult): void {
    if (child.webhookTimer !== undefined) this.ports.clock.clearTimeout(child.webhookTimer);
    const answer = child.answer;
    delete child.answer;
    delete child.webhookTimer;
    answer?.(result);
  }

  private onWebhookTimeout(child: TrackedChild): void {
    if (child.phase !== 'booting') return;
    this.ports.logger.log('warn', 'webhook timeout: killing the child tree', { pid: child.ref.pid });
    // Forget it as a would-be session first, so its late webhook is ignored, then kill it.
    this.settle(child, {
      type: 'error',
      reason: 'timeout',
      message: `no session webhook within ${this.config.webhookTimeoutMs} ms; its process tree is being killed`,
      pid: child.ref.pid,
    });
    void this.teardown(child);
  }

  private onRootExit(child: TrackedChild, exit: ExitInfo): void {
    if (child.rootExit !== undefined) return;
    child.rootExit = exit;
    const how = exit.signal !== null ? `signal ${exit.signal}` : `code ${exit.code}`;
    if (child.phase === 'booting') {
      this.settle(child, {
        type: 'error',
        reason: 'exited',
        message: `the child exited (${how}) before its session webhook`,
        pid: child.ref.pid,
      });
    } else if (child.phase === 'session' && child.sessionId !== undefined) {
      this.ports.logger.log('info', 'session child exited', {
        sessionId: child.sessionId,
        pid: child.ref.pid,
        exit: how,
      });
    }
    // Its descendants may live on (re-parented to init): the tree is torn down either way.
    void this.teardown(child);
  }

  // ---- webhook ----------------------------------------------------------------------------

  async sessionStarted(body: unknown): Promise<void> {
    await this.ready;
    const parsed = SessionWebhookSchema.safeParse(body);
    if (!parsed.success) {
      this.ports.logger.log('warn', 'ignored malformed session webhook', { issues: parsed.error.issues.length });
      return;
    }
    const { sessionId, metadata } = parsed.data;
    const pid = metadata.hostPid;
    const child = [...this.children.values()].find((c) => c.ref.pid === pid);
    const token = metadata.spawnToken;
    if (child === undefined && token !== undefined && this.earlyWebhooks.get(token) === null) {
      // A child whose spawnDetached has not resolved yet: handled once the runner knows its PID.
      this.earlyWebhooks.set(token, parsed.data);
      return;
    }
    if (child !== undefined) {
      // The child's own token proves the webhook is its own (a reused PID's process cannot know
      // it), even when the child has exited since; without one, the PID's generation must match.
      const tokenMatches = child.token !== undefined && metadata.spawnToken === child.token;
      // Unread (/proc refused): not proven the same process, so not trusted by its PID either.
      if (!tokenMatches && sameProcess(this.ports.processes, child.ref) !== true) {
        this.ports.logger.log('warn', 'webhook names a PID that came round; ignored', { pid, sessionId });
        return;
      }
      if (child.token !== undefined && metadata.spawnToken !== child.token) {
        // Anyone local can post this webhook: only our child knows its token.
        this.ports.logger.log('warn', 'webhook names our child but lacks its spawn token; ignored', { pid, sessionId });
        return;
      }
      if (child.phase === 'booting') {
        child.phase = 'session';
        child.sessionId = sessionId;
        // A terminal that claimed this id first claimed our child's: one id, one entry in a list.
        this.external.delete(sessionId);
        void this.persist();
        this.settle(child, { type: 'success', sessionId, pid });
        return;
      }
      // A late webhook from a child being torn down, or a second one: never revives anything.
      this.ports.logger.log('info', 'webhook ignored', { pid, sessionId, phase: child.phase });
      return;
    }
    // Taken unless its PID is known free: an unread one may run (lists may name a session whose
    // process has ended since, but must not leave out one that runs).
    if (metadata.startedBy === 'terminal' && generationNow(this.ports.processes, pid) !== null) {
      if (this.sessionIdInUse(sessionId)) return;
      this.external.set(sessionId, { sessionId, pid, startedBy: 'terminal' });
      return;
    }
    // Unknown PID claiming to be ours: upstream SIGTERMed it (a forged webhook kills a stranger).
    // We only spawned what we track, so there is nothing here to signal.
    this.ports.logger.log('warn', 'webhook from a process this runner did not spawn; ignored', { pid, sessionId });
  }

  private sessionIdInUse(sessionId: string): boolean {
    return this.external.has(sessionId) || [...this.children.values()].some((c) => c.sessionId === sessionId);
  }

  // ---- stop -------------------------------------------------------------------------------

  async stopSession(sessionId: string): Promise<StopResult> {
    await this.ready;
    const child = [...this.children.values()].find((c) => c.sessionId === sessionId);
    if (child !== undefined && this.halted) {
      // Shut down: the runner signals nothing and tells the hub nothing more. A child still
      // tracked now is one whose tree survived SIGKILL through the shutdown.
      return { status: 'still_alive', message: 'the runner has shut down; this session survived SIGKILL' };
    }
    if (child !== undefined) {
      const stopping = child.phase === 'session' || child.stopRequested;
      if (child.phase === 'session') child.stopRequested = true;
      const outcome = await this.teardown(child);
      if (!treeGone(outcome)) return { status: 'still_alive', message: `the session's tree ${notGone(outcome)}` };
      if (stopping) {
        // The tree is gone: that is what "stopped" says. A slow or down hub must not delay it.
        void this.archive(sessionId);
        return { status: 'stopped' };
      }
      return { status: 'already_gone', message: 'the session had exited' };
    }
    if (this.tombstones.has(sessionId)) return { status: 'already_gone' };
    if (this.external.has(sessionId)) {
      this.external.delete(sessionId);
      return { status: 'still_alive', message: 'not spawned by this runner: forgotten, but not signalled' };
    }
    // Unknown id: we cannot prove anything is dead, so we fail closed (upstream #1308).
    return { status: 'still_alive', message: `unknown session ${sessionId}` };
  }

  private async archive(sessionId: string): Promise<void> {
    try {
      await this.ports.hub.archiveSession(sessionId);
    } catch (error) {
      this.ports.logger.log('warn', 'hub archive failed', { sessionId, error: describeError(error) });
    }
  }

  // ---- teardown ---------------------------------------------------------------------------

  /** Kills the child's whole tree; removes its worktree only once the tree is verified dead. */
  private teardown(child: TrackedChild, attempt = 0): Promise<KillOutcome> {
    if (child.teardown !== undefined) return child.teardown;
    if (child.retryTimer !== undefined) {
      // Tried now: the backed-off try is not needed (and must not outlive a shutdown's answer).
      this.ports.clock.clearTimeout(child.retryTimer);
      delete child.retryTimer;
    }
    if (this.halted) {
      // Shut down: no more signals. What still lives is reported, not touched.
      const alive = sameProcess(this.ports.processes, child.ref) !== false; // unread: it may live
      return Promise.resolve({ survivors: alive ? [{ ...child.ref, ppid: 0, pgid: child.ref.pid }] : [] });
    }
    if (child.phase === 'booting') {
      this.settle(child, {
        type: 'error',
        reason: 'shutting-down',
        message: 'the child was torn down',
        pid: child.ref.pid,
      });
    }
    child.phase = 'dying';
    void this.persist();
    const run = async (): Promise<KillOutcome> => {
      const outcome = await killTree(
        this.ports.processes,
        this.ports.clock,
        {
          root: child.ref,
          marker: child.marker,
          // Spawned by this life and its exit not heard of: its PID is still ours, read or not.
          rootIsOwnChild: () => child.watched && child.rootExit === undefined,
          sigkilledBefore: child.sigkilled,
        },
        this.config,
      );
      if (!treeGone(outcome)) {
        child.sigkilled = outcome.survivors;
        this.ports.logger.log('error', 'tree not verified dead; will retry', {
          pid: child.ref.pid,
          why: notGone(outcome),
        });
        delete child.teardown;
        if (attempt + 1 < MAX_TEARDOWN_RETRIES && !this.shuttingDown) {
          // Backing off: a process in D state may take minutes to leave the kernel.
          // A shutdown that begins meanwhile retries every tree itself, and awaits each retry.
          const wait = backoff(this.config.killGraceMs, attempt);
          child.retryTimer = this.ports.clock.setTimeout(() => {
            delete child.retryTimer;
            if (!this.shuttingDown) void this.teardown(child, attempt + 1);
          }, wait);
        }
        return outcome;
      }
      // The tree is verified dead: a stop can answer now; git may take its time (and retries).
      void this.release(child);
      return outcome;
    };
    child.teardown = run();
    return child.teardown;
  }

  /** After the tree is dead: its worktree goes, then the record; the session id is remembered. */
  private async release(child: TrackedChild): Promise<void> {
    if (child.sessionId !== undefined) this.tombstones.set(child.sessionId, child.rootExit ?? 'stopped');
    // A worktree git will not remove stays with the janitor, persisted for the next start.
    if (child.worktree !== undefined) await this.janitor.release(child.worktree);
    this.children.delete(child.id);
    void this.persist();
  }

  // ---- list, shutdown -----------------------------------------------------------------------

  async listSessions(): Promise<SessionInfo[]> {
    await this.ready;
    const own: SessionInfo[] = [];
    for (const child of this.children.values()) {
      if (child.phase === 'session' && child.sessionId !== undefined) {
        own.push({ sessionId: child.sessionId, pid: child.ref.pid, startedBy: 'runner' });
      }
    }
    return [...own, ...this.external.values()];
  }

  /**
   * Idempotent: a second shutdown (a second SIGTERM, a retried request) waits for the first. Two
   * would run two retry loops, and the later one's timers would outlive the first one's answer.
   */
  shutdown(): Promise<void> {
    return (this.shutdownDone ??= this.shutDownOnce());
  }

  private shutdownDone: Promise<void> | undefined;

  private async shutDownOnce(): Promise<void> {
    await this.ready;
    this.shuttingDown = true;
    // The orphans of an earlier life are the runner's too: the sweeps finish first.
    await this.orphansSwept;
    // Spawns under way register their child (and tear it down, seeing the flag) or give up.
    for (let rounds = 0; this.starting.size > 0 && rounds < 1_000; rounds++) await Promise.all([...this.starting]);
    const all = [...this.children.values()];
    for (const child of all) if (child.phase === 'session') child.stopRequested = true;
    let left = await this.teardownAll(all);
    // A tree that survived SIGKILL may only be slow to leave the kernel: it gets a few more
    // tries (about half a minute in all) before the answer gives up on it.
    for (let attempt = 0; left.length > 0 && attempt < SHUTDOWN_KILL_RETRIES; attempt++) {
      await sleep(this.ports.clock, backoff(this.config.killGraceMs, attempt));
      left = await this.teardownAll(left);
    }
    if (this.pollTimer !== undefined) this.ports.clock.clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    // Shut down means done: every worktree removal under way has finished (or been given up
    // on, persisted for the next start), recoveries waiting for an orphan to die decide now
    // (one that still lives keeps its worktree for the next start), and the last state write
    // has landed, before the answer.
    this.orphans.stop();
    await this.janitor.settled();
    // That wait can be long (a refused removal is retried with backoff): a tree given up on above
    // may have left the kernel meanwhile, and then its worktree can still go before the answer.
    if (left.length > 0) left = await this.teardownAll(left);
    // No signal from here on: a kill routine started now (by the exit notice of a root that left
    // the kernel late) would run on past the answer (S4). What still lives is reported, not touched.
    this.halted = true;
    await this.janitor.settled();
    await this.persist();
  }

  /** Tears every child down at once; resolves to those whose tree is not verified gone. */
  private async teardownAll(children: readonly TrackedChild[]): Promise<TrackedChild[]> {
    const outcomes = await Promise.all(children.map((child) => this.teardown(child)));
    return children.filter((_, i) => !treeGone(outcomes[i]!));
  }

  // ---- restart ------------------------------------------------------------------------------

  /** Picks up what a previous life of this runner left: adopt its sessions, tear down the rest. */
  private async recover(): Promise<void> {
    const { state, problem } = parsePersistedState(await this.ports.state.load());
    if (problem !== undefined) this.ports.logger.log('error', problem);
    this.boots = state.boots + 1;
    // Unique even when the state file (and with it the boot count) was lost.
    this.bootStamp = `b${this.boots}-${this.ports.random.token().slice(0, 12)}`;
    // A crash between "git worktree add" and the spawn's write, or a removal git refused: finish
    // it, once no orphan can still run in the worktree. Known now, so every write keeps it.
    let swept: (ok: boolean) => void = () => {};
    const sweepOver = new Promise<boolean>((resolve) => (swept = resolve));
    this.janitor.recover(state.worktreeIntents, async (worktree) => {
      if (!(await sweepOver)) return false;
      // Its owner's tree (the sweep killed it, or it survived SIGKILL) must be gone; an intent
      // from an older state file names no owner: every survivor must be gone then.
      return worktree.owner !== undefined ? this.orphans.treeGone(worktree.owner) : this.orphans.gone();
    });
    // The earlier life's spawn markers are this life's first, before anything is written: an
    // adoption writes the state at once, and a write without them, followed by a crash, would
    // leave the next life nothing to sweep (found with two restarts 5 ms apart).
    for (const marker of state.spawnIntents) this.spawnIntents.add(marker);
    // Every child known before any is torn down: a teardown writes the state at once, and a
    // write naming only some of them, followed by a crash, would lose the rest.
    const toTearDown = state.children.map((saved) => this.adopt(saved)).filter((c) => c !== undefined);
    for (const child of toTearDown) void this.teardown(child);
    // The earlier life's spawns under way at its crash: their children (if they started) die.
    const markerSweeps = state.spawnIntents.map((marker) => this.sweepMarker(marker));
    void this.persist();
    // Spawns wait for the sweep (one live tree per session); stops and lists need not.
    const adopted = [...this.children.values()];
    this.orphansSwept = Promise.all([
      this.orphans.sweep(
        // Always: a state file that is missing may be a first start, or one that was lost.
        true,
        this.config,
        this.bootStamp,
        adopted.map((c) => c.marker),
        problem !== undefined,
        adopted.map((c) => c.ref),
      ),
      ...markerSweeps,
    ]).then(
      () => swept(true),
      (error: unknown) => {
        this.ports.logger.log('error', 'orphan sweep failed', { error: describeError(error) });
        swept(false);
      },
    );
  }

  /** Kills whatever carries `marker` (a spawn of an earlier life with no record), as a dying child. */
  private async sweepMarker(marker: string): Promise<void> {
    this.spawnIntents.add(marker); // until its tree is gone, a restart must still find it
    for (let attempt = 1; attempt <= MARKER_SWEEP_TRIES; attempt++) {
      const outcome = await killMembers(
        this.ports.processes,
        this.ports.clock,
        () => this.ports.processes.findByEnv(SPAWN_MARKER_ENV, marker),
        this.config,
      );
      if (outcome.survivors.length > 0) {
        // In D state: a resume must not start while it lives (it may serve the same session).
        this.orphans.watch(outcome.survivors);
        return;
      }
      if (outcome.unverified === undefined) {
        this.spawnIntents.delete(marker);
        void this.persist();
        return;
      }
      // /proc could not be read at the end: whatever carries the marker may live on. Kill again.
      this.ports.logger.log('warn', 'spawn marker sweep not verified; sweeping again', {
        marker,
        why: outcome.unverified,
      });
    }
    // Still unread: the marker stays persisted, and the next start sweeps it.
  }

  /** Tracks a child of the earlier life; returns it when it must be torn down (the caller does). */
  private adopt(saved: PersistedChild): TrackedChild | undefined {
    const child: TrackedChild = {
      id: this.nextChildId++,
      ref: { pid: saved.pid, generation: saved.generation },
      marker: saved.marker,
      phase: saved.phase,
      stopRequested: false,
      watched: false,
      ...(saved.token !== undefined ? { token: saved.token } : {}),
    };
    if (saved.resumeKey !== undefined) Object.assign(child, { resumeKey: saved.resumeKey });
    if (saved.worktree !== undefined) Object.assign(child, { worktree: { ...saved.worktree } });
    if (saved.sessionId !== undefined) child.sessionId = saved.sessionId;
    this.children.set(child.id, child);
    // Unread (/proc refused): adopted as alive; the poll looks again, and a teardown now could
    // neither signal it (its identity unproven) nor be sure it is gone.
    const alive = sameProcess(this.ports.processes, child.ref) !== false;
    if (saved.phase === 'session' && alive) {
      // Not our child any more (we are a new process): its exit is found by polling.
      this.ensurePolling();
      return undefined;
    }
    // A booting child lost its requester; a dead root may have left descendants: tear down.
    child.phase = 'dying';
    return child;
  }

  private ensurePolling(): void {
    if (this.pollTimer !== undefined) return;
    this.pollTimer = this.ports.clock.setTimeout(() => this.poll(), this.config.pollIntervalMs * 10);
  }

  private poll(): void {
    this.pollTimer = undefined;
    let watching = false;
    for (const child of this.children.values()) {
      if (child.watched || child.phase === 'dying' || child.rootExit !== undefined) continue;
      // Unread (/proc refused): not an exit; looked at again on the next poll.
      if (sameProcess(this.ports.processes, child.ref) === false) {
        this.onRootExit(child, { code: null, signal: null });
      } else {
        watching = true;
      }
    }
    if (watching && !this.shuttingDown) this.ensurePolling();
  }

  // ---- persistence --------------------------------------------------------------------------

  private snapshot(): PersistedState {
    const children: PersistedChild[] = [];
    for (const c of this.children.values()) {
      const saved: PersistedChild = { pid: c.ref.pid, generation: c.ref.generation, marker: c.marker, phase: c.phase };
      if (c.token !== undefined) saved.token = c.token;
      if (c.sessionId !== undefined) saved.sessionId = c.sessionId;
      if (c.resumeKey !== undefined) saved.resumeKey = c.resumeKey;
      if (c.worktree !== undefined) saved.worktree = { ...c.worktree };
      children.push(saved);
    }
    return {
      version: 1,
      boots: this.boots,
      children,
      worktreeIntents: this.janitor.pending(),
      spawnIntents: [...this.spawnIntents],
    };
  }

  /**
   * Writes the state soon; writes never overlap and a burst of changes coalesces into one.
   * Settles once a write that includes this change has landed (or failed, logged).
   */
  private persist(): Promise<void> {
    const wanted = ++this.changes;
    if (!this.saveRunning) {
      this.saveRunning = true;
      this.saving = (async () => {
        try {
          while (this.saved < this.changes) {
            const upTo = this.changes;
            await this.ports.state.save(JSON.stringify(this.snapshot()));
            this.saved = upTo;
          }
        } catch (error) {
          this.saved = this.changes; // nobody waits for ever on a disk that fails
          this.ports.logger.log('error', 'could not save runner state', { error: describeError(error) });
        } finally {
          this.saveRunning = false;
        }
      })();
    }
    // The loop above runs until every change asked for so far, this one included, is written.
    return this.saving.then(() => {
      if (this.saved < wanted) throw new Error(`state write ${wanted} was never made`);
    });
  }

  /** Changes asked to be persisted, and how many of them a landed write covers. */
  private changes = 0;
  private saved = 0;
  private saveRunning = false;

  /** Settles when the state writes asked for so far have landed (or failed, logged). */
  private saving: Promise<void> = Promise.resolve();
}

/** How the kill routine's outcome says a tree is not gone, for an answer or a log. */
function notGone(outcome: KillOutcome): string {
  if (outcome.survivors.length > 0) return `survived SIGKILL (${outcome.survivors.length} process(es))`;
  return `could not be verified gone: /proc could not be read (${outcome.unverified ?? 'no reason given'})`;
}

/** killGrace, doubling per attempt, at most a minute. */
function backoff(baseMs: number, attempt: number): number {
  return Math.min(baseMs * 2 ** Math.min(attempt, 16), MAX_TEARDOWN_BACKOFF_MS);
}

export function createReferenceRunner(ports: RunnerPorts, config: RunnerConfig): Runner {
  return new ReferenceRunner(ports, config);
}
