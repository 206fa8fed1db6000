// `check --workers N`: the worker threads a search is split between (tinypool, which vitest
// uses too), kept for every search of the run and closed at its end.
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Tinypool from 'tinypool';
import type { CheckOptions, ParallelSearch } from '../properties/check.ts';
import type { ExploreJob, PlayedJob, PlaySettings } from '../properties/exhaustive/explore.ts';
import { scoutProgress, scoutShared } from '../properties/scout.ts';

/** The default: one worker per core the process may use. */
export function defaultWorkers(): number {
  return availableParallelism();
}

/**
 * Each thread's young generation, in MB (V8 sizes it at three semi-spaces: this is
 * `--max-semi-space-size=64`). A run allocates short-lived worlds by the million: with V8's
 * default (16 MB semi-spaces) it spent a fifth of its time in scavenges, and an exploration ran
 * 1.3x slower (bench/RESULTS.md, "Young generation"). A thread can be given this; the main thread's
 * is fixed when Node starts, which is why a long run plays in a thread even with one worker.
 */
export const YOUNG_GENERATION_MB = 192;

export interface CheckPool {
  readonly search: ParallelSearch;
  /** `check --exhaustive`: plays a batch of move sequences as `settings` say, split between the threads; verdicts in order. */
  explore(batch: readonly ExploreJob[], settings: PlaySettings): Promise<readonly PlayedJob[]>;
  close(): Promise<void>;
}

/**
 * A pool of `workers` threads that play searches of the runner `runnerRef` (a bundled name or a
 * module path: the threads load it themselves). `onRun` hears the runs played so far, four times a second.
 */
export function checkPool(runnerRef: string, workers: number, onRun?: CheckOptions['onRun']): CheckPool {
  // Built, the worker is JavaScript beside this file; from the sources, a shim that registers
  // tsx in the thread (threads do not inherit the loader) and loads the TypeScript worker.
  const built = new URL('./check-worker.js', import.meta.url);
  const filename = existsSync(fileURLToPath(built)) ? built : new URL('./check-worker-source.mjs', import.meta.url);
  const pool = new Tinypool({
    filename: filename.href,
    minThreads: workers,
    maxThreads: workers,
    resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
  });
  return {
    async search(task) {
      const shared = scoutShared();
      const ticker =
        onRun !== undefined
          ? setInterval(
              () => onRun({ judging: task.judging, run: scoutProgress(shared).played, of: task.numRuns }),
              250,
            )
          : undefined;
      try {
        await Promise.all(
          Array.from({ length: workers }, (_, worker) =>
            pool.run({ ...task, judging: [...task.judging], runnerRef, worker, workers, shared }),
          ),
        );
      } finally {
        if (ticker !== undefined) clearInterval(ticker);
      }
      const { firstFailure } = scoutProgress(shared);
      return firstFailure !== undefined ? { firstFailure } : {};
    },
    async explore(batch, settings) {
      const share = Math.ceil(batch.length / workers);
      const parts = await Promise.all(
        Array.from({ length: workers }, (_, w) => batch.slice(w * share, (w + 1) * share))
          .filter((part) => part.length > 0)
          .map((part) => pool.run({ runnerRef, batch: part, settings }, { name: 'explore' }) as Promise<PlayedJob[]>),
      );
      return parts.flat();
    },
    close: () => pool.destroy(),
  };
}
