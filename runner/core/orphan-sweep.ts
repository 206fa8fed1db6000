// After a restart: children of an earlier life that the state file does not name (it was lost
// or corrupt, or the runner died between a spawn and its write) are found by the owner marker
// and killed. None of them can be adopted (nothing says which session they serve), and none may
// live on unlisted. Their worktrees cannot be found without the state file: that is the one
// thing a lost state file still leaks.
import type { RunnerConfig } from '../config.ts';
import { sleep, type ProcessInfo, type ProcessRef, type RunnerPorts } from '../ports.ts';
import { BOOT_ENV, killMembers, OWNER_ENV, SPAWN_MARKER_ENV } from './kill-tree.ts';
import { sameProcess } from './generation.ts';

/**
 * Kills the earlier life's unknown children. Resolves to those that survived SIGKILL (D state):
 * while any lives, a resume could start a second agent of the same conversation, and a worktree
 * of the earlier life may still be in use.
 */
export async function sweepOrphans(
  ports: RunnerPorts,
  config: RunnerConfig,
  bootStamp: string,
  adoptedMarkers: readonly string[],
  stateWasLost: boolean,
  /** The adopted children's roots: kept by PID and generation even when a scan misses them. */
  adoptedRoots: readonly ProcessRef[] = [],
): Promise<readonly ProcessInfo[]> {
  const { processes } = ports;
  const ownerId = config.ownerId;
  if (ownerId === undefined) {
    if (stateWasLost)
      ports.logger.log(
        'error',
        'state file lost and no ownerId configured: children of the earlier life cannot be found',
      );
    return [];
  }
  const orphans = async (): Promise<ProcessInfo[]> => {
    const owned = await processes.findByEnv(OWNER_ENV, ownerId);
    if (owned.length === 0) return [];
    const keep = new Set<string>(adoptedRoots.map((r) => `${r.pid}:${r.generation}`));
    // This life's children (spawned since, even mid-spawn) and the adopted ones are not orphans.
    for (const p of await processes.findByEnv(BOOT_ENV, bootStamp)) keep.add(`${p.pid}:${p.generation}`);
    for (const marker of adoptedMarkers)
      for (const p of await processes.findByEnv(SPAWN_MARKER_ENV, marker)) keep.add(`${p.pid}:${p.generation}`);
    return owned.filter((p) => !keep.has(`${p.pid}:${p.generation}`));
  };
  const found = await lookPatiently(ports, config.pollIntervalMs, orphans);
  if (found.length === 0) return [];
  ports.logger.log(
    stateWasLost ? 'error' : 'warn',
    'killing children of an earlier life that the state file does not know',
    { count: found.length },
  );
  // Those found are signalled even while later scans fail (read back by PID first).
  const outcome = await killMembers(processes, ports.clock, orphans, config, { knownWithoutScan: () => found });
  if (outcome.survivors.length > 0)
    ports.logger.log('error', 'orphans survived SIGKILL', { count: outcome.survivors.length });
  // A last look that failed: the orphans seen before and alive by PID are the survivors (the
  // routine reports them), and those are watched; none seen is as much as can be known.
  if (outcome.unverified !== undefined)
    ports.logger.log('warn', 'orphan sweep could not look a last time', { why: outcome.unverified });
  return outcome.survivors;
}

/**
 * Looks at /proc again while it cannot be read (no descriptor left, no memory): backing off to a
 * second, for up to a day. Giving up sooner would leave the earlier life's orphans running for
 * good after an EMFILE storm that outlasted it (the bounded proof's proc-unread world found the
 * sweep giving up after 20 looks, 16 s, and the orphans leaked).
 */
const SCAN_TRIES = 24 * 3_600;
const MAX_SCAN_WAIT_MS = 1_000;

/**
 * A scan tried again while it fails, a poll apart and backing off to a second, at most
 * SCAN_TRIES times (then its failure is the caller's). A failed read of /proc says nothing about
 * what runs: it is neither "none" nor "all".
 */
async function lookPatiently<T>(ports: RunnerPorts, pollMs: number, look: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await look();
    } catch (error) {
      if (attempt >= SCAN_TRIES) throw error;
      // The first failure, then once a minute: a storm of a day must not write a line a second.
      if (attempt % 60 === 1)
        ports.logger.log('warn', 'process scan failed; looking again', {
          attempt,
          error: error instanceof Error ? error.message : String(error),
        });
      await sleep(ports.clock, Math.min(pollMs * 2 ** (attempt - 1), MAX_SCAN_WAIT_MS));
    }
  }
}

