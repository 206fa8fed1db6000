// The process port over the OS: detached children, /proc for identity and trees, kill(2).
import { spawn, type ChildProcess } from 'node:child_process';
import {
  HostError,
  type ExitInfo,
  type ProcessHost,
  type ProcessInfo,
  type ProcessRef,
  type Signal,
} from '../ports.ts';
import { listPids, readEnviron, readStat, type MarkedProcess } from './proc.ts';
import { statSync } from 'node:fs';

const MAX_REMEMBERED_EXITS = 1_000;

export interface NodeProcessHostOptions {
  /** Added to every child's environment on top of the runner's own (e.g. the harness's run marker). */
  readonly extraEnv?: Readonly<Record<string, string>>;
}

export class NodeProcessHost implements ProcessHost {
  private readonly children = new Map<number, { child: ChildProcess; ref: ProcessRef; exit?: ExitInfo }>();
  /** Children that exited, newest last, bounded: an onExit after the fact is answered from here. */
  private readonly exited = new Map<number, { child: ChildProcess; ref: ProcessRef; exit?: ExitInfo }>();
  private scan: MarkedProcess[] | undefined;

  constructor(private readonly options: NodeProcessHostOptions = {}) {}

  spawnDetached(spec: Parameters<ProcessHost['spawnDetached']>[0]): Promise<ProcessRef> {
    return new Promise((resolve, reject) => {
      // Node reports a missing working directory as the command's ENOENT ("spawn hapi ENOENT"),
      // which blames the agent: name the directory instead.
      if (!isDirectory(spec.cwd)) {
        reject(new HostError('ENOENT', `the working directory ${spec.cwd} does not exist (or is not a directory)`));
        return;
      }
      let child: ChildProcess;
      try {
        child = spawn(spec.command, [...spec.args], {
          cwd: spec.cwd,
          env: { ...process.env, ...this.options.extraEnv, ...spec.env },
          detached: true, // setsid(): the child leads its own session and process group
          stdio: 'ignore',
        });
      } catch (error) {
        reject(
          new HostError(
            (error as NodeJS.ErrnoException).code ?? 'ESPAWN',
            `spawn ${spec.command}: ${(error as Error).message}`,
          ),
        );
        return;
      }
      child.once('error', (error: NodeJS.ErrnoException) => {
        reject(new HostError(error.code ?? 'ESPAWN', `spawn ${spec.command}: ${error.message}`));
      });
      child.once('spawn', () => {
        const pid = child.pid!;
        let generation: string | null;
        try {
          generation = this.generationOf(pid);
        } catch (error) {
          // No start time, no name the runner could check it by later. Its PID, and the group
          // it leads (detached: setsid), are ours until Node reaps it, so both are killed now
          // rather than left running unnamed (whatever it forked in that instant stays in the group).
          if (!kill(-pid, 'SIGKILL')) child.kill('SIGKILL');
          const refusal = error as HostError;
          reject(new HostError(refusal.code, `spawn ${spec.command}: ${refusal.message}; the child was killed`));
          return;
        }
        const ref = { pid, generation: generation ?? 'exited-at-once' };
        const entry: { child: ChildProcess; ref: ProcessRef; exit?: ExitInfo } = { child, ref };
        this.children.set(pid, entry);
        child.once('exit', (code, signal) => {
          entry.exit = { code, signal: signal === 'SIGTERM' || signal === 'SIGKILL' ? signal : null };
          if (this.children.get(pid) === entry) this.children.delete(pid);
          // Kept a while, so that an onExit asked for after the exit still hears of it.
          this.exited.set(pid, entry);
          if (this.exited.size > MAX_REMEMBERED_EXITS) this.exited.delete(this.exited.keys().next().value!);
        });
        child.unref();
        resolve(ref);
      });
    });
  }

  onExit(ref: ProcessRef, callback: (exit: ExitInfo) => void): boolean {
    const entry = this.children.get(ref.pid) ?? this.exited.get(ref.pid);
    if (entry === undefined || entry.ref.generation !== ref.generation) return false;
    const exit = entry.exit;
    // Already exited: delivered soon, never synchronously (as the port promises).
    if (exit !== undefined) setImmediate(() => callback(exit));
    else entry.child.once('exit', () => callback(entry.exit ?? { code: null, signal: null }));
    return true;
  }

  generationOf(pid: number): string | null {
    try {
      return readStat(pid, true)?.starttime ?? null;
    } catch (error) {
      // Out of descriptors or memory: not "gone" (the port's contract); the caller decides.
      const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
      throw new HostError(code, `read /proc/${pid}/stat: ${(error as Error).message}`);
    }
  }

  signal(pid: number, signal: Signal): boolean {
    return kill(pid, signal);
  }

  signalGroup(pgid: number, signal: Signal): boolean {
    if (pgid <= 1) return false; // -1 would be every process we may signal; never
    return kill(-pgid, signal);
  }

  async findByEnv(name: string, value: string): Promise<ProcessInfo[]> {
    const found: ProcessInfo[] = [];
    for (const p of this.snapshot())
      if (p.env.get(name) === value) found.push({ pid: p.pid, generation: p.starttime, ppid: p.ppid, pgid: p.pgid });
    return found;
  }

  /**
   * One scan of /proc shared by every caller in the same turn of the event loop: a hundred trees
   * being killed at once poll together, and read /proc once rather than a hundred times.
   */
  private snapshot(): MarkedProcess[] {
    if (this.scan === undefined) {
      this.scan = listPids().flatMap((pid) => {
        const env = readEnviron(pid);
        // A read that fails for a reason other than "gone" or "not ours" throws (proc.ts): a
        // scan that cannot read /proc rejects, rather than report what it could not see as gone.
        const stat = env === undefined ? undefined : readStat(pid, true);
        return env !== undefined && stat !== undefined ? [{ ...stat, env }] : [];
      });
      setImmediate(() => {
        this.scan = undefined;
      });
    }
    return this.scan;
  }

  async childrenOf(pid: number): Promise<ProcessInfo[]> {
    const found: ProcessInfo[] = [];
    for (const candidate of listPids()) {
      const stat = readStat(candidate, true);
      if (stat?.ppid === pid)
        found.push({ pid: stat.pid, generation: stat.starttime, ppid: stat.ppid, pgid: stat.pgid });
    }
    return found;
  }
}

function kill(target: number, signal: Signal): boolean {
  try {
    process.kill(target, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
