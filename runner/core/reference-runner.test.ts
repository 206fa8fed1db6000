// The reference runner's lifecycle, driven through its ports by the virtual world.
import { describe, expect, it } from 'vitest';
import { referenceRunner } from '../reference.ts';
import { resolveRunnerConfig } from '../config.ts';
import { readFileSync } from 'node:fs';
import { answersOf, play, signalsOf } from '../../simulator/test-support.ts';
import { runScenario } from '../../simulator/run-scenario.ts';
import { DAMAGED_STATES, parseScenario } from '../../simulator/scenario.ts';

const nastyTree = [
  { escape: 'none' as const, children: [{ escape: 'setsid' as const, ignoresSigterm: true }] },
  { escape: 'double-fork' as const },
  { escape: 'own-group' as const, ignoresSigterm: true, dieDelayMs: 2_000 },
];

describe('reference runner', () => {
  it('spawns, lists, stops (tree gone, hub archived), and answers already_gone to a second stop', async () => {
    const result = await play(referenceRunner, {
      agent: { tree: nastyTree },
      steps: [
        { op: 'spawn' },
        { op: 'advance', ms: 3_000 },
        { op: 'list' },
        { op: 'stop', session: { spawn: 0 } },
        { op: 'advance', ms: 10_000 },
        { op: 'stop', session: { spawn: 0 } },
        { op: 'list' },
      ],
    });
    expect(result.violations).toEqual([]);
    const answers = answersOf(result);
    expect(answers[0]).toMatchObject({ op: 'spawn', result: { type: 'success', sessionId: 'sess-1' } });
    expect(answers[1]).toMatchObject({ op: 'list', result: [{ sessionId: 'sess-1', startedBy: 'runner' }] });
    expect(answers[2]).toMatchObject({ op: 'stop', result: { status: 'stopped' } });
    expect(answers[3]).toMatchObject({ op: 'stop', result: { status: 'already_gone' } });
    expect(answers[4]).toMatchObject({ op: 'list', result: [] });
    expect(result.trace.some((e) => e.kind === 'hub' && e.op === 'archive' && e.sessionId === 'sess-1')).toBe(true);
  });

  it('on webhook timeout kills the whole tree (escapees and SIGTERM-ignorers too) and ignores the late webhook', async () => {
    const result = await play(referenceRunner, {
      agent: { bootDelayMs: 60_000, tree: nastyTree, ignoresSigterm: true },
      steps: [{ op: 'spawn' }, { op: 'advance', ms: 120_000 }, { op: 'list' }],
    });
    expect(result.violations).toEqual([]);
    // 15 s after the child started (a cold start first sweeps for orphans of a lost state file).
    const born = result.trace.find((e) => e.kind === 'process-start' && e.spawnIndex === 0)!.atMs;
    expect(answersOf(result)[0]).toMatchObject({ result: { type: 'error', reason: 'timeout' }, atMs: born + 15_000 });
    const kills = signalsOf(result).filter((s) => s.signal === 'SIGKILL');
    expect(kills.length).toBeGreaterThan(0);
    // Every process of the child's tree died before the agent would have booted.
    const exits = result.trace.filter((e) => e.kind === 'process-exit' && e.spawnIndex === 0);
    const starts = result.trace.filter((e) => e.kind === 'process-start' && e.spawnIndex === 0);
    expect(exits.length).toBe(starts.length);
    expect(Math.max(...exits.map((e) => e.atMs))).toBeLessThan(60_000);
  });

  it('answers "exited" as soon as the child dies before its webhook', async () => {
    const result = await play(referenceRunner, {
      agent: { exitAfterMs: 1_000, exitCode: 3 },
      steps: [{ op: 'spawn' }, { op: 'advance', ms: 2_000 }],
    });
    expect(result.violations).toEqual([]);
    const died = result.trace.find((e) => e.kind === 'process-exit' && e.spawnIndex === 0)!.atMs;
    expect(answersOf(result)[0]).toMatchObject({
      atMs: died,
      result: { type: 'error', reason: 'exited', message: expect.stringContaining('code 3') },
    });
  });

  it('gives rapid resumes of one session one child and one answer', async () => {
    const result = await play(referenceRunner, {
      steps: [
        { op: 'spawn', resume: 'conv' },
        { op: 'advance', ms: 5 },
        { op: 'spawn', resume: 'conv' },
        { op: 'spawn', resume: 'conv' },
        { op: 'advance', ms: 5_000 },
        { op: 'spawn', resume: 'conv' },
        { op: 'advance', ms: 10 },
      ],
    });
    expect(result.violations).toEqual([]);
    expect(result.trace.filter((e) => e.kind === 'process-start' && e.role === 'wrapper')).toHaveLength(1);
    const answers = answersOf(result).filter((a) => a.op === 'spawn');
    expect(answers).toHaveLength(4);
    for (const a of answers) expect(a).toMatchObject({ result: { type: 'success', sessionId: 'sess-1' } });
  });

  it('waits for a dying child of the same session before it starts the next one', async () => {
    const result = await play(referenceRunner, {
      agent: { bootDelayMs: 60_000, ignoresSigterm: true },
      agents: [null, { bootDelayMs: 1_000, ignoresSigterm: false }],
      steps: [
        { op: 'spawn', resume: 'conv' },
        // Just past the first child's timeout (it started after the cold start's orphan sweep).
        { op: 'until', event: 'timeout', plusMs: 1 },
        { op: 'spawn', resume: 'conv' },
        { op: 'advance', ms: 20_000 },
      ],
    });
    expect(result.violations).toEqual([]);
    const firstDeath = result.trace.find(
      (e) => e.kind === 'process-exit' && e.spawnIndex === 0 && e.role === 'wrapper',
    )!;
    const secondBirth = result.trace.find((e) => e.kind === 'process-start' && e.spawnIndex === 1)!;
    expect(secondBirth.atMs).toBeGreaterThanOrEqual(firstDeath.atMs);
    expect(answersOf(result)[1]).toMatchObject({ result: { type: 'success', sessionId: 'sess-2' } });
  });

  it('removes a worktree only after the whole tree is dead, and retries a failing removal', async () => {
    const result = await play(referenceRunner, {
      world: { gitFaults: [{ op: 'remove', nth: 1, times: 2, code: 'ELOCKED' }] },
      agent: { bootDelayMs: 60_000, tree: [{ escape: 'setsid', dieDelayMs: 500 }] },
      steps: [
        { op: 'spawn', worktree: true },
        { op: 'advance', ms: 100_000 },
      ],
    });
    expect(result.violations).toEqual([]);
    const removals = result.trace.filter((e) => e.kind === 'worktree' && e.op === 'remove');
    expect(removals.map((r) => (r.kind === 'worktree' && r.error !== undefined ? 'failed' : 'ok'))).toEqual([
      'failed',
      'failed',
      'ok',
    ]);
    const lastExit = Math.max(
      ...result.trace.filter((e) => e.kind === 'process-exit' && e.spawnIndex === 0).map((e) => e.atMs),
    );
    expect(removals[0]!.atMs).toBeGreaterThan(lastExit);
  });

  it('never signals a process named by a forged webhook, and keeps a terminal session unsignalled on stop', async () => {
    const result = await play(referenceRunner, {
      steps: [
        { op: 'forge-webhook', pid: { bystander: true }, sessionId: 'evil', startedBy: 'runner' },
        { op: 'forge-webhook', pid: { runner: true }, sessionId: 'evil-2', startedBy: 'runner' },
        { op: 'forge-webhook', pid: { bystander: true }, sessionId: 'term', startedBy: 'terminal' },
        { op: 'advance', ms: 1_000 },
        { op: 'stop', session: { id: 'term' } },
        { op: 'stop', session: { id: 'evil' } },
        { op: 'advance', ms: 1_000 },
      ],
    });
    expect(result.violations).toEqual([]);
    expect(signalsOf(result)).toEqual([]);
    const stops = answersOf(result).filter((a) => a.op === 'stop');
    expect(stops.map((s) => 'result' in s && s.op === 'stop' && s.result.status)).toEqual([
      'still_alive',
      'still_alive',
    ]);
  });

  it('ignores a webhook that names the wrong PID, and lets the spawn time out', async () => {
    const result = await play(referenceRunner, {
      agent: { webhook: 'wrong-pid' },
      steps: [{ op: 'spawn' }, { op: 'advance', ms: 20_000 }],
    });
    expect(result.violations).toEqual([]);
    expect(answersOf(result)[0]).toMatchObject({ result: { type: 'error', reason: 'timeout' } });
  });

  it("does not signal a stranger that took a dead child's PID", async () => {
    const result = await play(referenceRunner, {
      steps: [
        { op: 'spawn' },
        { op: 'advance', ms: 3_000 },
        { op: 'crash', spawn: 0, tree: true },
        // Not before the runner has heard of the exit: until then the wrapper is its zombie,
        // and its PID cannot come round (the world keeps it, as Linux does).
        { op: 'advance', ms: 100 },
        { op: 'bystander', reusePidOf: 0 },
        { op: 'stop', session: { spawn: 0 } },
        { op: 'advance', ms: 10_000 },
      ],
    });
    expect(result.violations).toEqual([]);
    const stranger = result.trace.filter((e) => e.kind === 'process-start' && e.role === 'bystander').at(-1)!;
    const wrapper = result.trace.find((e) => e.kind === 'process-start' && e.role === 'wrapper')!;
    expect(stranger.kind === 'process-start' && wrapper.kind === 'process-start' && stranger.pid === wrapper.pid).toBe(
      true,
    );
    expect(signalsOf(result).filter((s) => s.delivered)).toEqual([]);
    // The tree is gone: either answer is true.
    expect(answersOf(result).find((a) => a.op === 'stop')).toMatchObject({
      result: { status: expect.stringMatching(/^(stopped|already_gone)$/) },
    });
  });

  it('after a restart adopts its sessions, tears down children that were booting, and stops adopted ones', async () => {
    const result = await play(referenceRunner, {
      agents: [null, { bootDelayMs: 600_000 }],
      steps: [
        { op: 'spawn', worktree: true },
        { op: 'advance', ms: 3_000 },
        { op: 'spawn', resume: 'slow', worktree: true },
        { op: 'advance', ms: 1_000 },
        { op: 'restart' },
        { op: 'advance', ms: 10_000 },
        { op: 'list' },
        { op: 'stop', session: { spawn: 0 } },
        { op: 'advance', ms: 10_000 },
      ],
    });
    expect(result.violations).toEqual([]);
    const answers = answersOf(result);
    expect(answers[1]).toMatchObject({ op: 'spawn', failure: expect.stringContaining('crashed') });
    expect(answers.find((a) => a.op === 'list')).toMatchObject({ result: [{ sessionId: 'sess-1' }] });
    expect(answers.find((a) => a.op === 'stop')).toMatchObject({ result: { status: 'stopped' } });
  });

  it('cleans up the leftovers of a session child that crashed, and answers already_gone', async () => {
    const result = await play(referenceRunner, {
      agent: { exitAfterMs: 5_000, tree: [{ escape: 'double-fork' }] },
      steps: [
        { op: 'spawn' },
        { op: 'advance', ms: 10_000 },
        { op: 'list' },
        { op: 'stop', session: { spawn: 0 } },
        { op: 'advance', ms: 1_000 },
      ],
    });
    expect(result.violations).toEqual([]);
    const answers = answersOf(result);
    expect(answers[1]).toMatchObject({ op: 'list', result: [] });
    expect(answers[2]).toMatchObject({ op: 'stop', result: { status: 'already_gone' } });
  });

  it('signals a group again when a member new to it shows up: a process forked into it after the first signal, with its environment cleared, dies too', async () => {
    // The scenario the simulator found (fixtures/scenarios/regressions, played there as well).
    const file = new URL(
      '../../fixtures/scenarios/regressions/late-fork-into-signalled-group-S4.json',
      import.meta.url,
    );
    const result = await runScenario(
      referenceRunner,
      parseScenario(JSON.parse(readFileSync(file, 'utf8')), file.pathname),
    );
    expect(result.violations).toEqual([]);
    const groupSignals = signalsOf(result).filter((s) => s.target.startsWith('group '));
    // Once when the child is first seen, once more when its descendant shows up: not every pass.
    expect(groupSignals.map((s) => s.target)).toEqual([groupSignals[0]!.target, groupSignals[0]!.target]);
    // The cleared one was forked after the first signal to its group, and died of the second.
    const cleared = result.trace
      .flatMap((e) => (e.kind === 'process-start' && e.role === 'descendant' ? [e] : []))
      .at(-1)!;
    expect(cleared.atMs).toBeGreaterThan(groupSignals[0]!.atMs);
    expect(result.trace.some((e) => e.kind === 'process-exit' && e.pid === cleared.pid)).toBe(true);
  });

  it('tries again a child that lived past SIGKILL (D state) with SIGKILL alone, until it is gone, then lets its worktree go', async () => {
    const result = await play(referenceRunner, {
      agent: { sigkillDeath: 200_000, ignoresSigterm: true, tree: [] },
      steps: [
        { op: 'spawn', worktree: true },
        { op: 'advance', ms: 3_000 },
        { op: 'stop', session: { spawn: 0 } },
        { op: 'advance', ms: 400_000 },
        { op: 'list' },
      ],
    });
    expect(result.violations).toEqual([]);
    const wrapper = result.trace.flatMap((e) => (e.kind === 'process-start' && e.spawnIndex === 0 ? [e.pid] : []))[0];
    const toWrapper = signalsOf(result).filter((s) => s.target === `pid ${wrapper}`);
    // One SIGTERM and its grace, on the first try only; each try after it SIGKILLs at once.
    expect(toWrapper.filter((s) => s.signal === 'SIGTERM')).toHaveLength(1);
    const kills = toWrapper.filter((s) => s.signal === 'SIGKILL');
    expect(kills.length).toBeGreaterThanOrEqual(3);
    const retries = result.trace.filter((e) => e.kind === 'log' && e.message === 'tree not verified dead; will retry');
    expect(retries.length).toBeGreaterThanOrEqual(2);
    for (const retry of retries.slice(0, -1)) {
      const next = kills.find((k) => k.atMs > retry.atMs)!;
      expect(next.atMs - retry.atMs).toBeLessThan(resolveRunnerConfig({}).termGraceMs + 60_000);
    }
    expect(result.trace.some((e) => e.kind === 'process-exit' && e.pid === wrapper)).toBe(true);
    expect(result.trace.some((e) => e.kind === 'worktree' && e.op === 'remove' && e.error === undefined)).toBe(true);
    expect(answersOf(result).at(-1)).toMatchObject({ op: 'list', result: [] });
  });

  it('shuts down every session it spawned', async () => {
    const result = await play(referenceRunner, {
      agent: { tree: nastyTree },
      steps: [
        { op: 'spawn' },
        { op: 'spawn', worktree: true },
        { op: 'advance', ms: 3_000 },
        { op: 'shutdown' },
        { op: 'advance', ms: 10_000 },
      ],
    });
    expect(result.violations).toEqual([]);
    expect(result.trace.some((e) => e.kind === 'worktree' && e.op === 'remove' && e.error === undefined)).toBe(true);
  });
});

