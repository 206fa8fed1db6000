// The real world: the same scenarios and the same oracle, with real processes. The runner runs
// in this process over the Node adapters (instrumented, so the oracle sees every signal, spawn
// and worktree removal as it happens); its children are the real fake agent; worktrees are real
// `git worktree`s in a temporary repository; the hub is a loopback server. Durations scale by
// `timeScale`. Every process of the run carries RUNNER_CHAOS_RUN=<run id>; when the run ends
// (pass, fail, error or Ctrl-C) every such process still alive is killed, after its start time
// was checked, and reported. Nothing else is ever signalled.
import { asRunner } from '../broken-adapter.ts';
import { execFileSync, spawn } from 'node:child_process';
import { z } from 'zod';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunnerDefinition } from '../../runner/contract.ts';
import { killDeadlineMs, resolveRunnerConfig, type RunnerConfig } from '../../runner/config.ts';
import { findMarked, readStat, signalIfSame, type MarkedProcess } from '../../runner/node/proc.ts';
import { Oracle, quiescenceHorizonMs, type QuiescentWorld } from '../oracle.ts';
import type { ChildRecord } from '../records.ts';
import { RequestLog, type RunnerHandle } from '../request-log.ts';
import {
  agentPlanFor,
  stateAfterRestart,
  type DescendantPlan,
  type PidRef,
  type RestartState,
  type Scenario,
} from '../scenario.ts';
import { Trace, type TraceEvent } from '../trace.ts';
import { playScenario, resultOf, type PlayProgress, type RunResult, type World } from '../driver.ts';
import { HarnessServer } from './harness-server.ts';
import { BlackBoxLauncher, safeRead, type BlackBoxWorld, type RunnerInstance } from './black-box-launcher.ts';
import { instrumentedPorts, type InstrumentedWorld } from './instrumented-ports.ts';
import { readCmd, RunProcesses, type RealRoot } from './run-processes.ts';
import { UnreachableRunnerError, type ControlProfile } from './http-runner.ts';
import { fakeAgentPath } from './fake-agent-path.ts';
import { HOST_PIDS, nsPids, Sandbox, type PidSpace } from './sandbox.ts';

/** What runs the runner: its code in this process over the Node ports, or a command over HTTP. */
export type RunnerTarget =
  | { readonly kind: 'in-process'; readonly definition: RunnerDefinition }
  | { readonly kind: 'command'; readonly command: string; readonly profile: ControlProfile; readonly name: string };

import {
  BYSTANDER_MARKER_ENV as BYSTANDER_MARKER,
  RUN_MARKER_ENV as RUN_MARKER,
  RUN_PREFIX_ENV,
  SPAWN_INDEX_ENV,
  spawnIndexOfSession,
} from '../../runner/wire.mjs';

export { RUN_MARKER, BYSTANDER_MARKER };

/** How long (real ms) a runner may take to answer the final list before it counts as unanswered (L1). */
const FINAL_LIST_BOUND_MS = 10_000;
const QUIESCENCE_MARGIN_MS = 60_000;
/** An agent's webhook as the harness relays it to an in-process runner: each field if present. */
const RelayedWebhookSchema = z.looseObject({
  sessionId: z.string().optional(),
  metadata: z.looseObject({ hostPid: z.number().optional(), startedBy: z.string().optional() }).optional(),
});
/** Real ms an answer may take beyond the runner's deadlines: processes, HTTP and a loaded machine. */
const REAL_SLACK_MS = 1_000;
/** The most the slack is stretched for load (10 s of real slack at most). */
const MAX_LOAD_FACTOR = 10;

/**
 * How loaded the machine is as a run starts: runnable processes per core over the last minute
 * (at least 1, at most MAX_LOAD_FACTOR). Answer slack is multiplied by it.
 */
export function loadFactor(loadAverage = loadavg()[0] ?? 0, cores = availableParallelism()): number {
  return Math.min(MAX_LOAD_FACTOR, Math.max(1, loadAverage / Math.max(1, cores)));
}
/** Real ms a spawn may take to answer after its child exited before its webhook (#249's bound). */
const REAL_EXIT_SLACK_MS = 500;
/** How long a step waits for /proc discovery to see a child a runner has started. */
const DISCOVERY_WAIT_MS = 2_000;

export interface RealWorldOptions {
  /** Real milliseconds per scenario millisecond (0.002: a 60 minute boot takes 7.2 s). */
  readonly timeScale: number;
  /** Floors for the runner's kill timing in real milliseconds: real processes need time to die. */
  readonly minGraceMs?: number;
  /**
   * A black-box runner's own kill grace per process, in real milliseconds (default: its
   * profile's; hapi's is 3 s). No time scale shortens it, so L1's bounds add it on top.
   */
  readonly killGraceMs?: number;
  /** How long a runner command may take to write its state file (default 20 s). */
  readonly launchTimeoutMs?: number;
  /**
   * Run a runner command (and so all it starts) in a PID namespace of its own, whose PID 1 is a
   * canary: it can signal nothing outside the run. Black box only.
   */
  readonly sandbox?: boolean;
  /** Hears of every step played, and of the wait for quiescence. */
  readonly onProgress?: (progress: PlayProgress) => void;
  /**
   * Ctrl-C (or SIGTERM, SIGHUP) in the middle of the run: told what was killed and what the run
   * had seen, after clean-up and before the process exits as the signal would have.
   */
  readonly onInterrupt?: (interrupted: RealRunInterrupted) => void;
}

/** What an interrupted real run leaves to report. */
export interface RealRunInterrupted {
  readonly signal: NodeJS.Signals;
  readonly runner: string;
  /** Processes of the run the harness killed on its way out. */
  readonly killed: readonly { pid: number; cmd: string }[];
  /** The trace up to the interruption. */
  readonly trace: readonly TraceEvent[];
}

