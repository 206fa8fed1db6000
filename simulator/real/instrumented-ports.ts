// The ports an in-process runner gets in the real world: the Node adapters (runner/node), with
// every spawn, signal and worktree removal shown to the oracle as it happens, and fenced once the
// runner "crashes" (a restart step), so that nothing of its earlier life acts any more. The A2
// gate is here too: a signal the runner aims at anything but a process of the run is recorded
// and NOT sent.
import type { RunnerPorts, ProcessHost, Signal, WorktreeHost } from '../../runner/ports.ts';
import { nodePorts } from '../../runner/node/node-ports.ts';
import { readStat } from '../../runner/node/proc.ts';
import { AGENT_DIR_ENV, RUN_MARKER_ENV, SPAWN_INDEX_ENV, sessionIdOf } from '../../runner/wire.mjs';
import type { GroundTruthObserver } from '../oracle.ts';
import type { ChildRecord, ProcessView } from '../records.ts';
import type { RequestLog } from '../request-log.ts';
import { agentPlanFor, type Scenario } from '../scenario.ts';
import type { TraceEvent } from '../trace.ts';
import { groupMembers, type RealRoot, type RunProcesses } from './run-processes.ts';
import { childResume } from '../resume-key.ts';

/** What the instrumented ports report to, and read from: the real world's side of them. */
export interface InstrumentedWorld {
  readonly scenario: Scenario;
  readonly runId: string;
  /** The repository spawns are made in (a spawn elsewhere is a worktree session). */
  readonly repo: string;
  readonly statePath: string;
  readonly hubUrl: string;
  readonly agentDir: string;
  /** The agent the runner is told to start (its config's agentCommand and agentArgs). */
  readonly agent: { readonly command: string; readonly args: readonly string[] };
  readonly children: ChildRecord<RealRoot>[];
  readonly oracle: GroundTruthObserver;
  readonly log: RequestLog;
  readonly processes: RunProcesses;
  /** Every worktree path the runner made. */
  readonly createdWorktrees: Set<string>;
  /** The harness's canaries: a runner may signal them (they only write down what they get). */
  readonly bystanders: readonly { pid: number; starttime: string }[];
  /** Processes the trace has shown starting (`pid:starttime`): a timeline never names a stranger. */
  readonly announced: Set<string>;
  now(): number;
  record(event: TraceEvent): void;
}

/** One life of the runner: when it "crashes", its ports go quiet. */
export interface RunnerLife {
  alive: boolean;
  /** Port calls of this life still under way (a git call, a state write, a scan): it is not quiet. */
  inFlight?: number;
}

