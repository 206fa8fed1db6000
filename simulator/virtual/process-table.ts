// A model of the kernel's process table: PIDs allocated upward and wrapping at pid_max (so they
// come round), a generation per process (the start time that tells a reused PID apart), parent
// links with re-parenting to init, process groups and sessions, and signals with per-process
// dispositions. Death is never instant: a signalled process exits as a later event, as in life.
import type { ExitInfo, Signal } from '../../runner/ports.ts';
import { WorldLimitError } from '../world-limit.ts';
import type { ProcessRole } from '../trace.ts';
import { broken } from '../assert.ts';
import { clearedEnv } from '../../runner/wire.mjs';

export const INIT_PID = 1;
const FIRST_USER_PID = 100;

export interface VProcess {
  readonly pid: number;
  readonly generation: string;
  ppid: number;
  pgid: number;
  sid: number;
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly role: ProcessRole;
  /** Which runner-spawned child's tree this process belongs to (survives re-parenting). */
  readonly spawnIndex?: number;
  readonly startedAt: number;
  alive: boolean;
  exit?: ExitInfo;
  exitedAt?: number;
  /** Set when the runner signalled it: its death is then the runner's doing, not its own. */
  signalledByRunner?: boolean;
  ignoresSigterm: boolean;
  dieDelayMs: number;
  /** How long SIGKILL takes: absent, the world's drawn latency; `never`, D state for good. */
  sigkillDeath?: number | 'never';
  /** When the runner first sent it SIGKILL: a process alive after that survived SIGKILL. */
  sigkilledAt?: number;
  /** No scan can read its environment (undumpable, setuid): a search for a marker never finds it. */
  environUnreadable?: boolean;
  /** When the runner that spawned it hears of its exit (its onExit callback runs). */
  exitNoticeAt?: number;
  /**
   * Its parent waits for its exit (the runner watches it: Node reaps its children): once dead it
   * is a zombie, holding its PID, until reap() (when the runner hears of the exit).
   */
  reapedByParent?: boolean;
  /** When an exit is already scheduled, its time; a later signal can only bring it forward. */
  exitDueAt?: number;
}

export interface SpawnOptions {
  readonly parent: VProcess;
  readonly role: ProcessRole;
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Exec with a clean environment: only the harness's variables of the parent's are kept (wire.mjs clearedEnv). */
  readonly clearsEnv?: boolean;
  readonly spawnIndex?: number;
  /** setpgid(0, 0): lead a new process group. */
  readonly newGroup?: boolean;
  /** setsid(): lead a new session and group. */
  readonly newSession?: boolean;
  readonly ignoresSigterm?: boolean;
  readonly dieDelayMs?: number;
  readonly sigkillDeath?: number | 'never' | undefined;
  /** No scan can read its environment, for its whole life (the scenario's unreadableEnviron). */
  readonly environUnreadable?: boolean;
  /** Take this PID if it is free (to model a PID that comes round at once). */
  readonly preferPid?: number;
}

export interface ProcessTableHooks {
  now(): number;
  /** Runs `run` `delayMs` from now as a world event. */
  later(delayMs: number, run: () => void): void;
  /** How long SIGKILL takes for a process whose plan does not say (drawn per signal). */
  sigkillDeathMs(): number;
  started(process: VProcess): void;
  exited(process: VProcess): void;
  /** A zombie was reaped: its PID is free now. */
  reaped(process: VProcess): void;
}

export class ProcessTable {
  private readonly byPid = new Map<number, VProcess>();
  /** Live processes, and how many live processes name each group and session id (kept, not scanned). */
  private readonly alive = new Set<VProcess>();
  /** Live processes by parent and by group, kept as they start and exit: no scan of the table. */
  private readonly byParent = new Map<number, Set<VProcess>>();
  private readonly byGroup = new Map<number, Set<VProcess>>();
  /** How many live processes each child's tree has, by spawn index. */
  private readonly liveOfChild = new Map<number, number>();
  private readonly idsInUse = new Map<number, number>();
  private readonly exitListeners = new Map<VProcess, Array<(exit: ExitInfo) => void>>();
  /** Dead processes whose parent has not reaped them yet (they hold their PIDs). */
  private readonly zombies = new Set<VProcess>();
  private lastPid = FIRST_USER_PID - 1;
  private nextGeneration = 1;
  readonly init: VProcess;

  constructor(
    private readonly pidMax: number,
    private readonly hooks: ProcessTableHooks,
  ) {
    this.init = this.register(INIT_PID, { role: 'init', ppid: 0, pgid: INIT_PID, sid: INIT_PID, env: {}, cwd: '/' });
  }