export interface RealRunResult extends RunResult {
  /** Processes of the run still alive when it ended, killed by the harness. */
  readonly killedAtEnd: readonly { pid: number; cmd: string }[];
  readonly bystanderSignals: number;
  readonly wallMs: number;
  /**
   * What went wrong on the harness's side (the runner unreachable, an agent that could not run,
   * a child killed before its agent started): the verdict proves nothing while any is set.
   */
  readonly harnessErrors: readonly string[];
  /**
   * Some of those errors say only that the machine was too slow for this time scale (an agent
   * judged before it had started): the same run at a slower scale may well prove something.
   */
  readonly tooSlowForTimeScale: boolean;
  /** How long (scenario ms) a stop may take to be answered here: the L1 bound it was judged by. */
  readonly stopBoundMs: number;
  /** Steps the run could not play as written, and why. */
  readonly notes: readonly string[];
  /** Every PID a forged webhook named, and what it was (always a process of the run). */
  readonly forged: readonly { names: string; pid: number }[];
  /** The runner command's output, last lines (black box only). */
  readonly runnerOutput?: string;
}

let runs = 0;

type Instance = RunnerInstance;

/** How the trace says the harness crashed a child (coverage.ts reads it). */
export const CRASH_LOG = 'harness: crashed the wrapper of';

/**
 * What a scenario can ask for that only the virtual world plays: a real run that is asked for one
 * says so in a note, rather than passing as if it had played it.
 */
const VIRTUAL_ONLY: ReadonlyArray<{ readonly asked: (scenario: Scenario) => boolean; readonly note: string }> = [
  {
    // A Node agent cannot make its /proc environ unreadable (that takes prctl or a setuid exec).
    asked: (s) => s.agent.unreadableEnviron === true || s.agents.some((a) => a?.unreadableEnviron === true),
    note: 'unreadableEnviron is played by the virtual world only: here every child can be found by its markers, so the run says nothing about a runner that can only find children that way',
  },
  {
    // Nor can the real world make the OS refuse a fork on cue,
    asked: (s) => s.world.spawnFaults.length > 0,
    note: 'spawnFaults is played by the virtual world only: here every spawn the OS allows goes through, so the run says nothing about what the runner does when fork fails',
  },
  {
    // the disk refuse the runner's state writes,
    asked: (s) => s.world.saveFaults.length > 0,
    note: 'saveFaults is played by the virtual world only: here every state write the disk allows goes through, so the run says nothing about what the runner does when one fails',
  },
  {
    // /proc refuse a scan,
    asked: (s) => s.world.scanFaults.length > 0,
    note: 'scanFaults is played by the virtual world only: here every /proc scan the kernel allows goes through, so the run says nothing about what the runner does when one fails',
  },
  {
    // or git refuse a call (its faults here are the real ones: a file in the way, a lock).
    asked: (s) => s.world.gitFaults.length > 0,
    note: 'gitFaults is played by the virtual world only: here every git call the repository allows goes through, so the run says nothing about what the runner does when git refuses',
  },
];

/** How often (real ms) the wait for quiescence looks whether the run is quiet. */
const QUIET_POLL_MS = 100;
/** An agent retries a refused webhook every second, five times (scenario ms, with a margin). */
const AGENT_RETRIES_MS = 6_000;

export class RealWorld implements World {
  readonly trace = new Trace(200_000);
  readonly oracle: Oracle;
  readonly children: ChildRecord<RealRoot>[] = [];
  readonly log: RequestLog;
  /** Unique per run; a test run sets RUNNER_CHAOS_RUN_PREFIX so it can find its own leftovers. */
  private readonly runId = `${process.env[RUN_PREFIX_ENV] ?? 'real'}-${process.pid}-${Date.now()}-${++runs}`;
  /** The run's repository, state, agent plan and logs; named after the run, removed at its end. */
  private readonly dir = mkdtempSync(join(tmpdir(), `runner-chaos-${this.runId}-`));
  readonly repo = join(this.dir, 'repo');
  private readonly server = new HarnessServer();
  private readonly runnerConfig: RunnerConfig;
  private readonly createdWorktrees = new Set<string>();
  private readonly announced = new Set<string>();
  private instance: Instance | undefined;
  private bystanders: Array<{ pid: number; starttime: string; log: string }> = [];
  private started = 0;
  /** The run's processes as /proc shows them. */
  readonly processes: RunProcesses;

  private readonly definition: Pick<RunnerDefinition, 'name' | 'declares'>;
  /** The black-box launcher, for a runner command. */
  private readonly launcher: BlackBoxLauncher | undefined;
  /** What went wrong on the harness's side: the run proves nothing, and says so (exit 2). */
  private readonly harnessErrors = new Set<string>();
  /** An agent was judged before it started: the time scale, not the runner or the harness, was wrong. */
  private tooSlow = false;
  /** What the run could not do as the scenario asked (a skipped step), shown with the result. */
  private readonly notes: string[] = [];
  private readonly forged: { names: string; pid: number }[] = [];
  private sandbox: Sandbox | undefined;
  /** The machine's load as the run started (loadFactor): the answer slack is stretched by it. */
  private readonly loadFactor = loadFactor();

