// The black-box launcher of the real world: starts a runner command (in the sandbox when there
// is one) with the fake agent as its agent and what its profile says it needs, waits (bounded)
// for it to write its port and answer on it, speaks to it over HTTP, and finds its children
// through /proc (each fake agent claims its spawn index). Everything a black-box run learns of
// the runner comes through here; what it judges is the real world's and the oracle's.
import { spawn } from 'node:child_process';
import { z } from 'zod';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, delimiter, join } from 'node:path';
import type { Runner } from '../../runner/contract.ts';
import { readCwd, readEnviron, readStat } from '../../runner/node/proc.ts';
import {
  AGENT_DIR_ENV,
  CLI_EXECUTABLE_ENV,
  RUN_MARKER_ENV,
  SPAWN_INDEX_ENV,
  STATE_DIR_ENV,
  WEBHOOK_TIMEOUT_ENV,
  sessionIdOf,
} from '../../runner/wire.mjs';
import type { GroundTruthObserver } from '../oracle.ts';
import type { ChildRecord } from '../records.ts';
import { agentPlanFor, type Scenario } from '../scenario.ts';
import type { TraceEvent } from '../trace.ts';
import { fakeAgentPath } from './fake-agent-path.ts';
import { HarnessError } from './harness-error.ts';
import { httpRunner, readEndpoint, UnreachableRunnerError, type ControlProfile } from './http-runner.ts';
import type { RealRoot, RunProcesses } from './run-processes.ts';
import type { PidSpace, Sandbox } from './sandbox.ts';

/** What a fake agent writes when it claims its spawn index. */
const ClaimSchema = z.looseObject({ pid: z.number().int().positive(), args: z.array(z.string()).optional() });

/** Working directories are read every fifth discovery pass (100 ms): A1's windows last longer. */
const CWD_EVERY_PASSES = 5;
/** What Linux appends to /proc/PID/cwd when the directory was removed. */
const DELETED = ' (deleted)';

/** How long a runner command may take to write its state file and answer. */
const LAUNCH_TIMEOUT_MS = 20_000;
/** How long a runner may take to write its state file after writing a near-miss of it (a rename under way). */
const NEAR_MISS_GRACE_MS = 1_000;

/** One life of the runner under test, as the real world tracks it. */
export interface RunnerInstance {
  alive: boolean;
  runner?: Runner;
  clock?: { clearAll(): void; pending(): number };
  /** An in-process runner's port calls under way. */
  inFlight?: number;
  /** A launched runner command: its process (the leader of its own group). */
  process?: { pid: number; starttime: string };
  /** A launched runner's own PID, from its state file, checked to be a process of the run. */
  runnerPid?: { pid: number; starttime: string } | undefined;
  /** A launched runner that exited while nobody had asked it to. */
  exitedOnItsOwn?: { atMs: number; how: string };
}

/** The runner command to launch and the protocol it speaks. */
export interface BlackBoxTarget {
  readonly command: string;
  readonly profile: ControlProfile;
}

/** What the launcher needs of the real world. */
export interface BlackBoxWorld {
  readonly runId: string;
  readonly dir: string;
  readonly scenario: Scenario;
  readonly serverUrl: string;
  /** The webhook timeout the runner is told, in real ms. */
  readonly webhookTimeoutMs: number;
  readonly options: { readonly launchTimeoutMs?: number | undefined };
  readonly children: ChildRecord<RealRoot>[];
  readonly oracle: GroundTruthObserver;
  readonly processes: RunProcesses;
  instance(): RunnerInstance | undefined;
  sandbox(): Sandbox | undefined;
  /** PIDs as the runner sees them, as this machine knows them (`processes`: a scan just made). */
  pidSpace(processes?: readonly { pid: number }[]): PidSpace;
  knownChildren(): ChildRecord<RealRoot>[];
  /** Tells the request log which spawn a child found in /proc serves (the oldest open one). */
  attribute(child: ChildRecord<RealRoot>): void;
  now(): number;
  record(event: TraceEvent): void;
  harnessError(message: string): void;
}

