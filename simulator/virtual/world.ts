// The virtual world: a runner driven through its ports over a deterministic model of processes,
// git worktrees, the hub and time. It plays a scenario step by step, records the trace, and lets
// the oracle watch every event. No wall clock, no Math.random, no real I/O.
import type { Runner, RunnerDefinition } from '../../runner/contract.ts';
import { resolveRunnerConfig, killDeadlineMs, type RunnerConfig } from '../../runner/config.ts';
import { HostError, type Signal, type SpawnSpec } from '../../runner/ports.ts';
import {
  agentPlanFor,
  stateAfterRestart,
  type PidRef,
  type RestartState,
  type Scenario,
  type ScanFault,
} from '../scenario.ts';
import { Trace, type TraceEvent } from '../trace.ts';
import { WorldLimitError } from '../world-limit.ts';
import { traceCapacityFor } from './world-size.ts';
import { Oracle, quiescenceHorizonMs, type QuiescentWorld } from '../oracle.ts';
import type { World } from '../driver.ts';
import { EventQueue, type EventHandle } from './event-queue.ts';
import { ProcessTable, type VProcess } from './process-table.ts';
import { HubModel } from './hub-model.ts';
import { WorktreeModel } from './worktree-model.ts';
import type { WorktreeFsFactory } from './worktree-fs.ts';
import { runsCode, startFakeAgent } from './fake-agent.ts';
import { Rng } from './rng.ts';
import { ioAllowanceMs, Latencies } from './latency.ts';
import type { ChildRecord } from '../records.ts';
import { RequestLog, type RunnerHandle } from '../request-log.ts';
import { sessionIdOf } from '../../runner/wire.mjs';

import { RUN_MARKER_ENV } from '../../runner/wire.mjs';
import { broken } from '../assert.ts';
import { asRunner, BrokenAdapterError } from '../broken-adapter.ts';
import { virtualPorts, type VirtualPortsWorld, type VirtualRunnerLife } from './virtual-ports.ts';
import { childResume } from '../resume-key.ts';
import { injectedRefusal, plannedFault } from './planned-fault.ts';

export { RUN_MARKER_ENV };
export const REPO_PATH = '/work/repo';
/** Events the world runs per trace event it has room for: timers, deaths, I/O completions. */
const EVENTS_PER_TRACE_EVENT = 2.5;
/** Beyond every boot, timeout and kill deadline, how long the world waits for things to settle. */
export const QUIESCENCE_MARGIN_MS = 10 * 60_000;

/** The runner's process, and the ports handed to it; fenced off when it crashes. */
interface RunnerInstance extends VirtualRunnerLife {
  readonly index: number;
  runner?: Runner;
}

/**
 * Lets every promise continuation inside the runner run before the world moves on. Node runs a
 * nextTick callback only once the microtask queue is empty, so this resolves after everything
 * the runner had (transitively) queued, without a trip through the event loop.
 */
const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const drain = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));

/** How a virtual world is built, beyond its scenario. */
export interface VirtualWorldOptions {
  /** The filesystem under the worktree model (default memfs; the bench also measures a Map). */
  readonly worktreeFs?: WorktreeFsFactory;
}

export class VirtualWorld implements World {
  readonly trace: Trace;
  /** How many events the world runs before it calls the run unsettled: sized from the scenario. */
  private readonly maxEvents: number;
  readonly config: RunnerConfig;
  readonly oracle: Oracle;
  readonly table: ProcessTable;
  readonly hub = new HubModel();
  readonly worktrees: WorktreeModel;
  readonly children: ChildRecord<VProcess>[] = [];
  readonly log: RequestLog;
  /** Virtual milliseconds since the world started. */
  private time = 0;
  /** With a tieOrder: how many events were due together at each instant with two or more, and which ran first. */
  private readonly tiesSeen: number[] = [];
  private readonly tiesTaken: number[] = [];
  readonly repo = REPO_PATH;
  private readonly queue: EventQueue;
  private instance: RunnerInstance | undefined;
  private instances = 0;
  private eventsRun = 0;
  private stranger: VProcess | undefined;
  private stateFile: string | null = null;
  private runnerTouched = false;
  /** How long the last restart kept the runner down. */
  private downMs = 0;
  /** How the state store was left by the last restart (none yet: the first start). */
  private restartState: RestartState | undefined;
  /** The runner's source of tokens: seeded, and apart from the tie-shuffling stream. */
  private readonly entropy: Rng;
  private readonly latencies: Latencies;
  private readonly runId: string;

