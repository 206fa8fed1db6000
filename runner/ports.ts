// The ports a runner is written against. The virtual world implements them over its
// deterministic model; the Node adapters implement them over the OS. A runner that touches
// anything else (Date.now, setTimeout, child_process, fs) cannot be simulated.

export type Signal = 'SIGTERM' | 'SIGKILL';

/** Opaque handle returned by Clock.setTimeout. */
export interface TimerHandle {
  readonly timerId: number;
}

export interface Clock {
  /** Milliseconds since an arbitrary origin; only differences mean anything. */
  now(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * A process is identified by its PID *and* its generation (the kernel's start time on Linux),
 * because PIDs come round: a PID alone never proves it is still the process you started.
 */
export interface ProcessRef {
  readonly pid: number;
  readonly generation: string;
}

export interface ProcessInfo extends ProcessRef {
  readonly ppid: number;
  readonly pgid: number;
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: Signal | null;
}

export interface SpawnSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** Added to the runner's own environment; descendants inherit it. */
  readonly env: Readonly<Record<string, string>>;
  /**
   * The session this child resumes (the spawn request's `resumeSessionId`), or absent for a new
   * conversation. The runner still passes it to the agent its own way (hapi: `--resume <id>` in
   * `args`); this field is what the harness reads, never the arguments. A child spawned for a
   * resume without it counts as a new conversation, so the spawn's success answer is untruthful;
   * so does one whose `args` and `env` values do not contain the id anywhere (the agent could not
   * learn which conversation to resume).
   */
  readonly resumeSessionId?: string;
}

/** Why a spawn or worktree operation failed, in the OS's words (ENOENT, EACCES, EEXIST...). */
export class HostError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HostError';
  }
}

export interface ProcessHost {
  /** Starts a detached child: it leads its own process group and session. Rejects with HostError. */
  spawnDetached(spec: SpawnSpec): Promise<ProcessRef>;
  /**
   * Calls back once when a child that *this runner process* spawned exits, also when it had
   * already exited before the call (the exit is then delivered soon after, never synchronously).
   * Returns false when the process is not such a child: after a runner restart, old children
   * must be polled instead.
   */
  onExit(child: ProcessRef, callback: (exit: ExitInfo) => void): boolean;
  /**
   * The generation of the process that holds `pid` now, or null when no process does. Throws
   * HostError when /proc cannot be read (EMFILE, ENFILE, ENOMEM: the runner is out of
   * descriptors or memory): a refused read says neither "this process" nor "gone", and each
   * caller decides which way to fail (runner/core/generation.ts).
   */
  generationOf(pid: number): string | null;
  /** process.kill(pid, signal). No identity check: callers compare generations first. False on ESRCH. */
  signal(pid: number, signal: Signal): boolean;
  /** process.kill(-pgid, signal). False on ESRCH. */
  signalGroup(pgid: number, signal: Signal): boolean;
  /**
   * Live processes whose environment holds `name=value` (a /proc scan on Linux). Rejects when
   * /proc cannot be read (EMFILE, ENFILE, ENOMEM): a failed scan says neither "none" nor "all".
   */
  findByEnv(name: string, value: string): Promise<ProcessInfo[]>;
  /** Live processes whose parent is `pid` (what `pgrep -P` answers). Rejects as findByEnv does. */
  childrenOf(pid: number): Promise<ProcessInfo[]>;
}

export interface WorktreeHost {
  /** `git worktree add` of a new branch `name` of the repository; resolves to the worktree's path. */
  add(repoPath: string, name: string): Promise<string>;
  /** `git worktree remove --force` plus `git worktree prune`: directory and registration go. */
  remove(repoPath: string, worktreePath: string): Promise<void>;
  /** Paths of the worktrees git has registered for the repository (the main one excluded). */
  list(repoPath: string): Promise<string[]>;
}

export interface HubClient {
  /** Marks a session archived on the hub, so the dashboard stops showing it as active. */
  archiveSession(sessionId: string): Promise<void>;
}

/** Where a runner keeps what must survive its own restart. */
export interface StateStore {
  load(): Promise<string | null>;
  save(contents: string): Promise<void>;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  log(level: LogLevel, message: string, fields?: Readonly<Record<string, unknown>>): void;
}

/** Unpredictable tokens (crypto in Node, the seeded Rng in the virtual world). */
export interface Random {
  token(): string;
}

export interface RunnerPorts {
  readonly clock: Clock;
  readonly processes: ProcessHost;
  readonly worktrees: WorktreeHost;
  readonly hub: HubClient;
  readonly state: StateStore;
  readonly logger: Logger;
  readonly random: Random;
}

/** Sleeps on the port clock; the only way a runner may wait. */
export function sleep(clock: Clock, delayMs: number): Promise<void> {
  return new Promise((resolve) => {
    clock.setTimeout(resolve, delayMs);
  });
}
