// One node of an exhaustive exploration (properties/exhaustive/): a scenario's steps played in a
// fresh virtual world, the state they reached fingerprinted, then quiescence and the verdict.
//
// The fingerprint is sound for any deterministic runner: a run is a function of its steps, and
// everything a step changes shows in the trace (a request, a process start or exit, a webhook,
// a restart...), except the passage of time and the plans of the children spawned. So the trace
// up to the last step, the time, the pending events (relative to now) and the children's plans
// fix everything the runner was given and everything still to come: two step sequences with the
// same fingerprint have the same futures, and one of them need not be extended. Under a
// tieOrder (`check --exhaustive --ties`) the order of same-instant events is a choice the trace
// need not show (two runner timers that call no port), so the explorer keys a state reached out
// of scheduling order by its fingerprint and its choices together (properties/exhaustive/explore.ts).
import { createHash } from 'node:crypto';
import type { RunnerDefinition } from '../../runner/contract.ts';
import { playStep, quiesce, resultOf, type RunResult } from '../driver.ts';
import type { ParsedStep, Scenario } from '../scenario.ts';
import { BrokenAdapterError } from '../broken-adapter.ts';
import { withDeterminismTrap } from './determinism-trap.ts';
import { VirtualWorld } from './world.ts';

/** What playing one node tells the explorer. */
export interface NodeOutcome {
  /** The verdict of the scenario (its steps, then quiescence), as `runScenario` gives it. */
  readonly result: RunResult;
  /** The state after the last step (before quiescence): equal fingerprints, equal futures. */
  readonly fingerprint: string;
  /** Milliseconds from the last step to the world's next pending event, if any. */
  readonly nextEventInMs?: number;
  /**
   * With a tieOrder in the scenario's world: at every instant of the run where two or more events
   * were due together, how many were (`sizes`) and which ran first (`taken`); `beforeFingerprint`
   * of them came before the fingerprint was taken (in the steps, not the quiescence after).
   */
  readonly ties: {
    readonly sizes: readonly number[];
    readonly taken: readonly number[];
    readonly beforeFingerprint: number;
  };
}

/** Plays `scenario` in a fresh virtual world against `definition`; see NodeOutcome. */
export async function playNode(definition: RunnerDefinition, scenario: Scenario): Promise<NodeOutcome> {
  const world = new VirtualWorld(scenario, definition);
  let fingerprint = '';
  let nextEventInMs: number | undefined;
  let tiesBeforeFingerprint = 0;
  const { trapped } = await withDeterminismTrap(async () => {
    await world.start();
    for (const step of scenario.steps as ParsedStep[]) await playStep(world, step);
    const pending = world.pendingState();
    nextEventInMs = pending.pendingInMs[0];
    tiesBeforeFingerprint = world.ties().sizes.length;
    fingerprint = createHash('sha1')
      .update(JSON.stringify([world.now(), pending, world.trace.events]))
      .digest('base64');
    await quiesce(world);
    const broken = world.log.brokenAdapter;
    if (broken !== undefined) throw new BrokenAdapterError(`the runner broke the contract: ${broken}`);
  });
  if (trapped !== undefined) {
    throw new BrokenAdapterError(
      `runner "${definition.name}" called ${trapped.what} during a virtual run (at ${trapped.at}): a runner takes time, chance and timers from its ports (clock, random), or the run is no longer reproducible`,
    );
  }
  const result = resultOf(definition, world);
  world.release();
  const ties = world.ties();
  return {
    result,
    fingerprint,
    ties: { sizes: ties.sizes, taken: ties.taken, beforeFingerprint: tiesBeforeFingerprint },
    ...(nextEventInMs !== undefined ? { nextEventInMs } : {}),
  };
}
