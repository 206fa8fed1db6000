// A real run at a pace the machine keeps up with. At a time scale the harness chose, a run in
// which an agent was judged before it had even started (the machine was busier than when the
// scale was picked) proves nothing; it is played again, twice as slow, a bounded number of times.
// A time scale the user set is never changed: that run's harness error stands, with its advice.
import type { RealRunResult } from './real-world.ts';

/** At most this many slower replays: 0.05 becomes at most 0.4. */
const MAX_REPLAYS = 3;

/** A paced run's last result, the time scale it was played at, and what the pacing did. */
export interface PacedRun {
  readonly result: RealRunResult;
  readonly timeScale: number;
  /** One line per replay: the scale that was too fast, and the one tried next. */
  readonly notes: readonly string[];
}

/**
 * Plays `play(timeScale)`, and again at twice the scale (at most 1) while the run says only that
 * the machine was too slow for it, unless the scale is `pinned` (set by the user).
 */
export async function playPaced(
  play: (timeScale: number) => Promise<RealRunResult>,
  timeScale: number,
  pinned: boolean,
): Promise<PacedRun> {
  let scale = timeScale;
  const notes: string[] = [];
  let result = await play(scale);
  for (let replay = 0; replay < MAX_REPLAYS && !pinned && result.tooSlowForTimeScale && scale < 1; replay++) {
    const slower = Math.min(1, scale * 2);
    notes.push(
      `agents were judged before they started at time scale ${scale} (the machine is busy): played again at ${slower}`,
    );
    scale = slower;
    result = await play(scale);
  }
  return { result, timeScale: scale, notes };
}
