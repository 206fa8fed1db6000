// A real run at a pace the machine keeps up with. At a time scale the harness chose, a run in
// which an agent was judged before it had even started (the machine was busier than when the
// scale was picked) proves nothing; it is played again slower (twice as slow unless told), a
// bounded number of times. A caller may name other reasons to replay (check --http: a clean run
// that did not reach what its scenario is for). A time scale the user set is never changed: that
// run's harness error stands, with its advice.
import type { RealRunResult } from './real-world.ts';

/** At most this many slower replays by default: 0.05 becomes at most 0.4. */
const MAX_REPLAYS = 3;

/** How a run is paced. */
export interface Pacing {
  /** The user set the time scale: never replayed. */
  readonly pinned: boolean;
  /** Slower replays at most (default 3). */
  readonly maxReplays?: number;
  /**
   * Why `result`, played at `scale`, should be played again slower, or undefined to keep it
   * (default: only when it was too fast for the machine).
   */
  readonly replayBecause?: (result: RealRunResult, scale: number) => string | undefined;
  /** The next scale, and what was learnt choosing it (default: twice `scale`, at most 1). */
  readonly slower?: (scale: number) => Promise<{ readonly scale: number; readonly why?: string }>;
}

/** A paced run's last result, the time scale it was played at, and what the pacing did. */
export interface PacedRun {
  readonly result: RealRunResult;
  readonly timeScale: number;
  /** One line per replay: why, and the scale tried next. */
  readonly notes: readonly string[];
}

/** The default reason to replay: agents were judged before they started (the machine too busy for the scale). */
const tooFast = (result: RealRunResult, scale: number): string | undefined =>
  result.tooSlowForTimeScale
    ? `agents were judged before they started at time scale ${scale} (the machine is busy)`
    : undefined;

/**
 * A reason to replay for a run with a purpose: too fast for the machine, or clean (no violation)
 * yet short of what it is for, which `missed` names (undefined: it got there). A runner that
 * never gets there, at any pace, is left to the caller's assertions on the last run.
 */
export const tooFastOrMissed =
  (missed: (result: RealRunResult) => string | undefined) =>
  (result: RealRunResult, scale: number): string | undefined => {
    const fast = tooFast(result, scale);
    if (fast !== undefined || result.violations.length > 0) return fast;
    const what = missed(result);
    return what === undefined ? undefined : `not exercised at time scale ${scale}: ${what}`;
  };

const twiceAsSlow = async (scale: number): Promise<{ readonly scale: number; readonly why?: string }> => ({
  scale: Math.min(1, scale * 2),
});

/**
 * Plays `play(timeScale)`, and again slower while `pacing.replayBecause` (by default: the run was
 * only too fast for the machine) says so and the scale can still grow, unless it is pinned.
 */
export async function playPaced(
  play: (timeScale: number) => Promise<RealRunResult>,
  timeScale: number,
  pacing: Pacing,
): Promise<PacedRun> {
  const because = pacing.replayBecause ?? tooFast;
  const slower = pacing.slower ?? twiceAsSlow;
  let scale = timeScale;
  const notes: string[] = [];
  let result = await play(scale);
  for (let replay = 0; replay < (pacing.maxReplays ?? MAX_REPLAYS) && !pacing.pinned; replay++) {
    const why = because(result, scale);
    if (why === undefined) break;
    const next = await slower(scale);
    if (!(next.scale > scale)) break;
    notes.push(`${why}${next.why !== undefined ? `; ${next.why}` : ''}: played again at ${next.scale}`);
    scale = next.scale;
    result = await play(scale);
  }
  return { result, timeScale: scale, notes };
}
