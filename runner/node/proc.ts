// Reading Linux's /proc: who a process is (its start time tells a reused PID apart), its parent,
// group and session, and its environment (where a run's and a spawn's markers are found).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  readonly pgid: number;
  readonly sid: number;
  /** Field 22 of /proc/<pid>/stat: start time in clock ticks since boot. The process generation. */
  readonly starttime: string;
  readonly state: string;
}

/** Parses /proc/<pid>/stat; undefined when the process is gone (or a zombie, which is as good as gone). */
export function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may itself hold spaces and parentheses.
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).split(' ');
  const state = fields[0] ?? '?';
  if (state === 'Z' || state === 'X') return undefined;
  return {
    pid,
    state,
    ppid: Number(fields[1]),
    pgid: Number(fields[2]),
    sid: Number(fields[3]),
    starttime: fields[19] ?? '',
  };
}

/** The environment of a process, or undefined if it is gone or not ours to read. */
export function readEnviron(pid: number): Map<string, string> | undefined {
  let raw: string;
  try {
    raw = readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch {
    return undefined;
  }
  const env = new Map<string, string>();
  for (const entry of raw.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return env;
}

export function readCwd(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

export function listPids(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (/^\d+$/.test(name)) pids.push(Number(name));
  }
  return pids;
}

export interface MarkedProcess extends ProcStat {
  readonly env: Map<string, string>;
}

/** Every live process whose environment holds name=value, with its stat (a consistent pair). */
export function findMarked(name: string, value: string): MarkedProcess[] {
  const found: MarkedProcess[] = [];
  for (const pid of listPids()) {
    const env = readEnviron(pid);
    if (env?.get(name) !== value) continue;
    const stat = readStat(pid);
    if (stat !== undefined) found.push({ ...stat, env });
  }
  return found;
}

/** Every live process whose `name` variable starts with `prefix` (a test run finding its own). */
export function findMarkedByPrefix(name: string, prefix: string): MarkedProcess[] {
  const found: MarkedProcess[] = [];
  for (const pid of listPids()) {
    const env = readEnviron(pid);
    if (env?.get(name)?.startsWith(prefix) !== true) continue;
    const stat = readStat(pid);
    if (stat !== undefined) found.push({ ...stat, env });
  }
  return found;
}

/** Sends a signal to a process only if it is still the one that was seen (same start time). */
export function signalIfSame(pid: number, starttime: string, signal: NodeJS.Signals): boolean {
  if (readStat(pid)?.starttime !== starttime) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}
