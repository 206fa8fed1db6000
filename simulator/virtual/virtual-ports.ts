// The ports a runner gets in the virtual world: a clock over virtual time, a process host over
// the process table, git worktrees over the worktree model, the hub model, a state file that
// outlives the runner's crashes, seeded tokens and a logger into the trace. Every call that
// would be I/O resolves as a later event, and only while the runner life that made it lives: a
// crashed runner's promises never settle.
import {
  HostError,
  type ExitInfo,
  type ProcessHost,
  type ProcessInfo,
  type ProcessRef,
  type RunnerPorts,
  type Signal,
  type SpawnSpec,
  type TimerHandle,
  type WorktreeHost,
} from '../../runner/ports.ts';
import type { GroundTruthObserver } from '../oracle.ts';
import type { Scenario } from '../scenario.ts';
import type { TraceEvent } from '../trace.ts';
import type { EventHandle } from './event-queue.ts';
import type { HubModel } from './hub-model.ts';
import type { ProcessTable, VProcess } from './process-table.ts';
import { WorktreePathTaken, type WorktreeModel } from './worktree-model.ts';
import type { Latency } from '../scenario.ts';

/** How long after its start a child's root may be missed by a scan (it is exec'ing the agent). */
const EXEC_WINDOW_MS = 50;

/** One life of a runner in the virtual world: its process, and whether it still lives. */
export interface VirtualRunnerLife {
  readonly process: VProcess;
  alive: boolean;
}

/** What the ports need of the virtual world. */
export interface VirtualPortsWorld {
  readonly scenario: Scenario;
  readonly table: ProcessTable;
  readonly worktrees: WorktreeModel;
  readonly hub: HubModel;
  readonly oracle: GroundTruthObserver;
  now(): number;
  record(event: TraceEvent): void;
  later(delayMs: number, run: () => void): EventHandle;
  /** One operation's latency, drawn from the scenario's latency table. */
  latency(latency: Latency): number;
  /** Whether a scan leaves out the process it is looking at now (the scenario's scanMisses). */
  scanMisses(): boolean;
  /** Calls into the runner, if its life goes on, and notes that its promises must settle. */
  intoRunner(instance: VirtualRunnerLife, call: () => void): void;
  /** The OS's refusal of this spawnDetached call, if the scenario plans one (its spawnFaults). */
  spawnRefusal(command: string): HostError | undefined;
  /** The disk's refusal of this state.save call, if the scenario plans one (its saveFaults). */
  saveRefusal(): HostError | undefined;
  /** /proc's refusal of this process scan, if the scenario plans one (its scanFaults). */
  scanRefusal(): HostError | undefined;
  /** /proc's refusal of a look at one process's generation: while scans are refused, else none. */
  generationRefusal(): HostError | undefined;
  /** Forks the child now; its agent runs `execAfterMs` later, when the spawn completes. */
  spawnChild(instance: VirtualRunnerLife, spec: SpawnSpec, execAfterMs: number): ProcessRef;
  runnerSignal(instance: VirtualRunnerLife, id: number, signal: Signal, group: boolean): boolean;
  loadState(): string | null;
  saveState(contents: string): void;
  token(): string;
}