describe('runner config', () => {
  it('takes the webhook timeout from HAPI_RUNNER_WEBHOOK_TIMEOUT_MS unless set explicitly', () => {
    expect(resolveRunnerConfig({}, {}).webhookTimeoutMs).toBe(15_000);
    expect(resolveRunnerConfig({}, { HAPI_RUNNER_WEBHOOK_TIMEOUT_MS: '120000' }).webhookTimeoutMs).toBe(120_000);
    expect(
      resolveRunnerConfig({ webhookTimeoutMs: 5 }, { HAPI_RUNNER_WEBHOOK_TIMEOUT_MS: '120000' }).webhookTimeoutMs,
    ).toBe(5);
    expect(() => resolveRunnerConfig({}, { HAPI_RUNNER_WEBHOOK_TIMEOUT_MS: '15s' })).toThrow(
      /whole number of milliseconds, got "15s"/,
    );
    expect(() => resolveRunnerConfig({ termGraceMs: -1 } as never)).toThrow(/invalid runner config/);
  });
});

describe('reference runner after losing its state file', () => {
  for (const state of DAMAGED_STATES) {
    it(`finds the children of its earlier life by their owner marker and kills them (state file ${state})`, async () => {
      const result = await play(referenceRunner, {
        agent: { tree: [{ escape: 'double-fork' }, { escape: 'setsid', ignoresSigterm: true }] },
        agents: [null, { bootDelayMs: 600_000 }],
        steps: [
          { op: 'spawn' },
          { op: 'advance', ms: 3_000 },
          { op: 'spawn', resume: 'slow' },
          { op: 'advance', ms: 1_000 },
          { op: 'restart', state },
          { op: 'advance', ms: 10_000 },
          { op: 'list' },
        ],
      });
      expect(result.violations).toEqual([]);
      expect(answersOf(result).find((a) => a.op === 'list')).toMatchObject({ result: [] });
      expect(result.trace.some((e) => e.kind === 'log' && /earlier life/.test(e.message))).toBe(true);
      // Every process of both children is gone, escapees included.
      const started = result.trace.filter((e) => e.kind === 'process-start' && e.spawnIndex !== undefined).length;
      const exited = result.trace.filter((e) => e.kind === 'process-exit' && e.spawnIndex !== undefined).length;
      expect(exited).toBe(started);
    });
  }
});

describe('reference runner with a slow or down hub', () => {
  it('answers a stop as soon as the tree is dead, whatever the hub does', async () => {
    for (const world of [{ hubLatencyMs: 60_000 }, { hubDown: true }]) {
      const result = await play(referenceRunner, {
        world,
        steps: [
          { op: 'spawn' },
          { op: 'advance', ms: 3_000 },
          { op: 'stop', session: { spawn: 0 } },
          { op: 'advance', ms: 120_000 },
        ],
      });
      expect(result.violations).toEqual([]);
      const stop = answersOf(result).find((a) => a.op === 'stop')!;
      expect(stop).toMatchObject({ result: { status: 'stopped' } });
      expect(stop.atMs - 3_000).toBeLessThan(1_000);
    }
  });
});