  /** The live process holding `pid`, if any. */
  get(pid: number): VProcess | undefined {
    const p = this.byPid.get(pid);
    return p?.alive === true ? p : undefined;
  }

  /** Whether any process of child `spawnIndex`'s tree lives. */
  hasLiveOf(spawnIndex: number): boolean {
    return (this.liveOfChild.get(spawnIndex) ?? 0) > 0;
  }

  /** The live processes, oldest first. */
  live(): VProcess[] {
    return [...this.alive];
  }

  spawn(options: SpawnOptions): VProcess {
    const { parent } = options;
    if (!parent.alive) throw new Error(`process ${parent.pid} is dead and cannot fork`);
    const pid = this.allocatePid(options.preferPid);
    const newSession = options.newSession === true;
    const newGroup = newSession || options.newGroup === true;
    const proc = this.register(pid, {
      role: options.role,
      ppid: parent.pid,
      pgid: newGroup ? pid : parent.pgid,
      sid: newSession ? pid : parent.sid,
      env: options.clearsEnv === true ? clearedEnv(parent.env) : { ...parent.env, ...options.env },
      cwd: options.cwd ?? parent.cwd,
      ...(options.spawnIndex !== undefined ? { spawnIndex: options.spawnIndex } : {}),
      ignoresSigterm: options.ignoresSigterm ?? false,
      dieDelayMs: options.dieDelayMs ?? 5,
      ...(options.sigkillDeath !== undefined ? { sigkillDeath: options.sigkillDeath } : {}),
      ...(options.environUnreadable === true ? { environUnreadable: true } : {}),
    });
    return proc;
  }

  /** The live children of `pid`, oldest first. */
  children(pid: number): VProcess[] {
    if (pid === INIT_PID) {
      // Orphans join init as their parents exit: in start order, as a scan of /proc lists them.
      const found: VProcess[] = [];
      for (const p of this.alive) if (p.ppid === pid) found.push(p);
      return found;
    }
    return [...(this.byParent.get(pid) ?? [])];
  }

  /** The live members of group `pgid`, oldest first. */
  groupMembers(pgid: number): VProcess[] {
    return [...(this.byGroup.get(pgid) ?? [])];
  }

  onExit(proc: VProcess, listener: (exit: ExitInfo) => void): void {
    const list = this.exitListeners.get(proc) ?? [];
    list.push(listener);
    this.exitListeners.set(proc, list);
  }

  /** The parent of dead `proc` reaped it: its PID (and group and session ids) may come round now. */
  reap(proc: VProcess): void {
    if (proc.alive || proc.reapedByParent !== true) return;
    proc.reapedByParent = false;
    this.zombies.delete(proc);
    this.release(proc);
    this.hooks.reaped(proc);
  }

  /** kill(2) on one process. Returns false (ESRCH) when no live process holds the PID. */
  signal(pid: number, signal: Signal): boolean {
    const target = this.get(pid);
    if (target === undefined) return false;
    this.deliver(target, signal);
    return true;
  }

  /** kill(2) with a negative PID: every member of the group. False (ESRCH) when it is empty. */
  signalGroup(pgid: number, signal: Signal): boolean {
    const members = this.groupMembers(pgid);
    for (const member of members) this.deliver(member, signal);
    return members.length > 0;
  }

  /** The process ends now (exit(2), or the kernel finishing a signal). */
  terminate(proc: VProcess, exit: ExitInfo): void {
    if (!proc.alive) return;
    proc.alive = false;
    proc.exit = exit;
    proc.exitedAt = this.hooks.now();
    this.alive.delete(proc);
    // A zombie keeps its PID until its parent reaps it (Linux): a runner may count on its own
    // child's PID not coming round before it hears of the exit.
    if (proc.reapedByParent === true) this.zombies.add(proc);
    else this.release(proc);
    if (proc.spawnIndex !== undefined) {
      const left = (this.liveOfChild.get(proc.spawnIndex) ?? 0) - 1;
      if (left > 0) this.liveOfChild.set(proc.spawnIndex, left);
      else this.liveOfChild.delete(proc.spawnIndex);
    }
    this.unindex(this.byParent, proc.ppid, proc);
    this.unindex(this.byGroup, proc.pgid, proc);
    for (const child of this.children(proc.pid)) {
      child.ppid = INIT_PID;
      this.index(this.byParent, INIT_PID, child);
    }
    this.byParent.delete(proc.pid);
    this.hooks.exited(proc);
    // Its zombies pass to init, which reaps them at once (a crashed runner's unreaped children).
    if (this.zombies.size > 0) for (const zombie of [...this.zombies]) if (zombie.ppid === proc.pid) this.reap(zombie);
    const listeners = this.exitListeners.get(proc) ?? [];
    this.exitListeners.delete(proc);
    for (const listener of listeners) listener(exit);
  }

