// The processes of one real run, as /proc shows them: every live process that carries the run's
// marker, each remembered by its identity (PID and start time) so that a dying process, whose
// environment already reads empty, is still known as the run's; and as the oracle sees them.
import { readFileSync } from 'node:fs';
import { findMarked, listPids, readCwd, readEnviron, readStat, type MarkedProcess } from '../../runner/node/proc.ts';
import { RUN_MARKER_ENV, SPAWN_INDEX_ENV } from '../../runner/wire.mjs';
import type { ChildRecord, ProcessView } from '../records.ts';

/** A ChildRecord's root as the harness sees it: updated as the OS tells. */
export interface RealRoot extends ProcessView {
  generation: string;
  alive: boolean;
  exitedAt?: number;
  signalledByRunner?: boolean;
  /** What the runner started, when it was not its config's agent command and arguments (in-process runs). */
  notTheAgent?: string;
  /** When (scenario ms) the runner first signalled it, when the harness saw the signal go out. */
  signalledAt?: number;
  /** The harness killed it (a `crash` step): its death is the world's doing, not the runner's. */
  crashedByWorld?: boolean;
}

export class RunProcesses {
  /** `pid:starttime` → spawn index (-1: of the run, but of no child: the runner, its loader). */
  private readonly known = new Map<string, number>();

  constructor(
    private readonly runId: string,
    /** The children seen so far (a wrapper that claimed its index carries none in its env). */
    private readonly children: () => readonly ChildRecord<RealRoot>[],
  ) {}

  /** Live processes of the run; each one seen is remembered by its identity. */
  all(): MarkedProcess[] {
    const found = findMarked(RUN_MARKER_ENV, this.runId);
    for (const p of found) this.known.set(`${p.pid}:${p.starttime}`, Number(p.env.get(SPAWN_INDEX_ENV) ?? -1));
    return found;
  }

  /** Live processes of the run, as the oracle sees processes. */
  live(): Array<ProcessView & { starttime: string }> {
    return this.all().map((p) => {
      const root = this.children().find((c) => c.root.pid === p.pid && c.root.generation === p.starttime);
      const index = p.env.get(SPAWN_INDEX_ENV) ?? (root !== undefined ? String(root.index) : undefined);
      return {
        pid: p.pid,
        starttime: p.starttime,
        role: root !== undefined ? ('wrapper' as const) : ('descendant' as const),
        ...(index !== undefined ? { spawnIndex: Number(index) } : {}),
        cwd: readCwd(p.pid) ?? '',
        alive: true,
      };
    });
  }

  /**
   * Whether the process `pid` that started at `starttime` is one of the run's, and of which
   * child: its spawn index, -1 for the run's others, undefined for a process not of the run.
   */
  spawnIndexOf(pid: number, starttime: string): number | undefined {
    const key = `${pid}:${starttime}`;
    const remembered = this.known.get(key);
    if (remembered !== undefined) return remembered;
    const env = readEnviron(pid);
    if (env?.get(RUN_MARKER_ENV) !== this.runId) return undefined;
    const index = Number(env.get(SPAWN_INDEX_ENV) ?? -1);
    this.known.set(key, index);
    return index;
  }
}

/** Every live process in a process group, ours or not. */
export function groupMembers(pgid: number): number[] {
  return listPids().filter((pid) => readStat(pid)?.pgid === pgid);
}

/** A process's command line, cut to 120 characters, for a report. */
export function readCmd(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim().slice(0, 120);
  } catch {
    return '?';
  }
}
