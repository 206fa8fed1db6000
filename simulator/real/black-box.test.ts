// A black-box runner over HTTP: the project's own daemon, started as a command, speaking hapi's
// protocol. The seed incident and a SIGKILL mid-spawn leave nothing; serving legacy, it is caught.
import { describe, expect, it } from 'vitest';
import type { Scenario } from '../scenario.ts';
import type { RealRunResult } from './real-world.ts';
import type { Exercise } from './coverage.ts';
import { playPaced, tooFastOrMissed } from './paced-run.ts';
import { fileRunPrefix } from '../test-support.ts';
import { expectNoneLeft, linux, REAL_TIME_SCALE, realSeed } from './test-support.ts';

const runPrefix = fileRunPrefix('blackbox');

describe.runIf(linux)('a black-box runner over HTTP', { timeout: 300_000 }, () => {
  it('the reference daemon as a black box: the seed incident and a SIGKILL mid-spawn leave nothing; legacy is caught', async () => {
    const { runRealCommand } = await import('./real-world.ts');
    const { HAPI_PROFILE } = await import('./http-runner.ts');
    const root = new URL('../../', import.meta.url).pathname;
    const command = `cd ${JSON.stringify(root)} && exec ${JSON.stringify(process.execPath)} --import tsx cli/daemon-bin.ts --state-dir "$RUNNER_CHAOS_STATE_DIR"`;
    const { coverageOf } = await import('./coverage.ts');
    // Played again slower when the machine was too busy for the scale, and (given `exercises`)
    // when a clean run did not get to what the scenario is for, as `check --http` does; a runner
    // that never gets there, at any pace, fails the assertions below on the last run.
    const daemon = async (
      cmd: string,
      scenario: Scenario,
      name: string,
      exercises: readonly Exercise[] = [],
    ): Promise<RealRunResult> =>
      (
        await playPaced(
          (timeScale) => runRealCommand(cmd, HAPI_PROFILE, scenario, { timeScale }, name),
          REAL_TIME_SCALE,
          {
            pinned: false,
            replayBecause: tooFastOrMissed((result) => {
              const missed = coverageOf(exercises, result.trace, 15_000).filter((c) => !c.exercised);
              return missed.length > 0 ? missed.map((c) => `${c.text} (${c.why})`).join('; ') : undefined;
            }),
          },
        )
      ).result;
    // The three runs side by side (each run has a marker of its own, so none sees another's
    // processes): one after the other they took 40 s of mostly waiting on real time. Settled
    // all before anything is judged, so a failure of one never leaves the others running.
    const { blackBoxScenarios } = await import('./black-box-scenarios.ts');
    const restartScenario = blackBoxScenarios().find((s) => s.name === 'restart-mid-spawn')!;
    const settled = await Promise.allSettled([
      daemon(command, realSeed(), 'reference-daemon'),
      daemon(command, restartScenario, 'reference-daemon', ['restart-with-live-child']),
      daemon(`${command} --runner legacy`, realSeed(), 'legacy-daemon'),
    ]);
    expectNoneLeft(runPrefix);
    const [result, restarted, legacy] = settled.map((s) => {
      if (s.status === 'rejected') throw s.reason;
      return s.value;
    }) as [RealRunResult, RealRunResult, RealRunResult];
    expect(result.violations).toEqual([]);
    expect(result.harnessErrors).toEqual([]);
    // Each of the four spawns was refused: timed out, naming its child (its agent was up before
    // the timeout, else a harness error above), or, on a loaded machine, answered busy while the
    // previous child of its session was still dying (named by no answer: seen in 1 of 10 runs
    // with two busy loops beside the suite). Nothing else: the first, with no session before it,
    // always times out.
    const spawnErrors = result.trace.flatMap((e) =>
      e.kind === 'answer' && 'result' in e.answer && e.answer.op === 'spawn' && e.answer.result.type === 'error'
        ? [e.answer.result]
        : [],
    );
    expect(spawnErrors).toHaveLength(4);
    expect(spawnErrors[0]).toMatchObject({ reason: 'timeout', pid: expect.any(Number) });
    for (const error of spawnErrors)
      expect(error.reason === 'busy' ? 'busy' : { reason: error.reason, names: typeof error.pid }).toEqual(
        error.reason === 'busy' ? 'busy' : { reason: 'timeout', names: 'number' },
      );
    const timedOut = spawnErrors.flatMap((e) => (e.pid !== undefined ? [e.pid] : []));
    const found = result.trace.flatMap((e) => (e.kind === 'process-start' && e.role === 'wrapper' ? [e.pid] : []));
    // Every child the harness found was named by an answer, and every answer named a child it
    // found. (On a loaded machine a resume can come while the previous child of its session is
    // still dying: the runner then answers it for that child, so two answers may name one pid.)
    expect(new Set(found)).toEqual(new Set(timedOut));
    // SIGKILLed (with its process group) while one child boots and another is a session, then
    // started again over its state directory: nothing leaks, every request is answered.
    expect(restarted.violations).toEqual([]);
    expect(restarted.trace.filter((e) => e.kind === 'runner' && e.op === 'crash')).toHaveLength(1);
    // Paced by observation, it reached a restart over a live child. (Whether the stop after it
    // still finds that session alive varies under a loaded CI machine, for a reason not found yet;
    // `check --http` then says "not exercised" and exits 2, never "held": see the #15 notes.)
    expect(coverageOf(['restart-with-live-child'], restarted.trace, 15_000)).toEqual([
      expect.objectContaining({ what: 'restart-with-live-child', exercised: true }),
    ]);
    // The same daemon serving legacy: the black box shows its four ghosts.
    expect(legacy.harnessErrors).toEqual([]);
    expect(legacy.counts).toMatchObject({ ghostSessions: 4, leakedProcesses: 8 });
  });
});
