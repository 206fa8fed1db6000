// Virtual latencies: how long each port operation takes, drawn per operation from the scenario's
// latency table by a seeded stream of its own (so adding a draw elsewhere does not reshuffle
// them). A fixed latency gives every operation of its kind the same duration, which is how
// exactly equal completions, and the tie order between them, come up.
import type { Latency } from '../scenario.ts';
import { Rng } from './rng.ts';

export class Latencies {
  private readonly rng: Rng;

  constructor(seed: number) {
    this.rng = new Rng((seed ^ 0x1a7e1a7e) >>> 0);
  }

  /** One operation's latency in ms. */
  draw(latency: Latency): number {
    if (typeof latency === 'number') return latency;
    return latency.min === latency.max ? latency.min : this.rng.int(latency.min, latency.max);
  }

  /** True with probability `p` (a scan that misses a process); never draws when p is 0. */
  chance(p: number): boolean {
    return p > 0 && this.rng.nextU32() / 0x1_0000_0000 < p;
  }
}

/** The longest one operation of this latency can take. */
export function maxLatency(latency: Latency | undefined): number {
  if (latency === undefined) return 0;
  return typeof latency === 'number' ? latency : latency.max;
}

/**
 * How much time the world's own I/O may add to one answer, on top of the runner's deadlines:
 * twice the longest of every kind of operation (a spawn loads state, saves it around git and the
 * spawn, and may wait out a kill), more for writes and scans that queue or repeat, so that slow
 * I/O is never taken for a runner that hangs.
 */
export function ioAllowanceMs(world: {
  readonly latency: Readonly<Record<string, Latency | undefined>>;
  readonly gitLatencyMs: Latency;
  readonly hubLatencyMs: Latency;
}): number {
  const kinds = [...Object.values(world.latency), world.gitLatencyMs, world.hubLatencyMs];
  // A tree kill scans /proc at each phase's start and deadline, once more at the end, and again
  // to confirm an empty answer: a slow scan counts for each of those.
  const scans = 8 * maxLatency(world.latency.scan);
  // A careful spawn writes state ahead up to three times (worktree intent, spawn intent, its
  // record), each waiting behind the write in flight: six writes in all.
  const writes = 6 * maxLatency(world.latency.stateSave);
  return 2 * kinds.reduce<number>((sum, latency) => sum + maxLatency(latency), 0) + scans + writes;
}
