// The sandbox of a black-box run: the runner command and everything it starts live in a PID
// namespace of their own (`unshare --pid --fork --mount-proc`, as root), whose PID 1 is a canary
// (SANDBOX_INIT below). A runner that signals whatever PID a webhook names can
// then reach nothing but the run's own processes: not the machine's init, not the user's shell.
// Processes enter it through `nsenter`. PIDs differ inside and out: /proc/<pid>/status's NSpid
// line gives both, and every PID that crosses the boundary is translated (pidSpace()).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findMarked, readStat } from '../../runner/node/proc.ts';
import { HarnessError } from './harness-error.ts';

/**
 * PID 1 of the sandbox, in Perl (essential on Debian; on every Linux with git): it holds the
 * namespace open, writes down every signal it is sent (the canary: a runner that signals PID 1
 * would have hit the machine's init), and reaps every orphan, as init does. It must reap: a
 * zombie still answers kill(pid, 0), and a runner that checks a lock file's PID that way (hapi
 * does) would think its SIGKILLed predecessor still ran. It also starts PIDs at 10000, as on a
 * machine that has been up a while: a fresh namespace hands them out from 2 and reuses them at
 * once, which would fool a runner that trusts a bare PID far more often than a machine does.
 */
const SANDBOX_INIT = `
use strict;
my $log = shift;
sub note { open(my $f, '>>', $log) or return; print $f "$_[0]\\n"; close $f; }
if (open(my $p, '>', '/proc/sys/kernel/ns_last_pid')) { print $p "9999"; close $p; }
for my $s (qw(TERM INT HUP USR1 USR2 QUIT)) { $SIG{$s} = sub { note("SIG$s"); }; }
note('');
while (1) { my $pid = waitpid(-1, 0); sleep 1 if $pid <= 0; }
`;

/** How long the namespace's PID 1 may take to come up. */
const START_TIMEOUT_MS = 10_000;

let availability: { ok: true } | { ok: false; why: string } | undefined;

/** Whether a PID namespace can be made here (root, Linux, unshare and nsenter present); asked once. */
export function sandboxAvailability(): { ok: true } | { ok: false; why: string } {
  if (availability !== undefined) return availability;
  if (process.platform !== 'linux')
    return (availability = { ok: false, why: `PID namespaces are Linux only (this is ${process.platform})` });
  try {
    execFileSync('unshare', ['--pid', '--fork', '--mount-proc', 'true'], { stdio: 'pipe', timeout: 10_000 });
    execFileSync('nsenter', ['--version'], { stdio: 'pipe', timeout: 10_000 });
    execFileSync('perl', ['-e', '1'], { stdio: 'pipe', timeout: 10_000 });
    availability = { ok: true };
  } catch (error) {
    const text = String((error as { stderr?: Buffer }).stderr ?? (error as Error).message)
      .trim()
      .split('\n')[0];
    availability = {
      ok: false,
      why: `unshare --pid --fork --mount-proc failed (${text}): it needs root, util-linux and perl`,
    };
  }
  return availability;
}

/** Translates PIDs between the sandbox (inside) and this machine (host). Identity without a sandbox. */
export interface PidSpace {
  toHost(inside: number): number | undefined;
}

export const HOST_PIDS: PidSpace = { toHost: (pid) => pid };

/** The PIDs of a process in each namespace it is in, outermost first (/proc/<pid>/status NSpid). */
export function nsPids(hostPid: number): number[] | undefined {
  try {
    const line = readFileSync(`/proc/${hostPid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('NSpid:'));
    return line?.slice(6).trim().split(/\s+/).map(Number);
  } catch {
    return undefined;
  }
}

export class Sandbox {
  private constructor(
    /** Host PID of the namespace's PID 1 (the canary init). */
    readonly initPid: number,
    readonly initStarttime: string,
    private readonly signalLog: string,
    private readonly marker: { name: string; value: string },
  ) {}

  /** Makes the namespace and waits for its PID 1. `env` carries the run's marker, so clean-up finds it all. */
  static async open(dir: string, env: NodeJS.ProcessEnv, marker: { name: string; value: string }): Promise<Sandbox> {
    const available = sandboxAvailability();
    if (!available.ok)
      throw new HarnessError(
        `--sandbox: ${available.why}; run as root, or pass --no-sandbox to run the runner unconfined`,
      );
    const log = join(dir, 'sandbox-pid1-signals.log');
    const unshare = spawn(
      'unshare',
      ['--pid', '--fork', '--mount-proc', '--kill-child', 'perl', '-e', SANDBOX_INIT, log],
      { detached: true, stdio: 'ignore', env },
    );
    unshare.unref();
    const started = Date.now();
    for (;;) {
      const pid1 = findMarked(marker.name, marker.value).find(
        (p) => p.ppid === unshare.pid && nsPids(p.pid)?.at(-1) === 1,
      );
      if (pid1 !== undefined && existsSync(log)) return new Sandbox(pid1.pid, pid1.starttime, log, marker);
      if (Date.now() - started > START_TIMEOUT_MS)
        throw new HarnessError(`the sandbox's PID 1 did not come up within ${START_TIMEOUT_MS / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Starts `command` (a shell command, or a program with arguments) inside, in its own process group. */
  spawnInside(
    program: string,
    args: readonly string[],
    options: { env: NodeJS.ProcessEnv; stdio: 'ignore' | ['ignore', number, number] },
  ) {
    if (readStat(this.initPid)?.starttime !== this.initStarttime)
      throw new HarnessError('the sandbox is gone (its PID 1 died)');
    // Entering the mount namespace would leave it at the root: keep the harness's working directory.
    return spawn(
      'nsenter',
      ['--target', String(this.initPid), '--pid', '--mount', `--wd=${process.cwd()}`, '--', program, ...args],
      { detached: true, stdio: options.stdio, env: options.env },
    );
  }

  /** Signals the sandbox's PID 1 received: a runner signalled the process that would be the machine's init. */
  pid1Signals(): string[] {
    return existsSync(this.signalLog)
      ? readFileSync(this.signalLog, 'utf8')
          .split('\n')
          .filter((line) => line.startsWith('SIG'))
      : [];
  }

  /**
   * Host PIDs of the run's processes by their PIDs inside: from `processes` when the caller has
   * just scanned /proc for them (one scan, not two), else read now.
   */
  pidSpace(processes?: readonly { pid: number }[]): PidSpace {
    const host = new Map<number, number>();
    for (const p of processes ?? findMarked(this.marker.name, this.marker.value)) {
      const inside = nsPids(p.pid)?.at(-1);
      if (inside !== undefined && inside !== p.pid) host.set(inside, p.pid); // else: not in the sandbox
    }
    return { toHost: (pid) => host.get(pid) };
  }
}
