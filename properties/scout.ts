// A search split between worker threads, with the result one thread would give. Every worker
// walks the same fast-check sequence (same seed, same generator, so the same scenarios in the
// same order) and plays only its own share of it: run i belongs to worker floor(i / BLOCK) mod
// workers. The first failing run over all shares is the run a single thread would have failed
// first; the caller then shrinks from exactly that run (fast-check's `path`), so the counterexample,
// its path and the run count are those of a single thread, for any number of workers.
//
// The workers share one Int32Array (a SharedArrayBuffer): the lowest failing run found so far,
// so that a worker past it stops (nothing it could still find would be first), and a count of
// runs played, for progress.
import fc from 'fast-check';
import type { RunnerDefinition } from '../runner/contract.ts';
import type { ParallelSearchTask } from './check.ts';
import { runScenario } from '../simulator/run-scenario.ts';
import { scenarioArb } from './arbitraries.ts';
import { completeGenerated } from './generated-scenario.ts';

/** Consecutive runs a worker plays before the next worker's turn (locality; any value gives the same result). */
const BLOCK = 16;
/** Slots of the shared array. */
const FIRST_FAILURE = 0;
const PLAYED = 1;
/** No failure yet. */
const NONE = 0x7fffffff;

/** What every worker of one search is given (structured-clonable: it crosses to worker threads). */
export interface ScoutTask extends ParallelSearchTask {
  readonly worker: number;
  readonly workers: number;
  /** Two Int32 slots: the first failing run so far, runs played. Made by `scoutShared()`. */
  readonly shared: SharedArrayBuffer;
}

/** The shared slots of one search. */
export function scoutShared(): SharedArrayBuffer {
  const shared = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
  Atomics.store(new Int32Array(shared), FIRST_FAILURE, NONE);
  return shared;
}

/** The lowest failing run the workers found (undefined: every run held), and runs played so far. */
export function scoutProgress(shared: SharedArrayBuffer): { firstFailure?: number; played: number } {
  const slots = new Int32Array(shared);
  const first = Atomics.load(slots, FIRST_FAILURE);
  return { ...(first !== NONE ? { firstFailure: first } : {}), played: Atomics.load(slots, PLAYED) };
}

/** Ends a worker's walk early: a lower run already failed. */
class Overtaken extends Error {}

/**
 * One worker's share of a search: plays its runs in order until one breaks an invariant of
 * `task.judging` (or the harness fails on it), or a lower run has failed elsewhere. Returns the
 * failing run it found, if any (also recorded in the shared slots).
 */
export async function scoutShare(runner: RunnerDefinition, task: ScoutTask): Promise<number | undefined> {
  if (!Number.isInteger(task.workers) || task.workers < 1 || task.worker < 0 || task.worker >= task.workers)
    throw new Error(`scout: worker ${task.worker} of ${task.workers} is not a share`);
  const slots = new Int32Array(task.shared);
  const arbitrary = scenarioArb({
    maxSteps: task.maxSteps,
    ...(task.faults !== undefined ? { faults: task.faults } : {}),
  });
  let run = -1;
  let found: number | undefined;
  const property = fc.asyncProperty(arbitrary, async (input) => {
    run++;
    if (Math.floor(run / BLOCK) % task.workers !== task.worker) return true;
    if (Atomics.load(slots, FIRST_FAILURE) < run) throw new Overtaken();
    Atomics.add(slots, PLAYED, 1);
    let broken: boolean;
    try {
      const result = await runScenario(runner, completeGenerated(input));
      broken = result.violated.some((id) => task.judging.includes(id));
    } catch {
      broken = true; // a harness error: the caller replays this run and reports it as one thread would
    }
    if (!broken) return true;
    found = run;
    // Lower the shared first failure to this run (a compare-and-swap loop: another worker may race).
    for (let seen = Atomics.load(slots, FIRST_FAILURE); run < seen;) {
      const was = Atomics.compareExchange(slots, FIRST_FAILURE, seen, run);
      if (was === seen) break;
      seen = was;
    }
    return false;
  });
  // endOnFailure: no shrinking here; the caller shrinks the one run that is first overall.
  await fc.check(property, { seed: task.seed, numRuns: task.numRuns, endOnFailure: true });
  return found;
}