/** How long the survivors of a sweep are waited for: backing off to once a minute, for a day. */
const MAX_WAIT_STEP_MS = 60_000;
const MAX_LOOKS = 24 * 60 + 10;

/**
 * The orphans that survived the sweep's SIGKILL (D state), watched until they leave the kernel:
 * while one lives, a resume must not start (it may serve the same conversation), and no
 * worktree of the earlier life may be removed (it may still run in one).
 */
export class OrphanSurvivors {
  private left: ProcessInfo[] = [];

  constructor(
    private readonly ports: RunnerPorts,
    private readonly baseWaitMs: number,
  ) {}

  /**
   * Sweeps, remembers who survived, and settles when the sweep is over. After a restart (an
   * earlier life wrote a state file) a second sweep follows a moment later: a child the earlier
   * life had just started can be missing from one scan (its environ unreadable while it execs).
   * Both run before this life spawns anything, so none of its own children can be taken for an
   * orphan by a scan that missed them.
   */
  async sweep(
    afterRestart: boolean,
    config: RunnerConfig,
    bootStamp: string,
    adoptedMarkers: readonly string[],
    stateWasLost: boolean,
    adoptedRoots: readonly ProcessRef[],
  ): Promise<void> {
    // Added to, not replaced: the sweeps of an earlier life's spawn markers report here too.
    this.left.push(...(await sweepOrphans(this.ports, config, bootStamp, adoptedMarkers, stateWasLost, adoptedRoots)));
    if (!afterRestart) return;
    await sleep(this.ports.clock, this.baseWaitMs / 10);
    // What survived the first sweep's SIGKILL is not killed all over again: it is watched.
    const known = [...adoptedRoots, ...this.left];
    this.left.push(...(await sweepOrphans(this.ports, config, bootStamp, adoptedMarkers, stateWasLost, known)));
  }

  /** Survivors of SIGKILL found by another sweep (an earlier life's spawn marker): watched too. */
  watch(survivors: readonly ProcessInfo[]): void {
    this.left.push(...survivors);
  }

  /** Whether a survivor still lives (the same process: PID and generation; one unread may). */
  linger(): boolean {
    this.left = this.left.filter((p) => sameProcess(this.ports.processes, p) !== false);
    return this.left.length > 0;
  }

  /** Settles true once every survivor is gone, false if one outlives the wait. */
  async gone(): Promise<boolean> {
    return this.waitFor(async () => !this.linger());
  }

  /** Settles true once no process carries spawn marker `marker` any more (its tree is gone). */
  async treeGone(marker: string): Promise<boolean> {
    return this.waitFor(async () => (await this.ports.processes.findByEnv(SPAWN_MARKER_ENV, marker)).length === 0);
  }

  /**
   * The runner is shutting down: every wait looks one last time now and answers, instead of
   * sleeping on (what still lives then is left to the next start). Each wait's timer is cleared,
   * not left to fire after the shutdown's answer (a shutdown releases the runner's timers: S4;
   * the simulator found one firing a second after it).
   */
  stop(): void {
    this.stopped = true;
    for (const wake of this.sleepers) wake();
    this.sleepers.clear();
  }

  private async waitFor(done: () => Promise<boolean>): Promise<boolean> {
    // A look that fails (/proc unread) is "not yet": the wait looks again later.
    const look = (): Promise<boolean> => done().catch(() => false);
    for (let n = 0; n < MAX_LOOKS; n++) {
      if (await look()) return true;
      const wait = Math.min(this.baseWaitMs * 2 ** Math.min(n, 16), MAX_WAIT_STEP_MS);
      if (!(await this.pause(wait))) break;
    }
    return look();
  }

  /** Sleeps `delayMs`: true when the time passed, false when stop() cut it short (its timer cleared). */
  private pause(delayMs: number): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      const handle = this.ports.clock.setTimeout(() => {
        this.sleepers.delete(wake);
        resolve(true);
      }, delayMs);
      const wake = (): void => {
        this.ports.clock.clearTimeout(handle);
        resolve(false);
      };
      this.sleepers.add(wake);
    });
  }

  private stopped = false;
  /** The waits asleep now (one per survivor set, marker or intent being waited for), woken by stop(). */
  private readonly sleepers = new Set<() => void>();
}
