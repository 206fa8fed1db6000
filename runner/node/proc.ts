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

/**
 * How a read of /proc/<pid>/... may fail and still say something: the process is gone (ENOENT,
 * ESRCH) or not ours to read (EACCES, EPERM). Anything else (no descriptor left: EMFILE, ENFILE;
 * ENOMEM; EIO) says nothing about the process, and a scan that took it for "not there" would
 * report a live process gone.
 */
function saysGoneOrHidden(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ESRCH' || code === 'EACCES' || code === 'EPERM';
}

/**
 * A file of /proc, or undefined when its process is gone or not ours to read. With `strict`, a
 * read that failed for any other reason throws; without it, every failure answers undefined.
 * (`read` is the file system's, replaced only by tests: the suite mocks no module.)
 */
export function readProcFile(
  path: string,
  strict: boolean,
  read: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): string | undefined {
  try {
    return read(path);
  } catch (error) {
    if (strict && !saysGoneOrHidden(error)) throw error;
    return undefined;
  }
}

/**
 * Parses /proc/<pid>/stat; undefined when the process is gone (or a zombie, which is as good as
 * gone). With `strict` (a scan, a look by PID), a read that failed for another reason throws
 * instead of answering "gone"; without it (signalIfSame, which signals only the process it saw)
 * any failure answers undefined, and nothing is signalled.
 */
export function readStat(pid: number, strict = false): ProcStat | undefined {
  const text = readProcFile(`/proc/${pid}/stat`, strict);
  if (text === undefined) return undefined;
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

/**
 * The environment of a process, or undefined if it is gone or not ours to read. A read that
 * failed for another reason (EMFILE...) throws: it is neither.
 */
export function readEnviron(pid: number): Map<string, string> | undefined {
  const raw = readProcFile(`/proc/${pid}/environ`, true);
  if (raw === undefined) return undefined;
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
    const stat = readStat(pid, true);
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
    const stat = readStat(pid, true);
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