  constructor(
    readonly scenario: Scenario,
    private readonly definition: RunnerDefinition,
    options: VirtualWorldOptions = {},
  ) {
    // The world is the runner's whole machine: one owner id, unless the scenario names one.
    const owner = scenario.world.ownerId;
    // Validated again although a parsed scenario's config was (2% of a property run): runScenario
    // is public, and a hand-made scenario's bad config (a zero poll interval) must be refused
    // with a message, not played into an endless kill loop.
    this.config = resolveRunnerConfig({ ...(owner !== null ? { ownerId: owner } : {}), ...scenario.runnerConfig });
    this.runId = `sim-${scenario.seed}`;
    this.oracle = new Oracle(
      this.config,
      (v) => this.record({ kind: 'violation', atMs: this.time, invariant: v.invariant, message: v.message }),
      {
        seesSignals: true,
        ioAllowanceMs: ioAllowanceMs(scenario.world),
        childAlive: (index) => this.table.hasLiveOf(index),
        worktrees: () => this.worktrees.existing(),
      },
    );
    this.log = new RequestLog({
      now: () => this.time,
      record: (event) => this.record(event),
      oracle: this.oracle,
      children: () => this.children,
      live: () => this.table.live(),
    });
    const rng = new Rng(scenario.seed);
    this.entropy = new Rng(scenario.seed ^ 0x5eed5eed);
    this.latencies = new Latencies(scenario.seed);
    const traceCapacity = traceCapacityFor(scenario);
    this.trace = new Trace(traceCapacity);
    this.maxEvents = Math.ceil(traceCapacity * EVENTS_PER_TRACE_EVENT);
    const tieOrder = scenario.world.tieOrder;
    this.queue = new EventQueue(
      this.maxEvents,
      scenario.world.shuffleTies ? rng : null,
      tieOrder !== undefined ? (tied, at) => this.chooseTie(tieOrder, tied, at) : undefined,
    );
    this.worktrees = new WorktreeModel([REPO_PATH], scenario.world.gitFaults, options.worktreeFs, () => this.time);
    this.table = new ProcessTable(scenario.world.pidMax, {
      now: () => this.time,
      later: (delay, run) => void this.later(delay, run),
      sigkillDeathMs: () => this.latencies.draw(scenario.world.latency.sigkillDeath),
      started: (p) => this.onProcessStart(p),
      exited: (p) => this.onProcessExit(p),
      reaped: (p) => this.onPidFreed(p),
    });
  }

  /** The scenario's tieOrder, followed: see WorldSchema.tieOrder. */
  private chooseTie(tieOrder: readonly number[], tied: number, at: number): number {
    const n = this.tiesSeen.length;
    const choice = tieOrder[n] ?? 0;
    if (choice >= tied)
      throw new WorldLimitError(
        'tieOrder',
        `the scenario's world.tieOrder[${n}] is ${choice}, but only ${tied} events were due together at ${at} ms (the ${n + 1}th such instant)`,
        'a tieOrder fits the runner and version it was found with: remove it (or that entry) to run every instant in scheduling order',
      );
    this.tiesSeen.push(tied);
    this.tiesTaken.push(choice);
    return choice;
  }

  /**
   * With a tieOrder in the scenario: at each instant so far where two or more events were due
   * together, how many were (`sizes`) and which of them ran first (`taken`). Empty without one.
   */
  ties(): { readonly sizes: readonly number[]; readonly taken: readonly number[] } {
    return { sizes: this.tiesSeen, taken: this.tiesTaken };
  }