export class BlackBoxLauncher {
  private launches = 0;
  /** Discovery passes so far (every CWD_EVERY_PASSES-th also reads working directories). */
  private passes = 0;
  /** Directories already judged removed under a live process. */
  private readonly removedCwds = new Set<string>();
  private readonly logs: string[] = [];
  private poller: NodeJS.Timeout | undefined;

  constructor(
    private readonly world: BlackBoxWorld,
    private readonly target: BlackBoxTarget,
  ) {}

  /** Stops looking for children (the run is over). */
  stop(): void {
    if (this.poller !== undefined) clearInterval(this.poller);
    this.poller = undefined;
  }

  /**
   * Starts a runner command in its own process group with the run's marker, the fake agent as
   * its agent (HAPI_CLI_EXECUTABLE, with a stub of each agent CLI its preflight looks for on
   * PATH), its profile's environment (home, hub, switches) and a state directory
   * (RUNNER_CHAOS_STATE_DIR), and waits, bounded, for it to write its port and answer on it.
   * Its output goes to a log kept for the report. A command that exits, writes nothing, writes
   * a port nobody listens on or answers garbage is a harness error naming that, never a pass.
   */
  async launch(instance: RunnerInstance): Promise<void> {
    const target = this.target;
    const stateDir = join(this.world.dir, 'state');
    mkdirSync(stateDir, { recursive: true });
    rmSync(target.profile.stateFile(stateDir), { force: true });
    const context = {
      stateDir,
      hubUrl: this.world.serverUrl,
      hubToken: `rc-${this.world.runId}`,
      fakeAgent: fakeAgentPath(),
      node: process.execPath,
    };
    const shims = join(this.world.dir, 'shims');
    mkdirSync(shims, { recursive: true });
    for (const [name, script] of Object.entries(target.profile.shims(context)))
      writeFileSync(join(shims, name), script, { mode: 0o755 });
    for (const [name, contents] of Object.entries(target.profile.prepare?.(context) ?? {})) {
      if (!existsSync(join(stateDir, name))) writeFileSync(join(stateDir, name), contents, { mode: 0o600 });
    }
    const logFile = join(this.world.dir, `runner-${++this.launches}.log`);
    this.logs.push(logFile);
    const output = openSync(logFile, 'a');
    const env = {
      ...process.env,
      ...target.profile.env(context),
      PATH: `${shims}${delimiter}${process.env.PATH ?? ''}`,
      [RUN_MARKER_ENV]: this.world.runId,
      [AGENT_DIR_ENV]: join(this.world.dir, 'agent'),
      [STATE_DIR_ENV]: stateDir,
      [CLI_EXECUTABLE_ENV]: fakeAgentPath(),
      [WEBHOOK_TIMEOUT_ENV]: String(this.world.webhookTimeoutMs),
    };
    const sandbox = this.world.sandbox();
    const child =
      sandbox !== undefined
        ? sandbox.spawnInside('/bin/sh', ['-c', target.command], { env, stdio: ['ignore', output, output] })
        : spawn(target.command, { shell: true, detached: true, stdio: ['ignore', output, output], env });
    closeSync(output);
    child.unref();
    // A runner that dies when nobody asked it to (a restart step kills it on purpose) is a finding.
    child.once('exit', (code, signal) => {
      if (!instance.alive) return;
      instance.exitedOnItsOwn = {
        atMs: this.world.now(),
        how: code !== null ? `exit code ${code}` : `signal ${signal}`,
      };
      this.world.record({ kind: 'runner', atMs: this.world.now(), op: 'crash', pid });
      this.world.record({
        kind: 'log',
        atMs: this.world.now(),
        level: 'error',
        message: `harness: the runner command exited on its own (${instance.exitedOnItsOwn.how})`,
      });
    });
    const pid = child.pid ?? 0;
    instance.process = { pid, starttime: readStat(pid)?.starttime ?? '' };
    this.world.record({ kind: 'runner', atMs: this.world.now(), op: 'start', pid });
    this.world.oracle.onRunnerStart();
    const stateFile = target.profile.stateFile(stateDir);
    let reading = readEndpoint(target.profile, stateDir);
    for (let waited = 0; !('endpoint' in reading); waited += 50) {
      if (readStat(pid)?.starttime !== instance.process.starttime) {
        throw new HarnessError(
          `the runner command exited before writing ${stateFile}: ${target.command}${this.outputTail()}`,
        );
      }
      // A state file under another name (runner.state.json against runner.json, say) is said at
      // once, not after the launch timeout: a runner that wrote its port elsewhere will not move it.
      const misnamed = waited >= NEAR_MISS_GRACE_MS && waited % 500 === 0 ? nearMisses(stateDir, stateFile) : '';
      if (misnamed !== '')
        throw new HarnessError(
          `the runner command wrote no ${stateFile} (${reading.problem})${misnamed}: ${target.command}${this.outputTail()}`,
        );
      if (waited >= (this.world.options.launchTimeoutMs ?? LAUNCH_TIMEOUT_MS)) {
        throw new HarnessError(
          `the runner command wrote no usable ${stateFile} within ${(this.world.options.launchTimeoutMs ?? LAUNCH_TIMEOUT_MS) / 1000} s (${reading.problem})${nearMisses(stateDir, stateFile)}: ${target.command}${this.outputTail()}`,
        );
      }
      await sleep(50);
      reading = readEndpoint(target.profile, stateDir);
    }
    const endpoint = reading.endpoint;
    // The runner's own PID, as it says, and only if it is a process of this run: never the shell's, never a stranger's.
    const statedPid = endpoint.pid !== undefined ? this.world.pidSpace().toHost(endpoint.pid) : undefined;
    instance.runnerPid =
      statedPid !== undefined && readEnviron(statedPid)?.get(RUN_MARKER_ENV) === this.world.runId
        ? { pid: statedPid, starttime: readStat(statedPid)?.starttime ?? '' }
        : undefined;
    // Agents that are not told the runner's address by the runner itself find it in their plan.
    const planPath = join(this.world.dir, 'agent', 'plan.json');
    writeFileSync(
      planPath,
      JSON.stringify({
        ...JSON.parse(readFileSync(planPath, 'utf8')),
        webhookUrl: `${endpoint.url}${target.profile.paths.webhook}`,
      }),
    );
    const http = httpRunner(endpoint, target.profile, {
      pidOfSession: (sessionId) => this.pidOfSession(sessionId),
      toHostPid: (pid) => this.world.pidSpace().toHost(pid) ?? -1,
    });
    try {
      await http.listSessions();
    } catch (error) {
      throw new HarnessError(
        `the runner's state file ${stateFile} names ${endpoint.url}, but ${error instanceof UnreachableRunnerError ? 'nothing answers there' : 'what answers there does not speak the control protocol'}: ${(error as Error).message}${this.outputTail()}`,
      );
    }
    instance.runner = this.watchReachability(http, endpoint.url);
    this.poller ??= setInterval(() => this.discoverChildren(), 20);
  }