  constructor(
    readonly scenario: Scenario,
    private readonly target: RunnerTarget,
    private readonly options: RealWorldOptions,
  ) {
    this.definition = target.kind === 'in-process' ? target.definition : { name: target.name, declares: [] };
    if (!(options.timeScale > 0 && options.timeScale <= 1))
      throw new Error(`time scale must be in (0, 1], got ${options.timeScale}`);
    const scaled = resolveRunnerConfig(scenario.runnerConfig);
    const floor = options.minGraceMs ?? 250;
    this.runnerConfig = {
      ...scaled,
      // A runner with a timeout of its own (happy's) has it whatever it is told.
      webhookTimeoutMs:
        target.kind === 'command' && target.profile.fixedWebhookTimeoutMs !== undefined
          ? target.profile.fixedWebhookTimeoutMs
          : this.real(scaled.webhookTimeoutMs),
      termGraceMs: Math.max(floor, this.real(scaled.termGraceMs)),
      killGraceMs: Math.max(floor, this.real(scaled.killGraceMs)),
      pollIntervalMs: Math.max(10, this.real(scaled.pollIntervalMs)),
      agentCommand: process.execPath,
      agentArgs: [fakeAgentPath()],
      // Every run its own owner: a runner sweeping its orphans must never find another run's
      // children (the soak found two runs on one machine doing just that with a shared id).
      ownerId: `owner-${this.runId}`.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 100),
    };
    // The oracle judges in scenario time: the effective (floored) timing, scaled back.
    const back = (ms: number): number => Math.ceil(ms / options.timeScale);
    this.oracle = new Oracle(
      {
        ...this.runnerConfig,
        webhookTimeoutMs: back(this.runnerConfig.webhookTimeoutMs),
        termGraceMs: back(this.runnerConfig.termGraceMs),
        killGraceMs: back(this.runnerConfig.killGraceMs),
        pollIntervalMs: back(this.runnerConfig.pollIntervalMs),
      },
      (v) => this.record({ kind: 'violation', atMs: this.now(), invariant: v.invariant, message: v.message }),
      // Real answers cross processes, HTTP and a loaded machine (two busy cores and a test suite
      // beside it): a real second of slack, and a black-box runner its own real-time kill graces
      // for the largest tree it may stop. #249's exit bound stays tight: half a real second.
      // Both scale with the machine's load as the run starts (a 2-core machine running ten
      // things stalls a process for over a real second: a false L1 at a fixed second).
      {
        answerSlackMs: Math.max(1_000, back(REAL_SLACK_MS * this.loadFactor + this.runnersOwnKillTimeMs())),
        exitAnswerBoundMs: Math.max(1_000, back(REAL_EXIT_SLACK_MS * this.loadFactor)),
      },
    );
    if (this.loadFactor > 1)
      this.notes.push(
        `the machine is loaded (${loadavg()[0]?.toFixed(1)} runnable per ${availableParallelism()} cores): answers get ${(REAL_SLACK_MS * this.loadFactor) / 1000} s of real slack instead of ${REAL_SLACK_MS / 1000} s`,
      );
    for (const { asked, note } of VIRTUAL_ONLY) if (asked(scenario)) this.notes.push(note);
    this.processes = new RunProcesses(this.runId, () => this.knownChildren());
    this.launcher = target.kind === 'command' ? new BlackBoxLauncher(this.blackBoxWorld(), target) : undefined;
    this.log = new RequestLog({
      now: () => this.now(),
      record: (event) => this.record(event),
      oracle: this.oracle,
      children: () => this.knownChildren(),
      live: () => this.processes.live(),
      // A runner process that cannot be reached answers nothing, as a crashed one does.
      isConnectionFailure: (error) => error instanceof UnreachableRunnerError,
    });
  }

  /** Real ms a black-box runner may take to stop the largest tree of the scenario, by its own clock. */
  private runnersOwnKillTimeMs(): number {
    if (this.target.kind !== 'command') return 0;
    const count = (nodes: readonly DescendantPlan[]): number =>
      nodes.reduce((n, node) => n + 1 + count(node.children ?? []), 0);
    const plans = [
      agentPlanFor(this.scenario, Number.MAX_SAFE_INTEGER),
      ...this.scenario.agents.map((_, i) => agentPlanFor(this.scenario, i)),
    ];
    const largest = Math.max(...plans.map((plan) => 1 + count(plan.tree)));
    return this.target.profile.stopAllowanceMs(largest, this.options.killGraceMs);
  }

  private real(scenarioMs: number): number {
    return Math.round(scenarioMs * this.options.timeScale);
  }

  /** Scenario milliseconds since the run started. */
  now(): number {
    return Math.round((performance.now() - this.started) / this.options.timeScale);
  }

  private record(event: TraceEvent): void {
    this.trace.add(event);
  }

  async play(): Promise<RealRunResult> {
    const wallStart = performance.now();
    // Ctrl-C, a plain `kill`, a closed terminal: clean up, then exit as the signal would have.
    const onSignal = (signal: NodeJS.Signals): void => {
      void this.cleanUp()
        .then((killed) =>
          this.options.onInterrupt?.({ signal, runner: this.definition.name, killed, trace: this.trace.events }),
        )
        .finally(() => process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGHUP' ? 1 : 15)));
    };
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    for (const signal of signals) process.once(signal, onSignal);
    // Whatever ends this process (an uncaught error, process.exit), no marked process outlives it.
    const lastChance = (): void => this.killMarkedSync();
    process.once('exit', lastChance);
    let killedAtEnd: { pid: number; cmd: string }[] = [];
    let bystanderSignals = 0;
    let runnerOutput: string | undefined;
    try {
      await playScenario(this, this.options.onProgress);
      this.reportRunnerDeath();
      this.reportPid1Signals();
      this.checkExercised();
    } finally {
      for (const signal of signals) process.removeListener(signal, onSignal);
      process.removeListener('exit', lastChance);
      bystanderSignals = this.bystanderSignals();
      runnerOutput =
        this.launcher !== undefined ? this.launcher.outputTail().replace(/^\n(its last output:\n)?/, '') : undefined;
      killedAtEnd = await this.cleanUp();
    }
    // The run's temporary directory is gone now: messages name paths inside it as <run-dir>/...
    const tidy = (text: string): string => text.replaceAll(this.dir, '<run-dir>');
    const result = resultOf(this.definition, this);
    return {
      ...result,
      violations: result.violations.map((v) => ({ ...v, message: tidy(v.message) })),
      trace: result.trace.map((e) =>
        e.kind === 'violation'
          ? { ...e, message: tidy(e.message) }
          : e.kind === 'worktree'
            ? { ...e, path: tidy(e.path) }
            : e.kind === 'process-start'
              ? { ...e, cwd: tidy(e.cwd) }
              : e,
      ),
      killedAtEnd,
      stopBoundMs: this.oracle.stopBoundMs,
      bystanderSignals,
      wallMs: performance.now() - wallStart,
      harnessErrors: [...this.harnessErrors],
      tooSlowForTimeScale: this.tooSlow,
      notes: this.notes,
      forged: this.forged,
      ...(runnerOutput !== undefined ? { runnerOutput } : {}),
    };
  }

  // ---- set-up and clean-up ------------------------------------------------------------------

  private async setUp(): Promise<void> {
    mkdirSync(this.repo, { recursive: true });
    const git = (...args: string[]): void => {
      execFileSync('git', ['-C', this.repo, ...args], {
        stdio: 'ignore',
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 'runner-chaos',
          GIT_AUTHOR_EMAIL: 'rc@localhost',
          GIT_COMMITTER_NAME: 'runner-chaos',
          GIT_COMMITTER_EMAIL: 'rc@localhost',
        },
      });
    };
    git('init', '-q');
    writeFileSync(join(this.repo, 'README'), 'a repository for worktrees\n');
    git('add', 'README');
    git('commit', '-q', '-m', 'initial');
    await this.server.start();
    const agentDir = join(this.dir, 'agent');
    mkdirSync(join(agentDir, 'claims'), { recursive: true });
    const plans = this.scenario.agents.map((_, i) => agentPlanFor(this.scenario, i));
    writeFileSync(
      join(agentDir, 'plan.json'),
      JSON.stringify({
        timeScale: this.options.timeScale,
        hubUrl: `${this.server.url}/hub`,
        webhookUrl: `${this.server.url}/runner/session-started`,
        defaultPlan: agentPlanFor(this.scenario, Number.MAX_SAFE_INTEGER),
        startedBy: this.target.kind === 'command' ? this.target.profile.startedBy : 'runner',
        plans,
      }),
    );
    this.server.onRegister = (row) => {
      const index = spawnIndexOfSession(row.sessionId);
      const child = index === undefined ? undefined : this.children[index];
      if (child !== undefined) child.reportedAt ??= this.now();
      this.record({ kind: 'hub', atMs: this.now(), op: 'register', sessionId: row.sessionId });
    };
    this.server.onWebhook = (body) => {
      // Read for the trace only, leniently (the runner judges the body itself): what is not there stays unknown.
      const seen = RelayedWebhookSchema.safeParse(body);
      const parsed = seen.success ? seen.data : {};
      const child = this.children.find((c) => c.root.pid === parsed.metadata?.hostPid && c.root.alive);
      if (child !== undefined) {
        child.reportedAt ??= this.now();
        if (this.instance?.alive === true) child.webhookAt ??= this.now();
      }
      this.record({
        kind: 'webhook',
        atMs: this.now(),
        pid: parsed.metadata?.hostPid ?? 0,
        sessionId: parsed.sessionId ?? '(none)',
        startedBy: parsed.metadata?.startedBy ?? '(none)',
        forged: false,
      });
      void this.instance?.runner?.sessionStarted(body).catch(() => {});
    };
    this.started = performance.now();
    if (this.target.kind === 'command' && this.options.sandbox === true) {
      this.sandbox = await Sandbox.open(
        this.dir,
        { ...process.env, [RUN_MARKER]: this.runId },
        { name: RUN_MARKER, value: this.runId },
      );
      this.server.pidToHost = (pid) => this.pidSpace().toHost(pid);
      // The runner can reach nothing outside: the canary it could hit must be inside with it.
      await this.spawnBystander();
    }
    if (this.scenario.world.bystander) await this.spawnBystander();
    await this.startRunner();
  }

  /** The synchronous part of the clean-up, for a process that is exiting: SIGKILL what is marked. */
  private killMarkedSync(): void {
    for (const p of [...findMarked(RUN_MARKER, this.runId), ...findMarked(BYSTANDER_MARKER, this.runId)])
      signalIfSame(p.pid, p.starttime, 'SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Kills every process of this run still alive (start time checked first), and reports each. */
  private async cleanUp(): Promise<{ pid: number; cmd: string }[]> {
    this.launcher?.stop();
    if (this.instance !== undefined) {
      this.instance.alive = false;
      this.instance.clock?.clearAll();
    }
    const killed: { pid: number; cmd: string }[] = [];
    for (let round = 0; round < 5; round++) {
      const marked = [...findMarked(RUN_MARKER, this.runId), ...findMarked(BYSTANDER_MARKER, this.runId)];
      if (marked.length === 0) break;
      const ofAChild = (p: MarkedProcess): boolean =>
        p.env.has(SPAWN_INDEX_ENV) ||
        this.children.some((c) => c?.root.pid === p.pid && c.root.generation === p.starttime);
      // The children's processes first, one by one and reported; then the rest (the runner, its
      // loader, a sandbox's PID 1, whose death would take the children along unreported).
      marked.sort((a, b) => Number(ofAChild(b)) - Number(ofAChild(a)));
      for (const p of marked) {
        // Only the children's trees are reported; a launched runner's own processes (its
        // package manager, its loader, itself) are just stopped.
        const leak = round === 0 && p.env.get(RUN_MARKER) === this.runId && ofAChild(p);
        const cmd = leak ? readCmd(p.pid) : '';
        if (signalIfSame(p.pid, p.starttime, 'SIGKILL') && leak) killed.push({ pid: p.pid, cmd });
      }
      await sleep(50);
    }
    await this.server.stop();
    rmSync(this.dir, { recursive: true, force: true });
    return killed;
  }

  // ---- steps ------------------------------------------------------------------------------------

  // ---- the World the driver plays (simulator/driver.ts) ------------------------------------------

  runner(): RunnerHandle | undefined {
    return this.instance;
  }

  async start(): Promise<void> {
    await this.setUp();
  }

  async advance(ms: number): Promise<void> {
    await sleep(this.real(ms));
  }

  /**
   * The wait for quiescence, ended early once the run is quiet on two looks a poll apart: an
   * in-process runner with every request answered, no timer and no port call pending, and every
   * live child's agent done with its plan (boot, webhook, a second webhook, its own exit, and
   * the retries of a refused webhook). A black-box runner's timers cannot be seen: it waits out
   * the horizon.
   */
  async advanceUntilQuiet(ms: number): Promise<void> {
    const until = performance.now() + this.real(ms);
    let quietLooks = 0;
    // Bounded by the horizon: one poll at a time.
    while (performance.now() < until) {
      await sleep(Math.max(1, Math.min(QUIET_POLL_MS, until - performance.now())));
      quietLooks = this.isQuiet() ? quietLooks + 1 : 0;
      if (quietLooks >= 2) return;
    }
  }

  private isQuiet(): boolean {
    const instance = this.instance;
    if (this.target.kind !== 'in-process' || instance?.alive !== true || instance.clock === undefined) return false;
    if (instance.clock.pending() > 0 || (instance.inFlight ?? 0) > 0) return false;
    if (this.log.requests.some((r) => r.answeredAt === undefined)) return false;
    // One /proc scan, by environment only (every in-process child carries its index): no cwd reads in a poll.
    const living = new Set(this.processes.all().map((p) => Number(p.env.get(SPAWN_INDEX_ENV) ?? -1)));
    const now = this.now();
    // Judged on what each agent did, not on when it was spawned: a loaded machine starts an
    // agent late, and its plan's clock starts only then.
    return this.knownChildren().every((child) => {
      if (!living.has(child.index)) return true;
      const plan = child.plan;
      if (plan.exitAfterMs !== undefined) return false; // it will exit by itself: not over yet
      if (plan.webhook === 'never') return true; // it lives on and says nothing more
      if (child.reportedAt === undefined) return false;
      return now >= child.reportedAt + (plan.webhook === 'twice' ? 1_000 : 0) + AGENT_RETRIES_MS;
    });
  }

  /** A moment for what a step set off to reach the OS before the next step. */
  async settle(): Promise<void> {
    await sleep(5);
  }

  async crash(spawn: number, wholeTree: boolean): Promise<void> {
    const child = this.children[spawn];
    if (child === undefined) return;
    const tree = this.processes.live().filter((p) => p.spawnIndex === child.index);
    const victims = wholeTree ? tree : [];
    child.root.crashedByWorld = true;
    // Said in the trace, so that a scenario can tell it crashed a wrapper with an agent running on.
    const descendants = tree.filter((p) => p.pid !== child.root.pid).length;
    this.record({
      kind: 'log',
      atMs: this.now(),
      level: 'info',
      message: `${CRASH_LOG} child #${child.index}${wholeTree ? ' (whole tree)' : ''}, ${descendants} descendant(s) alive`,
    });
    if (child.root.alive) signalIfSame(child.root.pid, child.root.generation, 'SIGKILL');
    for (const v of victims) signalIfSame(v.pid, v.starttime, 'SIGKILL');
  }

  async forgeWebhook(ref: PidRef, sessionId: string, startedByAsked: 'runner' | 'terminal'): Promise<void> {
    // Only ever a PID this run owns, checked to still be that process: a runner may signal
    // whatever a webhook names, and a wrong guess here could be the machine's init.
    const target = await this.ownedPid(ref);
    if (target === undefined) {
      this.notes.push(
        `forge-webhook naming ${JSON.stringify(ref)} skipped: no process of this run is that (a forged webhook never names a PID the run does not own)`,
      );
      this.record({
        kind: 'log',
        atMs: this.now(),
        level: 'warn',
        message: `harness: forged webhook naming ${JSON.stringify(ref)} skipped: not a process of this run`,
      });
      return;
    }
    // In the sandbox the runner knows the PID as it is inside.
    const named = this.sandbox !== undefined ? nsPids(target)?.at(-1) : target;
    if (named === undefined) return;
    this.forged.push({ names: Object.keys(ref)[0] ?? '?', pid: target });
    // Traced as this machine knows the process; sent as the runner knows it.
    this.record({ kind: 'webhook', atMs: this.now(), pid: target, sessionId, startedBy: startedByAsked, forged: true });
    if (startedByAsked === 'terminal') this.oracle.onTerminalWebhook(sessionId);
    // 'runner' is said in the runner's own words ('daemon' for happy).
    const startedBy =
      startedByAsked === 'runner' && this.target.kind === 'command' ? this.target.profile.startedBy : startedByAsked;
    void this.instance?.runner?.sessionStarted({ sessionId, metadata: { hostPid: named, startedBy } }).catch(() => {});
  }

  /** The OS hands out PIDs: a stranger cannot be made to take a given one here. */
  async bystander(_reusePidOf: number | undefined): Promise<void> {
    await this.spawnBystander();
  }

  async restart(state: RestartState, downMs = 0): Promise<void> {
    await this.restartRunner(state, downMs);
  }

  quiescenceHorizonMs(): number {
    const scale = this.options.timeScale;
    return quiescenceHorizonMs(
      this.knownChildren().map((c) => c.plan),
      agentPlanFor(this.scenario, this.children.length),
      {
        webhookTimeoutMs: this.runnerConfig.webhookTimeoutMs / scale,
        killDeadlineMs: killDeadlineMs(this.runnerConfig) / scale,
        marginMs: QUIESCENCE_MARGIN_MS,
      },
    );
  }

  /**
   * Until the final list is answered, polled every 20 ms, or FINAL_LIST_BOUND_MS of real time:
   * a loaded machine can stall a runner's event loop for most of a second (a fixed 200 ms
   * made a correct runner "not answer" under load: a false L1).
   */
  async awaitFinalList(answered: () => boolean): Promise<void> {
    for (let waited = 0; !answered() && waited < FINAL_LIST_BOUND_MS; waited += 20) await sleep(20);
  }

  groundTruth(): Omit<QuiescentWorld, 'listed' | 'requests' | 'now'> {
    const live = this.processes.live();
    // A process the run first sees now (a descendant nobody signalled, forked after the last
    // scan) is shown starting here, so that a leak the report names has a line in the timeline.
    for (const p of live) {
      const key = `${p.pid}:${p.starttime}`;
      // A child's root was shown when it was spawned (by the ports, or the black-box launcher).
      if (p.role === 'wrapper' || this.announced.has(key)) continue;
      this.announced.add(key);
      const stat = readStat(p.pid);
      this.record({
        kind: 'process-start',
        atMs: this.now(),
        pid: p.pid,
        generation: p.starttime,
        ppid: stat?.ppid ?? 0,
        pgid: stat?.pgid ?? 0,
        role: 'descendant',
        ...(p.spawnIndex !== undefined && p.spawnIndex >= 0 ? { spawnIndex: p.spawnIndex } : {}),
        cwd: p.cwd,
        firstSeen: true,
      });
    }
    return {
      children: this.knownChildren(),
      liveProcesses: live,
      hubActive: this.server.active().map((r) => r.sessionId),
      worktrees:
        this.target.kind === 'command'
          ? this.gitWorktrees() // a black box makes its worktrees itself: git knows them all
          : [...this.createdWorktrees].filter((path) => existsSync(path) || this.gitKnows(path)),
    };
  }

  /** Every worktree of the run's repository but the repository itself, as `git worktree list` has them. */
  private gitWorktrees(): string[] {
    try {
      const listed = execFileSync('git', ['-C', this.repo, 'worktree', 'list', '--porcelain'], { encoding: 'utf8' });
      return [...listed.matchAll(/^worktree (.+)$/gm)].map((m) => m[1]!).filter((path) => path !== this.repo);
    } catch {
      return [];
    }
  }

  /**
   * The PID a step names, if it is a live process this run started (a child, the bystander, the
   * runner itself), waiting a bounded time for a child that /proc discovery has not seen yet.
   * Never a fallback: undefined when there is none.
   */
  private async ownedPid(ref: PidRef): Promise<number | undefined> {
    const same = (p: { pid: number; starttime: string } | undefined): number | undefined =>
      p !== undefined && p.pid > 1 && readStat(p.pid)?.starttime === p.starttime ? p.pid : undefined;
    if ('pid' in ref) return undefined; // a literal PID belongs to whoever holds it on this machine
    if ('runner' in ref) {
      if (this.target.kind === 'in-process') return process.pid; // our own process: the A2 gate blocks any signal to it
      return same(this.instance?.runnerPid);
    }
    if ('bystander' in ref) {
      const bystander = this.bystanders.at(-1) ?? (await this.spawnBystander());
      return same(bystander);
    }
    for (let waited = 0; waited <= DISCOVERY_WAIT_MS; waited += 20) {
      const root = this.children[ref.spawn]?.root;
      if (root !== undefined && root.pid > 0)
        return root.alive ? same({ pid: root.pid, starttime: root.generation }) : undefined;
      this.launcher?.discoverChildren();
      await sleep(20);
    }
    return undefined;
  }

  /** Starts a canary that writes down every signal it gets, and waits until it listens. */
  private async spawnBystander(): Promise<{ pid: number; starttime: string; log: string }> {
    const log = join(this.dir, `bystander-${this.bystanders.length}.log`);
    const canary = `const fs=require('fs');for(const s of ['SIGTERM','SIGHUP','SIGINT','SIGUSR1'])process.on(s,()=>fs.appendFileSync(${JSON.stringify(log)},s+'\\n'));fs.writeFileSync(${JSON.stringify(log)},'');setInterval(()=>{},1<<30);`;
    const env = { ...process.env, [BYSTANDER_MARKER]: this.runId };
    const child =
      this.sandbox !== undefined
        ? this.sandbox.spawnInside(process.execPath, ['-e', canary], { env, stdio: 'ignore' })
        : spawn(process.execPath, ['-e', canary], { detached: true, stdio: 'ignore', env });
    child.unref();
    for (let tries = 0; tries < 250 && !existsSync(log); tries++) await sleep(20);
    // In the sandbox the canary is nsenter's child: the process in the namespace with our marker and that log.
    const pid =
      this.sandbox === undefined
        ? (child.pid ?? 0)
        : (findMarked(BYSTANDER_MARKER, this.runId).find(
            (p) => (nsPids(p.pid)?.length ?? 0) > 1 && !this.bystanders.some((b) => b.pid === p.pid),
          )?.pid ?? 0);
    const bystander = { pid, starttime: readStat(pid)?.starttime ?? '', log };
    this.bystanders.push(bystander);
    this.record({
      kind: 'process-start',
      atMs: this.now(),
      pid,
      generation: bystander.starttime,
      ppid: process.pid,
      pgid: pid,
      role: 'bystander',
      cwd: process.cwd(),
    });
    return bystander;
  }

  private bystanderSignals(): number {
    let count = 0;
    for (const b of this.bystanders) {
      if (existsSync(b.log)) count += readFileSync(b.log, 'utf8').split('\n').filter(Boolean).length;
      if (readStat(b.pid)?.starttime !== b.starttime) {
        this.oracle.report('A2', `bystander pid ${b.pid} died during the run`, this.now());
      }
    }
    if (count > 0) this.oracle.report('A2', `bystanders received ${count} signal(s)`, this.now());
    return count;
  }

  // ---- requests ---------------------------------------------------------------------------------

  // ---- the runner ---------------------------------------------------------------------------------

  private async startRunner(): Promise<void> {
    const instance: Instance = { alive: true };
    this.instance = instance;
    if (this.target.kind === 'command') {
      await this.launcher!.launch(instance);
      return;
    }
    const ports = instrumentedPorts(this.instrumented(), instance);
    instance.clock = ports.clock;
    this.record({ kind: 'runner', atMs: this.now(), op: 'start', pid: process.pid });
    this.oracle.onRunnerStart();
    instance.runner = asRunner(
      this.target.definition.name,
      await this.target.definition.create(ports, this.runnerConfig),
    );
  }

  /** What the black-box launcher reads and reports to. */
  private blackBoxWorld(): BlackBoxWorld {
    const world = this;
    return {
      runId: this.runId,
      dir: this.dir,
      scenario: this.scenario,
      get serverUrl() {
        return world.server.url;
      },
      webhookTimeoutMs: this.runnerConfig.webhookTimeoutMs,
      options: this.options,
      children: this.children,
      oracle: this.oracle,
      processes: this.processes,
      instance: () => this.instance,
      sandbox: () => this.sandbox,
      pidSpace: (processes) => this.pidSpace(processes),
      knownChildren: () => this.knownChildren(),
      attribute: (child) => this.log.attribute(child, child.root.cwd !== this.repo),
      now: () => this.now(),
      record: (event) => this.record(event),
      harnessError: (message) => void this.harnessErrors.add(message),
    };
  }

  /** What the instrumented ports of an in-process runner report to. */
  private instrumented(): InstrumentedWorld {
    return {
      scenario: this.scenario,
      runId: this.runId,
      repo: this.repo,
      statePath: join(this.dir, 'state', 'runner.json'),
      hubUrl: this.server.url,
      agentDir: join(this.dir, 'agent'),
      agent: { command: this.runnerConfig.agentCommand, args: this.runnerConfig.agentArgs },
      children: this.children,
      oracle: this.oracle,
      log: this.log,
      processes: this.processes,
      createdWorktrees: this.createdWorktrees,
      bystanders: this.bystanders,
      announced: this.announced,
      now: () => this.now(),
      record: (event) => this.record(event),
    };
  }

  /** The children seen so far (a black-box runner's may be found out of order: no holes here). */
  knownChildren(): ChildRecord<RealRoot>[] {
    return this.children.filter((c): c is ChildRecord<RealRoot> => c !== undefined);
  }

  private async restartRunner(state: RestartState = 'kept', downMs = 0): Promise<void> {
    const old = this.instance;
    if (old !== undefined) {
      old.alive = false;
      old.clock?.clearAll();
      // A launched runner is SIGKILLed with its process group (it leads it; identity checked).
      if (old.process !== undefined && readStat(old.process.pid)?.starttime === old.process.starttime) {
        process.kill(-old.process.pid, 'SIGKILL');
      }
      this.record({ kind: 'runner', atMs: this.now(), op: 'crash', pid: old.process?.pid ?? process.pid });
      this.log.dropOpen('connection reset: the runner crashed');
    }
    // The in-process runner's state file is ours to damage; a runner command keeps its own.
    const stateFile = join(this.dir, 'state', 'runner.json');
    const left = stateAfterRestart(state);
    if (typeof left === 'string' && this.target.kind === 'in-process') {
      mkdirSync(join(this.dir, 'state'), { recursive: true }); // the runner may not have written one yet
      writeFileSync(stateFile, left);
    }
    if (left === null && this.target.kind === 'in-process') rmSync(stateFile, { force: true });
    if (downMs > 0) await this.advance(downMs); // down for a while: the world goes on without it
    await this.startRunner();
  }

  // ---- after the scenario: what the harness itself saw ----------------------------------------------

  /** The sandbox's PID 1 is a canary: any signal it got would have gone to the machine's init. */
  private reportPid1Signals(): void {
    const got = this.sandbox?.pid1Signals() ?? [];
    if (got.length > 0)
      this.oracle.report(
        'A2',
        `the runner signalled PID 1 (${got.join(', ')}): outside the sandbox, that is the machine's init`,
        this.now(),
      );
  }

  /** PIDs as the runner sees them and as this machine does. */
  private pidSpace(processes?: readonly { pid: number }[]): PidSpace {
    return this.sandbox?.pidSpace(processes) ?? HOST_PIDS;
  }

  /**
   * A black-box runner that died on its own. Right after a forged webhook named its own PID, it
   * signalled itself on a stranger's word (A2: hapi's orphan path SIGTERMs, then SIGKILLs, the
   * PID a "runner" webhook names); otherwise it crashed, and what it left unanswered is L1.
   */
  private reportRunnerDeath(): void {
    const died = this.instance?.exitedOnItsOwn;
    if (died === undefined) return;
    const runnerPid = this.instance?.runnerPid?.pid;
    const forged = this.trace.events.find(
      (e) => e.kind === 'webhook' && e.forged && e.pid === runnerPid && e.atMs <= died.atMs,
    );
    if (forged !== undefined) {
      this.oracle.report(
        'A2',
        `the runner (pid ${runnerPid}) died (${died.how}) ${died.atMs - forged.atMs} ms after a forged webhook named its own PID: it signalled the PID a stranger named`,
        died.atMs,
      );
    } else {
      this.oracle.report(
        'L1',
        `the runner command exited on its own (${died.how}) during the scenario, while nobody had asked it to: every request after that went unanswered`,
        died.atMs,
      );
    }
  }

  /**
   * Fail closed: a child whose agent never started (it could not run, or the runner killed it
   * before it did) did not exercise the plan the scenario gave it, so the verdict would rest on
   * nothing. So does a scenario that asked for spawns and saw no agent at all.
   */
  private checkExercised(): void {
    const claims = join(this.dir, 'agent', 'claims');
    for (const child of this.knownChildren()) {
      if (existsSync(join(claims, `${child.index}.up`))) continue;
      const error = safeRead(join(claims, `${child.index}.error`)).split('\n')[0];
      if (error !== undefined && error !== '') {
        this.harnessErrors.add(`the fake agent of child #${child.index} (pid ${child.root.pid}) failed: ${error}`);
      } else if (child.root.notTheAgent !== undefined) {
        this.harnessErrors.add(
          `child #${child.index} (pid ${child.root.pid}) never came up: the runner started \`${child.root.notTheAgent}\`, not its config's agent (agentCommand ${this.runnerConfig.agentCommand} with agentArgs ${JSON.stringify(this.runnerConfig.agentArgs)}), so no agent ran; start config.agentCommand with config.agentArgs first`,
        );
      } else if (child.root.alive) {
        this.tooSlow = true;
        this.harnessErrors.add(
          `the fake agent of child #${child.index} (pid ${child.root.pid}) never started (still not up at the end): the machine is too slow for this time scale; raise --time-scale`,
        );
      } else if (child.root.signalledByRunner === true) {
        // The pace was wrong only if the runner first waited out most of its webhook timeout: a
        // runner that kills a child at once is not helped by a slower time scale.
        const timeoutMs = this.runnerConfig.webhookTimeoutMs / this.options.timeScale;
        const waitedMs = (child.root.signalledAt ?? child.root.exitedAt ?? Number.POSITIVE_INFINITY) - child.spawnedAt;
        const paced = waitedMs >= timeoutMs / 2;
        if (paced) this.tooSlow = true;
        this.harnessErrors.add(
          `child #${child.index} (pid ${child.root.pid}) was killed by the runner before its agent had started, so its plan was not exercised: ` +
            (paced
              ? "the runner's webhook timeout is too short against an agent's start-up at this time scale; raise --time-scale"
              : `the runner signalled it ${Math.round(waitedMs)} ms (scenario time) after starting it, well within its webhook timeout of ${Math.round(timeoutMs)} ms: a runner that kills its agents before they can start leaves nothing to judge`),
        );
      } else if (child.root.crashedByWorld !== true) {
        this.harnessErrors.add(
          `the fake agent of child #${child.index} (pid ${child.root.pid}) exited before it started, of nothing the scenario asked for: it could not run here`,
        );
      }
    }
    const spawns = this.log.requests.filter((r) => r.op === 'spawn');
    // A black box's answer may name a child the harness never saw: one killed before its agent
    // could even claim it (a loaded machine starts Node slowly). Nothing of it was judged, so
    // the run proves nothing about it; when the runner had waited out its timeout, the pace was
    // wrong (played again slower).
    if (this.launcher !== undefined) {
      const seen = new Set(this.knownChildren().map((c) => c.root.pid));
      for (const request of spawns) {
        const answer = request.answer;
        if (answer === undefined || !('result' in answer) || answer.op !== 'spawn') continue;
        const pid = answer.result.pid;
        if (pid === undefined || pid <= 0 || seen.has(pid)) continue;
        if (answer.result.type === 'error' && answer.result.reason === 'timeout') this.tooSlow = true;
        this.harnessErrors.add(
          `spawn request #${request.id} was answered naming pid ${pid}, a child the harness never saw start (its agent never came up to claim it): the machine is too slow for this time scale; raise --time-scale`,
        );
      }
    }
    // A runner that died on its own is the finding (reportRunnerDeath: A2 or L1), and what it then
    // refused is explained by it: not the harness's failure to run the scenario.
    // (The harness learns of the death when the command's process is reaped, which can come after
    // a refused request: any death on its own explains the refusals.)
    const diedOnItsOwn = this.instance?.exitedOnItsOwn !== undefined;
    if (spawns.length > 0 && this.knownChildren().length === 0 && !diedOnItsOwn) {
      const first = spawns.find((r) => r.answer !== undefined)?.answer;
      this.harnessErrors.add(
        `the runner started no agent for ${spawns.length} spawn request(s)${first !== undefined ? `; the first answer was ${JSON.stringify('result' in first ? first.result : 'failure' in first ? first.failure : first).slice(0, 300)}` : ''}`,
      );
    }
  }

  private gitKnows(path: string): boolean {
    try {
      return execFileSync('git', ['-C', this.repo, 'worktree', 'list', '--porcelain'], { encoding: 'utf8' }).includes(
        `worktree ${path}\n`,
      );
    } catch {
      return false;
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function runReal(
  definition: RunnerDefinition,
  scenario: Scenario,
  options: RealWorldOptions,
): Promise<RealRunResult> {
  return new RealWorld(scenario, { kind: 'in-process', definition }, options).play();
}

/** A black-box runner: a command that speaks the control protocol of `profile`. */
export async function runRealCommand(
  command: string,
  profile: ControlProfile,
  scenario: Scenario,
  options: RealWorldOptions,
  name = 'http-runner',
): Promise<RealRunResult> {
  return new RealWorld(scenario, { kind: 'command', command, profile, name }, options).play();
}