  private deliver(target: VProcess, signal: Signal): void {
    if (target.pid === INIT_PID) return; // init ignores what it does not handle
    // A process in D state takes no signal until it leaves the kernel; `never`: it does not.
    if (target.sigkillDeath === 'never' && target.sigkilledAt !== undefined) return;
    if (signal === 'SIGTERM' && target.ignoresSigterm) return;
    let delay = target.dieDelayMs;
    if (signal === 'SIGKILL') {
      target.sigkilledAt ??= this.hooks.now();
      const killDelay = target.sigkillDeath ?? this.hooks.sigkillDeathMs();
      if (killDelay === 'never') return;
      delay = killDelay;
    }
    const dueAt = this.hooks.now() + delay;
    if (target.exitDueAt !== undefined && target.exitDueAt <= dueAt) return;
    target.exitDueAt = dueAt;
    this.hooks.later(delay, () => {
      if (target.exitDueAt === dueAt) this.terminate(target, { code: null, signal });
    });
  }

  private index(map: Map<number, Set<VProcess>>, key: number, proc: VProcess): void {
    let set = map.get(key);
    if (set === undefined) map.set(key, (set = new Set()));
    set.add(proc);
  }

  private unindex(map: Map<number, Set<VProcess>>, key: number, proc: VProcess): void {
    const set = map.get(key);
    if (set === undefined) return;
    set.delete(proc);
    if (set.size === 0) map.delete(key);
  }

  /** A PID is taken while a live process holds it or still names a live group or session (as in Linux). */
  private inUse(pid: number): boolean {
    return (this.idsInUse.get(pid) ?? 0) > 0;
  }

  private claim(proc: VProcess): void {
    for (const id of new Set([proc.pid, proc.pgid, proc.sid])) this.idsInUse.set(id, (this.idsInUse.get(id) ?? 0) + 1);
  }

  private release(proc: VProcess): void {
    for (const id of new Set([proc.pid, proc.pgid, proc.sid])) {
      const held = this.idsInUse.get(id);
      if (!(held !== undefined && held > 0)) throw broken(`id ${id} released more often than it was claimed`);
      const left = held - 1;
      if (left > 0) this.idsInUse.set(id, left);
      else this.idsInUse.delete(id);
    }
  }

  private allocatePid(prefer: number | undefined): number {
    if (prefer !== undefined && prefer >= FIRST_USER_PID && prefer <= this.pidMax && !this.inUse(prefer)) {
      return prefer;
    }
    const span = this.pidMax - FIRST_USER_PID + 1;
    for (let tries = 0; tries < span; tries++) {
      this.lastPid = this.lastPid >= this.pidMax ? FIRST_USER_PID : this.lastPid + 1;
      if (!this.inUse(this.lastPid)) return this.lastPid;
    }
    throw new WorldLimitError(
      'pid_max',
      `no free PID below pid_max ${this.pidMax}: more processes of the scenario were alive at once than the kernel allows`,
      `raise world.pidMax (up to 4194304) or use a smaller agent.tree`,
    );
  }

  private register(
    pid: number,
    fields: Omit<VProcess, 'pid' | 'generation' | 'startedAt' | 'alive' | 'ignoresSigterm' | 'dieDelayMs'> &
      Partial<Pick<VProcess, 'ignoresSigterm' | 'dieDelayMs'>>,
  ): VProcess {
    const proc: VProcess = {
      ignoresSigterm: false,
      dieDelayMs: 5,
      ...fields,
      pid,
      generation: `g${this.nextGeneration++}`,
      startedAt: this.hooks.now(),
      alive: true,
    };
    this.byPid.set(pid, proc);
    this.alive.add(proc);
    this.index(this.byParent, proc.ppid, proc);
    this.index(this.byGroup, proc.pgid, proc);
    if (proc.spawnIndex !== undefined)
      this.liveOfChild.set(proc.spawnIndex, (this.liveOfChild.get(proc.spawnIndex) ?? 0) + 1);
    this.claim(proc);
    this.hooks.started(proc);
    return proc;
  }
}
