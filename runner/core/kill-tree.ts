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
  /**
   * Whether the root is the caller's own child whose exit it has not heard of yet. Until its
   * parent reaps it, a PID cannot come round (a zombie keeps it), so such a root is still the
   * same process, alive or a zombie, when /proc refuses to say: it can be signalled by PID.
   */
  readonly rootIsOwnChild?: () => boolean;
  /**
   * Members an earlier try SIGKILLed that lived on (D state: the kernel holds the SIGKILL until
   * they leave their uninterruptible sleep). Their SIGTERM grace is spent: a retry does not wait
   * it out again on them alone (a D-state process may stay for minutes, and a retry comes every
   * minute), but goes on to SIGKILL. A member not among them gets its SIGTERM grace as ever.
   */
  readonly sigkilledBefore?: readonly ProcessRef[] | undefined;
}

/** Whether `m` is the same process as when it was seen; `vouched` answers when /proc refuses the read (else it throws). */
function stillSame(processes: ProcessHost, m: ProcessInfo, vouched: (m: ProcessInfo) => boolean): boolean {
  try {
    return processes.generationOf(m.pid) === m.generation;
  } catch (error) {
    if (vouched(m)) return true;
    throw error;
  }
}

/** Whether `m` is read back as the same process; a read /proc refused proves nothing, so it is not (and is not signalled). */
function readsSame(processes: ProcessHost, m: ProcessInfo, vouched: (m: ProcessInfo) => boolean): boolean {
  try {
    return stillSame(processes, m, vouched);
  } catch {
    return false; // unread (EMFILE): its identity unproven
  }
}

/** Nothing is vouched for: every member must be read back. */
const NONE_VOUCHED = (): boolean => false;

export interface KillTiming {
  readonly termGraceMs: number;
  readonly killGraceMs: number;
  readonly pollIntervalMs: number;
}

export interface KillOutcome {
  /** Processes of the tree still alive when the routine gave up; empty when the tree is gone. */
  readonly survivors: readonly ProcessInfo[];
  /**
   * Why the routine cannot say the tree is gone although it saw no survivor: its last scan, or
   * a read of a member's generation, failed (/proc could not be read). Absent when all was read.
   */
  readonly unverified?: string;
}

/** Whether the outcome shows the tree gone: no survivor, and the last scan was read. */
export function treeGone(outcome: KillOutcome): boolean {
  return outcome.survivors.length === 0 && outcome.unverified === undefined;
}

/** The root, when the target vouches for it: its own unreaped child. */
function rootVouched(target: TreeTarget): (m: ProcessInfo) => boolean {
  return (m) =>
    m.pid === target.root.pid && m.generation === target.root.generation && target.rootIsOwnChild?.() === true;
}

/** The root as a member: it leads its own group. */
function rootMember(target: TreeTarget): ProcessInfo {
  const { pid, generation } = target.root;
  return { pid, generation, ppid: 0, pgid: pid };
}

/** The tree's live members right now. */
export function treeMembers(processes: ProcessHost, target: TreeTarget): Promise<ProcessInfo[]> {
  return membersOf(processes, target, rootMember(target), rootVouched(target));
}

/** treeMembers, with the root as a member and its vouching made once by the caller (a kill looks many times). */
async function membersOf(
  processes: ProcessHost,
  target: TreeTarget,
  root: ProcessInfo,
  vouched: (m: ProcessInfo) => boolean,
): Promise<ProcessInfo[]> {
  const marked = await processes.findByEnv(SPAWN_MARKER_ENV, target.marker);
  if (marked.some((p) => p.pid === root.pid)) return marked;
  // The root was started with the marker; if the scan cannot see it (mid-exec, or its environ
  // unreadable) and it is still the same process, it counts. A refused read of its generation
  // rejects, as a refused scan does, unless the root is the caller's own unreaped child.
  if (stillSame(processes, root, vouched)) marked.push(root);
  return marked;
}

/** A process's identity across scans: its PID and generation. */
const keyOf = (m: ProcessRef): string => `p${m.pid}:${m.generation}`;