  record(event: TraceEvent): void {
    this.trace.add(event);
  }

  later(delayMs: number, run: () => void): EventHandle {
    return this.queue.schedule(this.time + Math.max(0, delayMs), run);
  }

  // ---- running a scenario -----------------------------------------------------------------------

  async start(): Promise<void> {
    if (this.scenario.world.bystander) this.stranger = this.spawnStranger();
    await this.startRunner();
  }

  // ---- the World the driver plays (simulator/driver.ts) ------------------------------------------

  now(): number {
    return this.time;
  }

  runner(): RunnerHandle | undefined {
    return this.instance;
  }

  /**
   * The run is over and judged: what the world holds that another run can reuse (its worktree
   * filesystem) goes back. The trace and the oracle's findings stay readable.
   */
  release(): void {
    this.worktrees.release();
  }

  knownChildren(): readonly ChildRecord[] {
    return this.children;
  }

  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.time + ms);
  }

  async advanceToNextEvent(limit: number): Promise<boolean> {
    await drain();
    const at = this.queue.peekTime();
    if (at === undefined || at > limit) {
      this.time = Math.max(this.time, limit);
      return false;
    }
    await this.advanceTo(at);
    return true;
  }

  /**
   * What the future of this world depends on beyond its trace: when its pending events fall
   * (relative to now), the plans of the agents its spawns will run (asked for, forked or not
   * yet), and its state store as the runner will read it next (a restart may have corrupted or
   * lost it, which the trace does not show). With the trace (the whole history the runner was
   * given and did), two worlds with equal `pendingState()` play on alike.
   */
  pendingState(): {
    readonly pendingInMs: readonly number[];
    readonly plans: readonly unknown[];
    readonly store: string | null;
    readonly restartState: string | undefined;
  } {
    return {
      pendingInMs: this.queue.pendingTimes().map((at) => at - this.time),
      plans: this.scenario.agents,
      store: this.stateFile,
      restartState: this.restartState,
    };
  }

  /** The runner's promise chains set off by a step run before the next step. */
  async settle(): Promise<void> {
    await drain();
  }

  async crash(spawn: number, wholeTree: boolean): Promise<void> {
    this.crashChild(spawn, wholeTree);
  }

  async forgeWebhook(ref: PidRef, sessionId: string, startedBy: 'runner' | 'terminal'): Promise<void> {
    const hostPid = this.resolvePid(ref);
    this.record({ kind: 'webhook', atMs: this.time, pid: hostPid, sessionId, startedBy, forged: true });
    if (startedBy === 'terminal') this.oracle.onTerminalWebhook(sessionId);
    // A terminal's session, when the sender is a live process none of the run's (never a child's
    // PID: a runner may take a reused PID for its child's): the runner must list it once it took it.
    const sender = startedBy === 'terminal' && 'bystander' in ref ? this.stranger : undefined;
    const terminal =
      sender !== undefined && sender.alive && !this.children.some((c) => c.root.pid === sender.pid)
        ? sender
        : undefined;
    this.deliverWebhook(
      { sessionId, metadata: { hostPid, startedBy } },
      terminal &&
        (() =>
          this.oracle.onTerminalSessionTaken(
            { sessionId, pid: terminal.pid, generation: terminal.generation, isAlive: () => terminal.alive },
            this.time,
          )),
    );
  }

  async bystander(reusePidOf: number | undefined): Promise<void> {
    const reuse = reusePidOf !== undefined ? this.children[reusePidOf]?.root.pid : undefined;
    this.stranger = this.spawnStranger(reuse);
  }

  async restart(state: RestartState, downMs = 0): Promise<void> {
    this.restartState = state;
    this.downMs = downMs;
    const left = stateAfterRestart(state);
    if (left !== undefined) this.stateFile = left;
    await this.restartRunner();
  }

  /** Virtual time is free: the margin leaves room for a runner's retries with backoff too. */
  quiescenceHorizonMs(): number {
    // Every spawn asked for counts, forked or not yet: a runner that waits out slow scans before
    // it spawns forks a child after the last step, and that child's plan (an exit ten minutes in,
    // say) must fit in the horizon too. Its start comes late by up to the world's I/O allowance.
    const asked = this.scenario.steps.filter((s) => s.op === 'spawn').length;
    const plans = [
      ...this.children.map((c) => c.plan),
      ...Array.from({ length: Math.max(0, asked - this.children.length) }, (_, i) =>
        agentPlanFor(this.scenario, this.children.length + i),
      ),
    ];
    return quiescenceHorizonMs(plans, agentPlanFor(this.scenario, Math.max(asked, this.children.length)), {
      webhookTimeoutMs: this.config.webhookTimeoutMs,
      killDeadlineMs: killDeadlineMs(this.config),
      marginMs: QUIESCENCE_MARGIN_MS + ioAllowanceMs(this.scenario.world),
    });
  }

  async awaitFinalList(_answered: () => boolean): Promise<void> {
    // Virtual time is free: a full second, whatever the runner does in it, as every run gets.
    await this.advance(1_000);
  }

  groundTruth(): Omit<QuiescentWorld, 'listed' | 'requests' | 'now'> {
    return {
      children: this.children,
      liveProcesses: this.table.live(),
      hubActive: this.hub.active().map((r) => r.sessionId),
      worktrees: this.worktrees.existing(),
    };
  }

  /** Runs every event up to `t`, letting the runner's promise chains settle after each. */
  async advanceTo(t: number): Promise<void> {
    await drain();
    for (;;) {
      const at = this.queue.peekTime();
      if (at === undefined || at > t) break;
      const event = this.queue.pop()!;
      if (!(event.at >= this.time))
        throw broken(`an event at ${event.at} ms ran after ${this.time} ms: virtual time went backward`);
      this.time = event.at;
      event.run();
      // Only an event that called into the runner can have left it promise work to do.
      if (this.runnerTouched) {
        this.runnerTouched = false;
        await drain();
      }
      if (++this.eventsRun > this.maxEvents)
        throw new WorldLimitError(
          'events',
          `more than ${this.maxEvents} world events ran (sized from the scenario): the runner keeps scheduling work and never settles`,
          'look at the runner for a retry or poll loop without a bound (run with --logs to see it)',
        );
    }
    this.time = Math.max(this.time, t);
  }

  // ---- requests ----------------------------------------------------------------------------------

  private resolvePid(ref: PidRef): number {
    if ('pid' in ref) return ref.pid;
    if ('runner' in ref) return this.instance?.process.pid ?? 1;
    if ('bystander' in ref) return this.stranger?.pid ?? this.spawnStranger().pid;
    return this.children[ref.spawn]?.root.pid ?? 1;
  }

  // ---- world events ------------------------------------------------------------------------------

  private spawnStranger(preferPid?: number): VProcess {
    return this.table.spawn({
      parent: this.table.init,
      role: 'bystander',
      cwd: '/home/user',
      newSession: true,
      ...(preferPid !== undefined ? { preferPid } : {}),
    });
  }

  private crashChild(index: number, wholeTree: boolean): void {
    const child = this.children[index];
    if (child === undefined) return;
    const victims = wholeTree ? this.table.live().filter((p) => p.spawnIndex === index) : [child.root];
    for (const victim of victims) this.table.terminate(victim, { code: null, signal: 'SIGKILL' });
  }

  /** `onTaken`: called once the runner's sessionStarted returned, if that runner still lives. */
  private deliverWebhook(body: unknown, onTaken?: () => void): void {
    const instance = this.instance;
    const runner = instance?.runner;
    if (instance === undefined || runner === undefined) return;
    this.intoRunner(instance, () => {
      runner.sessionStarted(body).then(
        () => {
          if (onTaken !== undefined && instance.alive) onTaken();
        },
        (error: unknown) => {
          this.record({
            kind: 'log',
            atMs: this.time,
            level: 'error',
            message: `sessionStarted threw: ${String(error)}`,
          });
        },
      );
    }); // a dead runner refuses the connection: nothing happens
  }

  private onProcessStart(p: VProcess): void {
    this.record({
      kind: 'process-start',
      atMs: this.time,
      pid: p.pid,
      generation: p.generation,
      ppid: p.ppid,
      pgid: p.pgid,
      role: p.role,
      ...(p.spawnIndex !== undefined ? { spawnIndex: p.spawnIndex } : {}),
      cwd: p.cwd,
    });
  }

  private onProcessExit(p: VProcess): void {
    this.record({
      kind: 'process-exit',
      atMs: this.time,
      pid: p.pid,
      role: p.role,
      ...(p.spawnIndex !== undefined ? { spawnIndex: p.spawnIndex } : {}),
      exit: p.exit ?? { code: null, signal: null },
    });
    const row = [...this.hub.active()].find((r) => r.process === p);
    if (row !== undefined) this.record({ kind: 'hub', atMs: this.time, op: 'inactive', sessionId: row.sessionId });
    // A zombie's PID is freed when it is reaped (onPidFreed, then), any other's now.
    if (p.reapedByParent !== true) this.onPidFreed(p);
  }

  /** A process of the run freed its PID: with reusePids a stranger takes it at once. */
  private onPidFreed(p: VProcess): void {
    if (this.scenario.world.reusePids && p.spawnIndex !== undefined) this.stranger = this.spawnStranger(p.pid);
  }

  // ---- the runner's life -------------------------------------------------------------------------

  private async startRunner(): Promise<void> {
    const process = this.table.spawn({
      parent: this.table.init,
      role: 'runner',
      cwd: '/',
      env: { [RUN_MARKER_ENV]: this.runId },
      newSession: true,
    });
    const instance: RunnerInstance = { index: ++this.instances, process, alive: true };
    this.instance = instance;
    this.record({ kind: 'runner', atMs: this.time, op: 'start', pid: process.pid });
    this.oracle.onRunnerStart(this.restartState, this.time, this.restartState === undefined ? 0 : this.downMs);
    let created: ReturnType<RunnerDefinition['create']>;
    try {
      created = this.definition.create(virtualPorts(this.portsWorld(), instance), this.config);
    } catch (error) {
      throw new BrokenAdapterError(`runner "${this.definition.name}": create() threw: ${describe(error)}`, {
        cause: error,
      });
    }
    const failed = Symbol('failed');
    let failure: unknown;
    const settled = Promise.resolve(created).catch((error: unknown) => {
      failure = error;
      return failed;
    });
    // create() may be async, but may not wait on virtual time: nothing advances it yet.
    const notYet = Symbol('not yet');
    const runner = await Promise.race([settled, drain().then(() => notYet)]);
    if (runner === failed)
      throw new BrokenAdapterError(`runner "${this.definition.name}": create() rejected: ${describe(failure)}`, {
        cause: failure,
      });
    if (typeof runner === 'symbol')
      throw new BrokenAdapterError(
        `runner "${this.definition.name}": create() did not resolve without virtual time passing (load state in the first operation, not in create())`,
      );
    instance.runner = asRunner(this.definition.name, runner);
  }

  private async restartRunner(): Promise<void> {
    const instance = this.instance;
    if (instance !== undefined) {
      instance.alive = false;
      this.record({ kind: 'runner', atMs: this.time, op: 'crash', pid: instance.process.pid });
      this.log.dropOpen('connection reset: the runner crashed');
      this.table.terminate(instance.process, { code: null, signal: 'SIGKILL' });
    }
    this.storm = undefined;
    // Down for a while: the world goes on without a runner (children exit, PIDs come round,
    // webhooks are refused and retried), then the new one starts.
    if (this.downMs > 0) await this.advanceTo(this.time + this.downMs);
    await this.startRunner();
  }

  /** Calls into a runner instance, if it still lives, and notes that its promises must settle. */
  private intoRunner(instance: RunnerInstance, call: () => void): void {
    if (!instance.alive) return;
    this.runnerTouched = true;
    call();
  }

  // ---- ports (./virtual-ports.ts) ---------------------------------------------------------------

  /** What the ports of one runner life need of the world. */
  private portsWorld(): VirtualPortsWorld {
    return {
      scenario: this.scenario,
      table: this.table,
      worktrees: this.worktrees,
      hub: this.hub,
      oracle: this.oracle,
      now: () => this.time,
      record: (event) => this.record(event),
      later: (delayMs, run) => this.later(delayMs, run),
      latency: (latency) => this.latencies.draw(latency),
      scanMisses: () => this.latencies.chance(this.scenario.world.scanMisses),
      intoRunner: (instance, call) => this.intoRunner(instance as RunnerInstance, call),
      spawnRefusal: (command) => this.spawnRefusal(command),
      saveRefusal: () => this.saveRefusal(),
      scanRefusal: () => this.scanRefusal(),
      generationRefusal: () => this.generationRefusal(),
      spawnChild: (instance, spec, execAfterMs) => this.spawnChild(instance as RunnerInstance, spec, execAfterMs),
      runnerSignal: (instance, id, signal, group) => this.runnerSignal(instance as RunnerInstance, id, signal, group),
      loadState: () => this.stateFile,
      saveState: (contents) => {
        this.stateFile = contents;
      },
      token: () => `t${this.entropy.nextU32().toString(36)}${this.entropy.nextU32().toString(36)}`,
    };
  }

  /** spawnDetached calls so far, over every life of the runner (spawnFaults count them). */
  private spawnCalls = 0;

  /** state.save calls so far, over every life of the runner (saveFaults count them). */
  private saveCalls = 0;

  private saveRefusal(): HostError | undefined {
    const call = ++this.saveCalls;
    const fault = plannedFault(this.scenario.world.saveFaults, call);
    return fault && injectedRefusal(fault.code, 'write runner state', call);
  }

  /** findByEnv and childrenOf calls so far, over every life of the runner (scanFaults count them). */
  private scanCalls = 0;

  /**
   * The storm a refused scan began (its code and call), until a scan is read again: a process
   * out of descriptors cannot open /proc/PID/stat either, so a look at one process's generation
   * is refused meanwhile too. A new runner process starts with descriptors to spare.
   */
  private storm: { readonly code: ScanFault['code']; readonly call: number; lookRefusal?: HostError } | undefined;

  private scanRefusal(): HostError | undefined {
    const call = ++this.scanCalls;
    const fault = plannedFault(this.scenario.world.scanFaults, call);
    this.storm = fault && { code: fault.code, call };
    return fault && injectedRefusal(fault.code, 'read /proc', call);
  }

  /**
   * /proc's refusal of a look at a process's generation: during a scan storm (scanFaults), else
   * none. One error per storm, made at its first refused look: a runner may look hundreds of
   * times while a storm lasts, and an Error's stack is costly to capture.
   */
  private generationRefusal(): HostError | undefined {
    const storm = this.storm;
    if (storm === undefined) return undefined;
    return (storm.lookRefusal ??= injectedRefusal(storm.code, 'read /proc/PID/stat', storm.call));
  }

  private spawnRefusal(command: string): HostError | undefined {
    const call = ++this.spawnCalls;
    const fault = plannedFault(this.scenario.world.spawnFaults, call);
    return fault && injectedRefusal(fault.code, `spawn ${command}`, call);
  }

  /**
   * Forks the child at once (it exists, and a crash now leaves it behind) and runs its agent
   * `execAfterMs` later, when the spawn completes, as Node's 'spawn' event: its agent cannot
   * post a webhook before the runner could know its PID.
   */
  private spawnChild(instance: RunnerInstance, spec: SpawnSpec, execAfterMs: number) {
    const { cwd, env } = spec;
    const index = this.children.length;
    // The session the child resumes is what the runner told the port (and passed), never parsed from argv.
    const resume = childResume(spec);
    const plan = agentPlanFor(this.scenario, index);
    const root = this.table.spawn({
      parent: instance.process,
      role: 'wrapper',
      cwd,
      env,
      spawnIndex: index,
      newSession: true,
      ignoresSigterm: plan.ignoresSigterm,
      dieDelayMs: plan.dieDelayMs,
      sigkillDeath: plan.sigkillDeath,
      environUnreadable: plan.unreadableEnviron,
    });
    const child: ChildRecord<VProcess> = {
      index,
      root,
      plan,
      sessionId: sessionIdOf(index),
      spawnedAt: this.time,
      pidKnownAt: this.time + execAfterMs,
      ...resume,
    };
    this.children.push(child);
    this.log.attribute(child, cwd !== REPO_PATH);
    this.oracle.onChildSpawned(child, this.children, () => this.table.live(), this.time);
    const exec = (): void => {
      // A wrapper SIGKILLed before its exec completed never runs its agent, even in D state.
      if (runsCode(root)) this.startAgent(child, root);
    };
    if (execAfterMs > 0) this.later(execAfterMs, exec);
    else exec();
    return { pid: root.pid, generation: root.generation };
  }

  /** The child's agent starts: it forks its tree, registers with the hub, posts its webhook... */
  private startAgent(child: ChildRecord<VProcess>, root: VProcess): void {
    const plan = child.plan;
    startFakeAgent(
      {
        table: this.table,
        later: (delay, run) => void this.later(delay, run),
        registerWithHub: (sessionId, proc) => {
          if (this.scenario.world.hubDown) return; // the agent cannot create its row
          child.reportedAt ??= this.time;
          this.hub.register(sessionId, proc, this.time);
          this.record({ kind: 'hub', atMs: this.time, op: 'register', sessionId });
        },
        postWebhook: (from, body, lost) => {
          child.reportedAt ??= this.time;
          const instance = this.instance;
          const latency = this.scenario.world.latency.webhook;
          const accepted = instance?.alive === true;
          const inFlightMs = accepted && latency !== undefined ? this.latencies.draw(latency) : undefined;
          this.record({
            kind: 'webhook',
            atMs: this.time,
            pid: body.metadata.hostPid,
            sessionId: body.sessionId,
            startedBy: 'runner',
            forged: false,
            ...(inFlightMs !== undefined ? { inFlightMs } : {}),
          });
          if (!accepted) return false; // connection refused: the agent retries
          const land = (): void => {
            // The runner that took the connection crashed meanwhile: the agent's request fails.
            if (this.instance !== instance || !instance.alive) return lost();
            // Only a webhook that reaches the runner while its root runs binds the spawn's answer
            // (L3): one that lands after the root exited (a zombie reads as gone) may be taken,
            // on the token's word, or ignored. The real world counts the same way.
            if (from.alive) child.webhookAt ??= this.time;
            this.deliverWebhook(body);
          };
          // An HTTP request takes time: the runner handles it when it lands, and by then the
          // agent that posted it may have exited (and the runner may have heard of that first).
          if (inFlightMs === undefined) land();
          else this.later(inFlightMs, land);
          return true;
        },
      },
      root,
      plan,
      child.sessionId,
    );
  }

  private runnerSignal(instance: RunnerInstance, id: number, signal: Signal, group: boolean): boolean {
    if (!instance.alive) return false;
    const targets = group
      ? this.table.groupMembers(id)
      : [this.table.get(id)].filter((p): p is VProcess => p !== undefined);
    const how = group ? `${signal} to process group ${id}` : signal;
    this.record({
      kind: 'signal',
      atMs: this.time,
      from: 'runner',
      target: group ? `group ${id}` : `pid ${id}`,
      signal,
      delivered: targets.length > 0,
    });
    this.oracle.onRunnerSignal(targets, how, this.time);
    for (const target of targets) target.signalledByRunner = true;
    return group ? this.table.signalGroup(id, signal) : this.table.signal(id, signal);
  }
}