export function virtualPorts(world: VirtualPortsWorld, instance: VirtualRunnerLife): RunnerPorts {
  const timers = new Map<number, EventHandle>();
  let nextTimer = 1;
  /** Resolves after `delayMs` of virtual time, only while this runner instance lives. */
  const after = <T>(delayMs: number, work: () => T): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      world.later(delayMs, () => {
        let value: T;
        try {
          value = work();
        } catch (error) {
          world.intoRunner(instance, () => reject(error));
          return;
        }
        world.intoRunner(instance, () => resolve(value));
      });
    });
  /** An operation the scenario may leave synchronous (no latency given) or make a world event. */
  const io = async <T>(latency: Latency | undefined, work: () => T): Promise<T> =>
    latency === undefined ? work() : after(world.latency(latency), work);
  const latencies = world.scenario.world.latency;
  const missed = (p: VProcess): boolean =>
    p.role === 'wrapper' && world.now() - p.startedAt < EXEC_WINDOW_MS && world.scanMisses();
  /** A read /proc refused (scanFaults): told to the oracle, then thrown (for a scan, when it would have completed). */
  const refused = (refusal: HostError): never => {
    world.oracle.onPortFailure('scan', world.now());
    throw refusal;
  };
  /** This life's children, by PID, kept after they exit so that a late onExit still hears of it. */
  const spawned = new Map<number, VProcess>();
  const processes: ProcessHost = {
    spawnDetached: async (spec) => {
      if (!instance.alive) return new Promise(() => {});
      // What Node's spawn refuses before any system call (ERR_INVALID_ARG_TYPE): the runner's
      // own mistake, not the OS refusing it, so no `spawn-failed` answer is borne out by it.
      const malformed = malformedSpawnSpec(spec);
      if (malformed !== undefined) throw new HostError('ERR_INVALID_ARG_TYPE', `spawnDetached: ${malformed}`);
      if (!world.worktrees.directoryExists(spec.cwd)) {
        return io(latencies.spawn, () => {
          world.oracle.onPortFailure('spawn', world.now());
          throw new HostError('ENOENT', `spawn ${spec.command}: cwd ${spec.cwd} does not exist`);
        });
      }
      const refusal = world.spawnRefusal(spec.command);
      if (refusal !== undefined) {
        // fork failed: no child exists, and the runner hears of it when the spawn would complete.
        return io(latencies.spawn, () => {
          world.oracle.onPortFailure('spawn', world.now());
          throw refusal;
        });
      }
      // The child exists from the call (fork happens at once); its agent runs, and the promise
      // resolves, when the spawn completes (exec done: Node's 'spawn' event).
      const latency = latencies.spawn === undefined ? undefined : world.latency(latencies.spawn);
      const ref = world.spawnChild(instance, spec, latency ?? 0);
      const proc = world.table.get(ref.pid);
      if (proc !== undefined) spawned.set(ref.pid, proc);
      return latency === undefined ? ref : after(latency, () => ref);
    },
    onExit: (ref, callback) => {
      const proc = spawned.get(ref.pid);
      if (proc === undefined || proc.generation !== ref.generation) return false;
      // Node hears of a child's exit a moment after the kernel: as an event of its own.
      // Node reaps it then too: a zombie until that moment, its PID held (process-table.ts).
      const notify = (exit: ExitInfo): void => {
        const delay = world.latency(latencies.exitNotice);
        proc.exitNoticeAt ??= world.now() + delay;
        world.later(delay, () => {
          world.table.reap(proc);
          world.intoRunner(instance, () => callback(exit));
        });
      };
      if (proc.alive) {
        proc.reapedByParent = true;
        world.table.onExit(proc, notify);
      } else notify(proc.exit ?? { code: null, signal: null });
      return true;
    },
    generationOf: (pid) => {
      const refusal = world.generationRefusal();
      if (refusal !== undefined) refused(refusal);
      return world.table.get(pid)?.generation ?? null;
    },
    signal: (pid, signal) => world.runnerSignal(instance, pid, signal, false),
    signalGroup: (pgid, signal) => world.runnerSignal(instance, pgid, signal, true),
    // A scan sees /proc as it was when it started (stale by its latency), and may miss a child's
    // root while it execs the agent (its first EXEC_WINDOW_MS, when its environ is unreadable):
    // the runner must not take "not in the scan" for "dead", nor for "none". A root whose
    // environment no one can read (undumpable, setuid) is never found by its marker at all; its
    // parentage is in /proc/PID/stat, which stays readable, so childrenOf still lists it.
    findByEnv: (name, value) => {
      const refusal = world.scanRefusal();
      if (refusal !== undefined) return io(latencies.scan, () => refused(refusal));
      const seen = world.table
        .live()
        .filter((p) => p.env[name] === value && p.environUnreadable !== true && !missed(p))
        .map(info);
      return io(latencies.scan, () => seen);
    },
    childrenOf: (pid) => {
      const refusal = world.scanRefusal();
      if (refusal !== undefined) return io(latencies.scan, () => refused(refusal));
      const seen = world.table
        .children(pid)
        .filter((p) => !missed(p))
        .map(info);
      return io(latencies.scan, () => seen);
    },
  };
  const acted = (what: string): void => {
    if (instance.alive) world.oracle.onRunnerAction(what, world.now());
  };
  const worktrees: WorktreeHost = {
    add: (repo, name) => {
      acted(`ran git worktree add ${name}`);
      return after(world.latency(world.scenario.world.gitLatencyMs), () => {
        try {
          const path = world.worktrees.add(repo, name);
          world.record({ kind: 'worktree', atMs: world.now(), op: 'add', path });
          return path;
        } catch (error) {
          if (!(error instanceof WorktreePathTaken)) world.oracle.onPortFailure('git-add', world.now());
          world.record({
            kind: 'worktree',
            atMs: world.now(),
            op: 'add',
            path: `${repo}.worktrees/${name}`,
            error: String(error),
          });
          throw error;
        }
      });
    },
    remove: (repo, path) => {
      acted(`ran git worktree remove ${path}`);
      return after(world.latency(world.scenario.world.gitLatencyMs), () => {
        try {
          world.worktrees.remove(repo, path);
        } catch (error) {
          world.record({ kind: 'worktree', atMs: world.now(), op: 'remove', path, error: String(error) });
          throw error;
        }
        world.record({ kind: 'worktree', atMs: world.now(), op: 'remove', path });
        const inside = world.table.live().filter((p) => p.cwd === path || p.cwd.startsWith(`${path}/`));
        world.oracle.onWorktreeRemoved(path, inside, world.now());
      });
    },
    list: (repo) => after(world.latency(latencies.gitList), () => world.worktrees.list(repo)),
  };
  return {
    clock: {
      now: () => world.now(),
      setTimeout: (callback, delayMs): TimerHandle => {
        const timerId = nextTimer++;
        const setAt = world.now();
        timers.set(
          timerId,
          world.later(delayMs, () => {
            timers.delete(timerId);
            // The contract's shutdown releases the runner's timers: one that fires after the
            // answer is the runner acting after it (S4), whatever its callback then does.
            if (instance.alive) world.oracle.onRunnerTimer(setAt, world.now());
            world.intoRunner(instance, callback);
          }),
        );
        return { timerId };
      },
      clearTimeout: (handle) => {
        timers.get(handle.timerId)?.cancel();
        timers.delete(handle.timerId);
      },
    },
    processes,
    worktrees,
    hub: {
      archiveSession: (sessionId) => {
        acted(`archived ${sessionId} on the hub`);
        return after(world.latency(world.scenario.world.hubLatencyMs), () => {
          if (world.scenario.world.hubDown) throw new HostError('ECONNREFUSED', 'the hub is down');
          if (world.hub.archive(sessionId)) world.record({ kind: 'hub', atMs: world.now(), op: 'archive', sessionId });
        });
      },
    },
    state: {
      // The runner's state file survives its crashes: it lives in the world, not the instance.
      // A write lands when it completes, and only if its runner still lives then: one in flight
      // at a crash is lost, and writes in flight together may land in either order.
      load: () => io(latencies.stateLoad, () => world.loadState()),
      save: (contents) => {
        // Counted when called, refused when it would have landed (as a write that fails does).
        const refusal = world.saveRefusal();
        return io(latencies.stateSave, () => {
          if (refusal !== undefined) {
            world.oracle.onStateWriteFailed(world.now());
            throw refusal;
          }
          if (instance.alive) world.saveState(contents);
        });
      },
    },
    random: { token: () => world.token() },
    logger: {
      log: (level, message, fields) => {
        if (level === 'debug' || !instance.alive) return;
        world.record({
          kind: 'log',
          atMs: world.now(),
          level,
          message,
          ...(fields !== undefined ? { fields: { ...fields } } : {}),
        });
      },
    },
  };
}

function info(p: VProcess): ProcessInfo {
  return { pid: p.pid, generation: p.generation, ppid: p.ppid, pgid: p.pgid };
}

/** What is wrong with a spawn spec that Node's spawn would refuse outright, if anything. */
function malformedSpawnSpec(spec: SpawnSpec): string | undefined {
  const raw = spec as Partial<Record<keyof SpawnSpec, unknown>>;
  if (typeof raw.command !== 'string' || raw.command === '') return 'command must be a non-empty string';
  if (!Array.isArray(raw.args) || raw.args.some((a) => typeof a !== 'string')) return 'args must be strings';
  if (typeof raw.cwd !== 'string' || raw.cwd === '') return 'cwd must be a non-empty string';
  if (typeof raw.env !== 'object' || raw.env === null) return 'env must be an object';
  return undefined;
}