function sendPass(
  processes: ProcessHost,
  members: readonly ProcessInfo[],
  signal: Signal,
  sent: Set<string>,
  vouched: (m: ProcessInfo) => boolean,
): void {
  const same = (m: ProcessInfo): boolean => readsSame(processes, m, vouched);
  // A scan takes time: by now a member may be gone and its PID, and group id, reused. A group is
  // signalled only while a member seen in it is still that same process (read back just now).
  const alive = members.filter(same);
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
    if (!same(member)) continue; // gone, its PID came round, or unread
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
  const root = rootMember(target);
  const vouched = rootVouched(target);
  const rootByPid = (): ProcessInfo[] => (readsSame(processes, root, vouched) ? [root] : []);
  return killMembers(processes, clock, () => membersOf(processes, target, root, vouched), timing, {
    knownWithoutScan: rootByPid,
    vouched,
    sigkilledBefore: target.sigkilledBefore,
  });
}

/** What a kill routine knows besides its scans. */
export interface KnownMembers {
  /** Members known without a scan (a root, by PID): signalled even while scans fail. */
  readonly knownWithoutScan?: () => ProcessInfo[];
  /** Members known to be the same process when /proc refuses to say (the caller's own unreaped child). */
  readonly vouched?: (m: ProcessInfo) => boolean;
  /** Members that survived an earlier try's SIGKILL: see TreeTarget.sigkilledBefore. */
  readonly sigkilledBefore?: readonly ProcessRef[] | undefined;
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
  known: KnownMembers = {},
): Promise<KillOutcome> {
  const { knownWithoutScan = () => [], vouched = NONE_VOUCHED } = known;
  const sigkilledBefore = new Set((known.sigkilledBefore ?? []).map(keyOf));
  const onlySigkilledBefore = (members: readonly ProcessInfo[]): boolean =>
    sigkilledBefore.size > 0 && members.every((m) => sigkilledBefore.has(keyOf(m)));
  /** The members seen last (read back by PID since); what a failed scan falls back on. */
  let seen: ProcessInfo[] = [];
  /** Why the last look says nothing for sure: its scan, or a read of a member's generation, failed. */
  let failure: string | undefined;
  /** Those of `members` that are still the same process. One whose read /proc refused is left out, and the look is unverified. */
  const readBack = (members: readonly ProcessInfo[]): ProcessInfo[] =>
    members.filter((m) => {
      try {
        return stillSame(processes, m, vouched);
      } catch (error) {
        failure ??= error instanceof Error ? error.message : String(error);
        return false;
      }
    });
  // A scan's answer is a snapshot taken when it began: a member that died since (its PID maybe
  // taken by a stranger already) is not a member, let alone a survivor of SIGKILL. Each is read
  // back by PID, which asks the kernel now. A scan that fails (no descriptor left to read /proc)
  // proves nothing gone: the members seen before and those known by PID are signalled, and the
  // routine looks again on the next pass.
  const find = async (): Promise<ProcessInfo[]> => {
    try {
      const scanned = await scan();
      failure = undefined;
      seen = readBack(scanned);
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
      const byPid = knownWithoutScan().filter((k) => !seen.some((m) => m.pid === k.pid));
      seen = readBack([...seen, ...byPid]);
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
      // Only survivors of an earlier try's SIGKILL left: SIGTERM cannot end them, SIGKILL may.
      // Known only from a look that was read (then `members` is not empty, or the routine has
      // returned above): behind a refused scan a member may hide that is owed its SIGTERM.
      if (signal === 'SIGTERM' && failure === undefined && onlySigkilledBefore(members)) break;
      // Members that appear during the wait (a late fork) are signalled too.
      sendPass(processes, members, signal, sent, vouched);
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
    sendPass(processes, unkilled, 'SIGKILL', killed, vouched);
    await sleep(clock, timing.pollIntervalMs);
    survivors = await find();
  }
  return failure === undefined ? { survivors } : { survivors, unverified: failure };
}