/** Node ports for one life of an in-process runner, watched by the oracle and fenced at its end. */
export function instrumentedPorts(
  world: InstrumentedWorld,
  life: RunnerLife,
): RunnerPorts & { clock: { clearAll(): void; pending(): number } } {
  const base = nodePorts({
    statePath: world.statePath,
    hubUrl: `${world.hubUrl}/hub`,
    // Straight into the trace: no line to print and parse back.
    logger: {
      log: (level, message) => {
        if (life.alive) world.record({ kind: 'log', atMs: world.now(), level, message });
      },
    },
    extraEnv: { [RUN_MARKER_ENV]: world.runId, [AGENT_DIR_ENV]: world.agentDir },
  });
  const host = base.processes;
  // A promise of a life that has ended never settles: the runner's later code never runs.
  // Counted while under way: the world ends a run early only when no port call is in flight.
  const counted = <T>(promise: Promise<T>): Promise<T> => {
    life.inFlight = (life.inFlight ?? 0) + 1;
    return promise.finally(() => (life.inFlight = (life.inFlight ?? 1) - 1));
  };
  const fence = <T>(promise: Promise<T>): Promise<T> =>
    counted(promise).then(
      (value) => (life.alive ? value : new Promise<T>(() => {})),
      (error: unknown) => (life.alive ? Promise.reject(error) : new Promise<T>(() => {})),
    );
  /** A real scan that fails (/proc unreadable: EMFILE, ENFILE) is told to the oracle, as the virtual world's are. */
  const told = <T>(scan: Promise<T>): Promise<T> =>
    scan.catch((error: unknown) => {
      world.oracle.onPortFailure('scan', world.now());
      throw error;
    });
  const processes: ProcessHost = {
    spawnDetached: (spec) => {
      if (!life.alive) return new Promise(() => {});
      const index = world.children.length;
      // What the runner told the port (and passed), never parsed from its arguments.
      const resume = childResume(spec);
      const root: RealRoot = { pid: 0, generation: '', role: 'wrapper', spawnIndex: index, cwd: spec.cwd, alive: true };
      // A runner that starts something else than its config's agent (a missing agentArgs, say)
      // starts no agent: said by name when that child never comes up, not blamed on the machine.
      const agentArgs = world.agent.args;
      if (spec.command !== world.agent.command || agentArgs.some((arg, i) => spec.args[i] !== arg))
        root.notTheAgent = [spec.command, ...spec.args].join(' ').slice(0, 200);
      const child: ChildRecord<RealRoot> = {
        index,
        root,
        plan: agentPlanFor(world.scenario, index),
        sessionId: sessionIdOf(index),
        spawnedAt: world.now(),
        ...resume,
      };
      world.children.push(child);
      return fence(
        host.spawnDetached({ ...spec, env: { ...spec.env, [SPAWN_INDEX_ENV]: String(index) } }).then((ref) => {
          Object.assign(root, { pid: ref.pid, generation: ref.generation });
          host.onExit(ref, (exit) => {
            root.alive = false;
            root.exitedAt = world.now();
            world.record({
              kind: 'process-exit',
              atMs: root.exitedAt,
              pid: ref.pid,
              role: 'wrapper',
              spawnIndex: index,
              exit,
            });
          });
          world.announced.add(`${ref.pid}:${ref.generation}`);
          world.record({
            kind: 'process-start',
            atMs: world.now(),
            pid: ref.pid,
            generation: ref.generation,
            ppid: process.pid,
            pgid: ref.pid,
            role: 'wrapper',
            spawnIndex: index,
            cwd: spec.cwd,
          });
          world.log.attribute(child, spec.cwd !== world.repo);
          world.oracle.onChildSpawned(child, world.children, () => world.processes.live(), world.now());
          return ref;
        }),
      );
    },
    onExit: (ref, callback) =>
      host.onExit(ref, (exit) => {
        if (life.alive) callback(exit);
      }),
    generationOf: (pid) => {
      try {
        return host.generationOf(pid);
      } catch (error) {
        world.oracle.onPortFailure('scan', world.now()); // /proc refused a look by PID (EMFILE)
        throw error;
      }
    },
    signal: (pid, signal) => {
      if (!life.alive || pid <= 1) return false;
      return admitSignal(world, [pid], signal, `pid ${pid}`) && host.signal(pid, signal);
    },
    signalGroup: (pgid, signal) => {
      if (!life.alive || pgid <= 1) return false;
      return admitSignal(world, groupMembers(pgid), signal, `group ${pgid}`) && host.signalGroup(pgid, signal);
    },
    findByEnv: (name, value) => fence(told(host.findByEnv(name, value))),
    childrenOf: (pid) => fence(told(host.childrenOf(pid))),
  };
  const git = base.worktrees;
  const acted = (what: string): void => {
    if (life.alive) world.oracle.onRunnerAction(what, world.now());
  };
  const worktrees: WorktreeHost = {
    add: (repo, name) => {
      acted(`ran git worktree add ${name}`);
      return fence(
        git.add(repo, name).then((path) => {
          world.createdWorktrees.add(path);
          world.record({ kind: 'worktree', atMs: world.now(), op: 'add', path });
          return path;
        }),
      );
    },
    remove: (repo, path) => {
      acted(`ran git worktree remove ${path}`);
      return fence(
        git.remove(repo, path).then(() => {
          world.record({ kind: 'worktree', atMs: world.now(), op: 'remove', path });
          const inside = world.processes
            .live()
            .filter((p) => p.cwd === path || p.cwd.startsWith(`${path}/`) || p.cwd.startsWith(`${path} (deleted)`));
          world.oracle.onWorktreeRemoved(path, inside, world.now());
        }),
      );
    },
    list: (repo) => fence(git.list(repo)),
  };
  return {
    ...base,
    processes,
    worktrees,
    hub: {
      archiveSession: (id) => {
        acted(`archived ${id} on the hub`);
        return fence(base.hub.archiveSession(id));
      },
    },
    state: {
      load: () => fence(base.state.load()),
      save: (c) => (life.alive ? counted(base.state.save(c)) : Promise.resolve()),
    },
  };
}

/**
 * A2, judged before the signal is sent: is every target a process of this run? A signal that
 * would reach anything else is recorded and NOT sent, unless the target is one of the harness's
 * bystanders (a canary that only writes down what it received): a runner under test must never
 * be able to hit a process the harness did not start, the harness itself included.
 */
export function admitSignal(
  world: InstrumentedWorld,
  pids: readonly number[],
  signal: Signal,
  target: string,
): boolean {
  const views: ProcessView[] = [];
  let admit = true;
  for (const pid of pids) {
    const stat = readStat(pid);
    if (stat === undefined) continue; // nobody there: ESRCH harms no one
    const spawnIndex = world.processes.spawnIndexOf(pid, stat.starttime);
    const ourBystander = world.bystanders.some((b) => b.pid === pid && b.starttime === stat.starttime);
    if (spawnIndex === undefined && !ourBystander) admit = false;
    // A descendant the runner found before the harness showed it: show it now, as first seen.
    const key = `${pid}:${stat.starttime}`;
    if (spawnIndex !== undefined && !world.announced.has(key)) {
      world.announced.add(key);
      world.record({
        kind: 'process-start',
        atMs: world.now(),
        pid,
        generation: stat.starttime,
        ppid: stat.ppid,
        pgid: stat.pgid,
        role: 'descendant',
        spawnIndex,
        cwd: '',
        firstSeen: true,
      });
    }
    views.push({
      pid,
      role: spawnIndex !== undefined ? 'descendant' : 'bystander',
      cwd: '',
      alive: true,
      ...(spawnIndex !== undefined ? { spawnIndex } : {}),
    });
    for (const child of world.children)
      if (child.root.pid === pid && child.root.alive) {
        child.root.signalledByRunner = true;
        child.root.signalledAt ??= world.now();
      }
  }
  world.record({
    kind: 'signal',
    atMs: world.now(),
    from: 'runner',
    target: admit ? target : `${target} (BLOCKED: not a process of this run)`,
    signal,
    delivered: admit && views.length > 0,
  });
  world.oracle.onRunnerSignal(views, `${signal} to ${target}`, world.now());
  return admit;
}
