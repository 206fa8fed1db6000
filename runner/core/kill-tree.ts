// Kills a session's whole process tree, and only it.
//
// A tree is every live process that carries the spawn's marker in its environment: the child
// itself, its process group, and the descendants that left the group (setsid, double fork)
// and were re-parented to init. Each signal goes to a process only after its generation was
// read back, and to a group only while a marked process is in it, so a reused PID or a reused
// process-group id is never hit.
import { sleep, type ProcessHost, type ProcessInfo, type Clock, type Signal, type ProcessRef } from '../ports.ts';
import { SPAWN_MARKER_ENV } from '../wire.mjs';

// The names of the markers a reference child carries (spawn, owner, boot, token): ../wire.mjs.
export { SPAWN_MARKER_ENV, OWNER_ENV, BOOT_ENV, SPAWN_TOKEN_ENV } from '../wire.mjs';

export interface TreeTarget {
  readonly root: ProcessRef;
  readonly marker: string;
}

export interface KillTiming {
  readonly termGraceMs: number;
  readonly killGraceMs: number;
  readonly pollIntervalMs: number;
}

export interface KillOutcome {
  /** Processes of the tree still alive when the routine gave up; empty when the tree is gone. */
  readonly survivors: readonly ProcessInfo[];
  /**
   * Why the routine cannot say the tree is gone although it saw no survivor: its last scan
   * failed (/proc could not be read). Absent when the last scan was read.
   */
  readonly unverified?: string;
}

/** Whether the outcome shows the tree gone: no survivor, and the last scan was read. */
export function treeGone(outcome: KillOutcome): boolean {
  return outcome.survivors.length === 0 && outcome.unverified === undefined;
}

/** The tree's live members right now. */
export async function treeMembers(processes: ProcessHost, target: TreeTarget): Promise<ProcessInfo[]> {
  const marked = await processes.findByEnv(SPAWN_MARKER_ENV, target.marker);
  const rootAlive = processes.generationOf(target.root.pid) === target.root.generation;
  if (rootAlive && !marked.some((p) => p.pid === target.root.pid)) {
    // The root was started with the marker; if the scan cannot see it, still count it.
    marked.push({ ...target.root, ppid: 0, pgid: target.root.pid });
  }
  return marked;
}

/** A process's identity across scans: its PID and generation. */
const keyOf = (m: ProcessInfo): string => `p${m.pid}:${m.generation}`;

function sendPass(processes: ProcessHost, members: readonly ProcessInfo[], signal: Signal, sent: Set<string>): void {
  // A scan takes time: by now a member may be gone and its PID, and group id, reused. A group is
  // signalled only while a member seen in it is still that same process (read back just now).
  const alive = members.filter((m) => processes.generationOf(m.pid) === m.generation);
  // A group is signalled whenever a member of it is seen for the first time in this phase: on
  // the first pass, and again when a process joined it since (a late fork). Whatever that
  // newcomer forked with its environment cleared (env -i, a sandbox) is in no scan, and only the
  // group's signal reaches it (the simulator found the reference missing one when groups were
  // signalled once per phase). Not on every pass: a second SIGTERM can cut short an agent's
  // graceful exit (many CLIs take it as "quit now").
  const groups = new Set(alive.filter((m) => !sent.has(keyOf(m))).map((m) => m.pgid));
  for (const pgid of groups) processes.signalGroup(pgid, signal);
  // Each member on its own, once per phase (a group signal misses one that left its group since).
  for (const member of members) {
    const key = keyOf(member);
    if (sent.has(key)) continue;
    if (processes.generationOf(member.pid) !== member.generation) continue; // gone, or the PID came round
    sent.add(key);
    processes.signal(member.pid, signal);
  }
}

/** SIGTERM the tree, wait up to the grace, SIGKILL what is left, wait again, report survivors. */
export function killTree(
  processes: ProcessHost,
  clock: Clock,
  target: TreeTarget,
  timing: KillTiming,
): Promise<KillOutcome> {
  // When /proc cannot be read, the root is still known by PID (and leads its own group).
  const rootByPid = (): ProcessInfo[] =>
    processes.generationOf(target.root.pid) === target.root.generation
      ? [{ ...target.root, ppid: 0, pgid: target.root.pid }]
      : [];
  return killMembers(processes, clock, () => treeMembers(processes, target), timing, rootByPid);
}

/**
 * The kill routine over any way of finding the processes to end: SIGTERM (their groups, and each
 * after its generation was read back), a grace, SIGKILL, a grace; what is left is reported.
 */
export async function killMembers(
  processes: ProcessHost,
  clock: Clock,
  scan: () => Promise<ProcessInfo[]>,
  timing: KillTiming,
  /** Members known without a scan (a root, by PID): signalled even while scans fail. */
  knownWithoutScan: () => ProcessInfo[] = () => [],
): Promise<KillOutcome> {
  const alive = (m: ProcessInfo): boolean => processes.generationOf(m.pid) === m.generation;
  /** The members seen last (read back by PID since); what a failed scan falls back on. */
  let seen: ProcessInfo[] = [];
  /** The last scan's failure, while the scans after it failed too. */
  let failure: string | undefined;
  // A scan's answer is a snapshot taken when it began: a member that died since (its PID maybe
  // taken by a stranger already) is not a member, let alone a survivor of SIGKILL. Each is read
  // back by PID, which asks the kernel now. A scan that fails (no descriptor left to read /proc)
  // proves nothing gone: the members seen before and those known by PID are signalled, and the
  // routine looks again on the next pass.
  const find = async (): Promise<ProcessInfo[]> => {
    try {
      seen = (await scan()).filter(alive);
      failure = undefined;
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
      const byPid = knownWithoutScan().filter((k) => !seen.some((m) => m.pid === k.pid));
      seen = [...seen, ...byPid].filter(alive);
    }
    return seen;
  };
  const phases: ReadonlyArray<readonly [Signal, number]> = [
    ['SIGTERM', timing.termGraceMs],
    ['SIGKILL', timing.killGraceMs],
  ];
  /** The members the SIGKILL phase signalled. */
  let killed = new Set<string>();
  for (const [signal, graceMs] of phases) {
    const sent = new Set<string>();
    if (signal === 'SIGKILL') killed = sent;
    const deadline = clock.now() + graceMs;
    // Bounded: one pass per poll interval until the deadline, plus the first.
    const maxPasses = Math.ceil(graceMs / timing.pollIntervalMs) + 1;
    for (let pass = 0; pass <= maxPasses; pass++) {
      let members = await find();
      if (members.length === 0 && failure === undefined) {
        // A scan is a snapshot taken a moment ago, and may miss a process mid-exec: "nothing
        // left" is believed only when a second look, a poll interval later, agrees.
        await sleep(clock, timing.pollIntervalMs);
        members = await find();
        if (members.length === 0 && failure === undefined) return { survivors: [] };
      }
      // Members that appear during the wait (a late fork) are signalled too.
      sendPass(processes, members, signal, sent);
      const left = deadline - clock.now();
      if (left <= 0) break;
      await sleep(clock, Math.min(timing.pollIntervalMs, left));
    }
  }
  let survivors = await find();
  // A member first seen by this last look (the scans before it failed, or were too slow to see
  // it in time) has had no SIGKILL: it is no survivor of one yet. It gets one, and a last look.
  const unkilled = survivors.filter((m) => !killed.has(keyOf(m)));
  if (unkilled.length > 0) {
    sendPass(processes, unkilled, 'SIGKILL', killed);
    await sleep(clock, timing.pollIntervalMs);
    survivors = await find();
  }
  return failure === undefined ? { survivors } : { survivors, unverified: failure };
}