  /** Whether the launched runner's process is gone within `graceMs` (looked at every 20 ms). */
  private async runnerGoneWithin(graceMs: number): Promise<boolean> {
    const deadline = performance.now() + graceMs;
    // Bounded: until the deadline, one /proc read per pass.
    while (!this.runnerProcessGone()) {
      if (performance.now() >= deadline) return false;
      await sleep(20);
    }
    return true;
  }

  /** Whether the launched runner's process has died (a refusal is then its death, not a fault of ours). */
  private runnerProcessGone(): boolean {
    const p = this.world.instance()?.process;
    return p === undefined || readStat(p.pid)?.starttime !== p.starttime;
  }

  /** A black-box runner's calls: a refused or reset connection is a fault the harness reports, not an answer. */
  private watchReachability(runner: Runner, url: string): Runner {
    const watch =
      <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        try {
          return await call(...args);
        } catch (error) {
          const instance = this.world.instance();
          const up = (): boolean =>
            instance?.runner !== undefined && instance.alive && instance.exitedOnItsOwn === undefined;
          // A runner on its way out closes its socket before its process is gone (hapi SIGTERMs
          // itself on a forged webhook naming its PID, then cleans up): a refusal then is its
          // death, seen once the process goes. Only one that stays refused is ours to report.
          if (
            error instanceof UnreachableRunnerError &&
            up() &&
            !(await this.runnerGoneWithin(EXIT_GRACE_MS)) &&
            up()
          ) {
            this.world.harnessError(
              `the runner at ${url} could not be reached while it should have been up: ${error.message}`,
            );
          }
          throw error;
        }
      };
    return {
      spawnSession: watch((r) => runner.spawnSession(r)),
      sessionStarted: watch((b) => runner.sessionStarted(b)),
      stopSession: watch((id) => runner.stopSession(id)),
      listSessions: watch(() => runner.listSessions()),
      shutdown: watch(() => runner.shutdown()),
    };
  }

  /**
   * The PID of the child that reports `sessionId` (a fake agent reports `sess-<index+1>`). Asked
   * when an answer names no PID (hapi's does not): that child has posted its webhook by then, so
   * one /proc scan finds it, and the answer's time is not delayed by a wait.
   */
  async pidOfSession(sessionId: string): Promise<number | undefined> {
    this.discoverChildren();
    return this.world.knownChildren().find((c) => c.sessionId === sessionId)?.root.pid;
  }

  /** The last lines the runner command printed, for a message. */
  outputTail(): string {
    const file = this.logs.at(-1);
    if (file === undefined || !existsSync(file)) return '';
    const tail = readFileSync(file, 'utf8').trim().split('\n').slice(-15).join('\n');
    return tail === '' ? '\n(it printed nothing)' : `\nits last output:\n${tail}`;
  }

  /**
   * A1 over HTTP: a directory removed while a process of a child still runs in it shows in /proc
   * as that process's working directory, "(deleted)". Each such directory is judged once.
   */
  private lookForRemovedCwds(
    all: readonly { pid: number; starttime: string; env: ReadonlyMap<string, string> }[],
  ): void {
    const inside = new Map<string, { pid: number; spawnIndex: number }[]>();
    for (const p of all) {
      // A descendant carries its child's index; a wrapper (the runner started it) is known by PID.
      const index =
        p.env.get(SPAWN_INDEX_ENV) ??
        this.world.knownChildren().find((c) => c.root.pid === p.pid && c.root.generation === p.starttime)?.index;
      const cwd = index !== undefined ? readCwd(p.pid) : undefined;
      if (cwd === undefined || !cwd.endsWith(DELETED)) continue;
      const path = cwd.slice(0, -DELETED.length);
      if (this.removedCwds.has(path)) continue;
      inside.set(path, [...(inside.get(path) ?? []), { pid: p.pid, spawnIndex: Number(index) }]);
    }
    for (const [path, procs] of inside) {
      this.removedCwds.add(path);
      this.world.oracle.onWorktreeRemoved(
        path,
        procs.map((p) => ({
          pid: p.pid,
          role: 'descendant' as const,
          spawnIndex: p.spawnIndex,
          cwd: path,
          alive: true,
        })),
        this.world.now(),
      );
    }
  }

  /** A black-box runner's children, found in /proc: the fake agent's wrappers, and their exits. */
  discoverChildren(): void {
    const claims = new Map<number, { index: number; args?: readonly string[] }>();
    const claimDir = join(this.world.dir, 'agent', 'claims');
    // One /proc scan per pass: the run's processes, and from them the sandbox's PID translation.
    const all = this.world.processes.all();
    const space = this.world.pidSpace(all);
    if (++this.passes % CWD_EVERY_PASSES === 0) this.lookForRemovedCwds(all);
    for (const name of existsSync(claimDir) ? readdirSync(claimDir) : []) {
      if (!/^\d+$/.test(name)) continue; // .up, .exited, .error: what the agent said, not a claim
      try {
        const claim = ClaimSchema.safeParse(JSON.parse(readFileSync(join(claimDir, name), 'utf8')));
        if (!claim.success) continue;
        const claimed = space.toHost(claim.data.pid);
        if (claimed !== undefined)
          claims.set(claimed, {
            index: Number(name),
            ...(claim.data.args !== undefined ? { args: claim.data.args } : {}),
          });
      } catch {
        // being written
      }
    }
    for (const p of all) {
      const claim = claims.get(p.pid);
      if (claim === undefined || this.world.children[claim.index] !== undefined) continue;
      const index = claim.index;
      // The session it resumes, from its own arguments as it wrote them (never a cut command line).
      const args = claim.args ?? fullArgs(p.pid);
      const resumeAt = args.indexOf('--resume');
      const resumeKey = resumeAt >= 0 ? args[resumeAt + 1] : undefined;
      const root: RealRoot = {
        pid: p.pid,
        generation: p.starttime,
        role: 'wrapper',
        spawnIndex: index,
        cwd: readCwd(p.pid) ?? '',
        alive: true,
      };
      const child: ChildRecord<RealRoot> = {
        index,
        root,
        plan: agentPlanFor(this.world.scenario, index),
        sessionId: sessionIdOf(index),
        spawnedAt: this.world.now(),
        ...(resumeKey !== undefined ? { resumeKey } : { resumeKeyUnknown: true }),
      };
      this.world.children[index] = child;
      // Its spawn is known too (hapi's answers name no PID): an exit before its webhook then
      // counts against that spawn's answer (L1), as in the other worlds.
      this.world.attribute(child);
      this.world.record({
        kind: 'process-start',
        atMs: this.world.now(),
        pid: p.pid,
        generation: p.starttime,
        ppid: p.ppid,
        pgid: p.pgid,
        role: 'wrapper',
        spawnIndex: index,
        cwd: root.cwd,
      });
      this.world.oracle.onChildSpawned(
        child,
        this.world.knownChildren(),
        () => this.world.processes.live(),
        this.world.now(),
      );
    }
    for (const child of this.world.children) {
      if (child?.root.alive === true && readStat(child.root.pid)?.starttime !== child.root.generation) {
        child.root.alive = false;
        child.root.exitedAt = this.world.now();
        // Seen from outside, an exit is the runner's doing unless the agent said it left on its
        // own, or the harness crashed it.
        if (!existsSync(join(claimDir, `${child.index}.exited`)) && child.root.crashedByWorld !== true)
          child.root.signalledByRunner = true;
        this.world.record({
          kind: 'process-exit',
          atMs: child.root.exitedAt,
          pid: child.root.pid,
          role: 'wrapper',
          spawnIndex: child.index,
          exit: { code: null, signal: null },
        });
      }
    }
  }
}

/** State files in `dir` that look like the one expected under another name: a hint for the message. */
function nearMisses(dir: string, expected: string): string {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return '';
  }
  const others = names.filter(
    (name) => name !== basename(expected) && /\.json$/.test(name) && /"httpPort"\s*:/.test(safeRead(join(dir, name))),
  );
  return others.length === 0
    ? ''
    : `; it wrote ${others.join(', ')} instead, which has an httpPort: is the profile right, or the file name?`;
}

/** A file's text, or '' when it cannot be read. */
export function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/**
 * How long a refused connection waits for the runner's process to go before it is reported as
 * the harness's fault: a runner shutting itself down closes its listener first. Generous for a
 * loaded machine (a CI run saw hapi's last request refused while its process still cleaned up).
 */
const EXIT_GRACE_MS = 5_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A process's arguments after the program and script, whole, from /proc (empty if gone). */
function fullArgs(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(2);
  } catch {
    return [];
  }
}
