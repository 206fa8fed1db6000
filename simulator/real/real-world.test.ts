// The real world: the seed incident with real processes and real git worktrees shows the same
// bugs as in virtual time; a bystander survives every run, forged webhooks included; and every
// process a run marks is gone when it ends.
import { describe, expect, it } from 'vitest';
import { referenceRunner } from '../../runner/reference.ts';
import { legacyRunner } from '../../fixtures/runners/legacy.ts';
import { pr440InitialRunner } from '../../fixtures/runners/pr440-initial.ts';
import { forgedWebhookKillRunner } from '../../fixtures/runners/forged-webhook-kill.ts';
import { findMarkedByPrefix } from '../../runner/node/proc.ts';
import { seedIncidentScenario } from '../seed-incident.ts';
import { parseScenario, type Scenario } from '../scenario.ts';
import { runReal, type RealRunResult } from './real-world.ts';
import { playPaced } from './paced-run.ts';
import { runScenario } from '../run-scenario.ts';
import type { RunnerDefinition } from '../../runner/contract.ts';
import { sandboxAvailability } from './sandbox.ts';
import { fileRunPrefix } from '../test-support.ts';

const runPrefix = fileRunPrefix('realworld');

const linux = process.platform === 'linux';
// 15 s timeout -> 750 ms (several Node start-ups, even on a busy machine: a child killed before
// its agent started would be a harness error); a 60 s boot -> 3 s.
const seed = () => seedIncidentScenario({ resumes: 4, delayMs: 60_000, timeoutMs: 15_000, worktree: true, seed: 1 });
const options = { timeScale: 0.05 };
/**
 * A run at 0.05, played again slower (up to 0.4) while the machine is too busy for agents to
 * start within the timeout: as `simulate --real` does when no time scale is given.
 */
const real = async (definition: RunnerDefinition, scenario: Scenario): Promise<RealRunResult> =>
  (await playPaced((timeScale) => runReal(definition, scenario, { timeScale }), options.timeScale, false)).result;

function noneLeft(): void {
  expect(findMarkedByPrefix('RUNNER_CHAOS_RUN', runPrefix)).toEqual([]);
}

// Generous bounds: a busy machine replays a run up to three times slower (paced-run.ts).
describe.runIf(linux)('the real world', { timeout: 180_000 }, () => {
  // The cross-world check: the same scenario and runner give the same verdict in both worlds, each
  // catching every invariant the runner declares. Not the same violated set to the letter: a
  // racy runner may take another branch when real processes die at their own pace (pr440-initial
  // sometimes sees its wrapper dead in time and removes the worktree under a living grandchild:
  // A1 instead of S3), which is the real world doing its job.
  const sameAsVirtual = async (result: RealRunResult, definition: RunnerDefinition): Promise<void> => {
    const virtual = await runScenario(definition, seed());
    expect({
      verdict: result.verdict,
      violations: result.verdict === virtual.verdict ? [] : result.violations,
    }).toEqual({
      verdict: virtual.verdict,
      violations: [],
    });
    for (const id of definition.declares) {
      expect({ world: 'virtual', caught: virtual.violated.includes(id), id }).toEqual({
        world: 'virtual',
        caught: true,
        id,
      });
      expect({ world: 'real', caught: result.violated.includes(id), id }).toEqual({ world: 'real', caught: true, id });
    }
    if (definition.declares.length === 0) expect(result.violated).toEqual(virtual.violated);
  };

  it('reference: the seed incident leaves nothing behind', async () => {
    const result = await real(referenceRunner, seed());
    await sameAsVirtual(result, referenceRunner);
    expect(result.harnessErrors).toEqual([]);
    expect(result.violations).toEqual([]);
    expect(result.killedAtEnd).toEqual([]);
    expect(result.bystanderSignals).toBe(0);
    noneLeft();
  });

  it('legacy: four ghosts, their eight processes and four worktrees leaked (and killed by the harness at the end)', async () => {
    const result = await real(legacyRunner, seed());
    expect(result.harnessErrors).toEqual([]);
    await sameAsVirtual(result, legacyRunner);
    expect(result.counts).toEqual({ ghostSessions: 4, leakedProcesses: 8, leakedWorktrees: 4 });
    expect(result.verdict).toBe('as-declared');
    expect(result.killedAtEnd).toHaveLength(8);
    noneLeft();
  });

  it("pr440-initial: the agents' grandchildren and the worktrees survive the timeout", async () => {
    const result = await real(pr440InitialRunner, seed());
    // (A wrapper killed before its agent forked the grandchild would leave fewer: never judged.)
    expect(result.harnessErrors).toEqual([]);
    await sameAsVirtual(result, pr440InitialRunner);
    // Every worktree is either left behind (S3) or, when the wrapper's death was seen in time,
    // removed while its grandchild still ran in it (A1): both are the bug, four in all.
    const removedEarly = result.violations.filter((v) => v.invariant === 'A1').length;
    expect({ ...result.counts, leakedWorktrees: result.counts.leakedWorktrees + removedEarly }).toEqual({
      ghostSessions: 0,
      leakedProcesses: 4,
      leakedWorktrees: 4,
    });
    expect(result.violations.filter((v) => v.invariant === 'S2').every((v) => !/wrapper/.test(v.message))).toBe(true);
    noneLeft();
  });

  it('a bystander named by forged webhooks survives the reference, and is caught being hit by forged-webhook-kill', async () => {
    const scenario = parseScenario({
      steps: [
        { op: 'forge-webhook', pid: { bystander: true }, sessionId: 'forged', startedBy: 'runner' },
        { op: 'forge-webhook', pid: { runner: true }, sessionId: 'forged-2', startedBy: 'runner' },
        { op: 'forge-webhook', pid: { bystander: true }, sessionId: 'term', startedBy: 'terminal' },
        { op: 'spawn' },
        { op: 'advance', ms: 5_000 },
        { op: 'stop', session: { id: 'term' } },
        { op: 'stop', session: { spawn: 0 } },
        { op: 'advance', ms: 5_000 },
      ],
    });
    const clean = await real(referenceRunner, scenario);
    expect(clean.violations).toEqual([]);
    expect(clean.bystanderSignals).toBe(0);
    const bad = await real(forgedWebhookKillRunner, scenario);
    expect(bad.violated).toContain('A2');
    expect(bad.bystanderSignals).toBeGreaterThan(0);
    noneLeft();
  });
});

describe.runIf(linux)('a restart over a corrupt state file, for real', { timeout: 180_000 }, () => {
  it('the reference finds its earlier children by their owner marker and kills them all, escapees too', async () => {
    const scenario = parseScenario({
      agent: { bootDelayMs: 500, tree: [{ escape: 'setsid' }, { escape: 'double-fork', ignoresSigterm: true }] },
      steps: [
        { op: 'spawn' },
        { op: 'advance', ms: 3_000 },
        { op: 'restart', state: 'corrupt' },
        { op: 'advance', ms: 10_000 },
      ],
    });
    const result = await real(referenceRunner, scenario);
    expect(result.violations).toEqual([]);
    expect(result.trace.some((e) => e.kind === 'log' && /earlier life/.test(e.message))).toBe(true);
    expect(result.killedAtEnd).toEqual([]);
    noneLeft();
  });

  it("two runs side by side: one run's orphan sweep never touches the other's children (found by the soak)", async () => {
    // The timeout is not what this is about: a long one (3 real s), so that a loaded machine's
    // slow Node start-up still gives a living session for the other run's sweep to leave alone.
    const living = parseScenario({
      runnerConfig: { webhookTimeoutMs: 60_000 },
      agent: { bootDelayMs: 200 },
      steps: [{ op: 'spawn' }, { op: 'advance', ms: 40_000 }],
    });
    const sweeping = parseScenario({
      steps: [
        { op: 'advance', ms: 5_000 },
        { op: 'restart', state: 'lost' },
        { op: 'advance', ms: 5_000 },
      ],
    });
    const [a, b] = await Promise.all([real(referenceRunner, living), real(referenceRunner, sweeping)]);
    expect(a.violations).toEqual([]);
    expect(b.violations).toEqual([]);
    expect([...a.harnessErrors, ...b.harnessErrors]).toEqual([]);
    // The living run's session was still there at its end (listed, so stopped by the harness).
    expect(a.killedAtEnd.length).toBeGreaterThan(0);
    noneLeft();
  });

  it('a corrupt state file before the runner ever wrote one is no harness error (found by the soak)', async () => {
    const result = await real(
      referenceRunner,
      parseScenario({ steps: [{ op: 'restart', state: 'corrupt' }, { op: 'spawn' }, { op: 'advance', ms: 3_000 }] }),
    );
    expect(result.harnessErrors).toEqual([]);
    expect(result.violations).toEqual([]);
    noneLeft();
  });
});

describe.runIf(linux)('a black-box runner over HTTP', { timeout: 300_000 }, () => {
  it('the reference daemon as a black box: the seed incident and a SIGKILL mid-spawn leave nothing; legacy is caught', async () => {
    const { runRealCommand } = await import('./real-world.ts');
    const { HAPI_PROFILE } = await import('./http-runner.ts');
    const root = new URL('../../', import.meta.url).pathname;
    const command = `cd ${JSON.stringify(root)} && exec ${JSON.stringify(process.execPath)} --import tsx cli/daemon-bin.ts --state-dir "$RUNNER_CHAOS_STATE_DIR"`;
    const daemon = async (cmd: string, scenario: Scenario, name: string): Promise<RealRunResult> =>
      (
        await playPaced(
          (timeScale) => runRealCommand(cmd, HAPI_PROFILE, scenario, { timeScale }, name),
          options.timeScale,
          false,
        )
      ).result;
    const result = await daemon(command, seed(), 'reference-daemon');
    expect(result.violations).toEqual([]);
    expect(result.harnessErrors).toEqual([]);
    // Each of the four spawns timed out, naming a child; every child was found through /proc and
    // had its agent up before the timeout (else a harness error above).
    const timedOut = result.trace.flatMap((e) =>
      e.kind === 'answer' && 'result' in e.answer && e.answer.op === 'spawn' && e.answer.result.type === 'error'
        ? [e.answer.result.pid]
        : [],
    );
    expect(timedOut).toHaveLength(4);
    const found = result.trace.flatMap((e) => (e.kind === 'process-start' && e.role === 'wrapper' ? [e.pid] : []));
    // Every child the harness found was named by an answer, and every answer named a child it
    // found. (On a loaded machine a resume can come while the previous child of its session is
    // still dying: the runner then answers it for that child, so two answers may name one pid.)
    expect(new Set(found)).toEqual(new Set(timedOut));
    noneLeft();
    // SIGKILLed (with its process group) while one child boots and another is a session, then
    // started again over its state directory: nothing leaks, every request is answered.
    const { blackBoxScenarios } = await import('./black-box-scenarios.ts');
    const restart = blackBoxScenarios().find((s) => s.name === 'restart-mid-spawn')!;
    const restarted = await daemon(command, restart, 'reference-daemon');
    expect(restarted.violations).toEqual([]);
    expect(restarted.trace.filter((e) => e.kind === 'runner' && e.op === 'crash')).toHaveLength(1);
    // Paced by observation, it reached a restart over a live child. (Whether the stop after it
    // still finds that session alive varies under a loaded CI machine, for a reason not found yet;
    // `check --http` then says "not exercised" and exits 2, never "held": see the #15 notes.)
    const { coverageOf } = await import('./coverage.ts');
    expect(coverageOf(['restart-with-live-child'], restarted.trace, 15_000)).toEqual([
      expect.objectContaining({ what: 'restart-with-live-child', exercised: true }),
    ]);
    noneLeft();
    // The same daemon serving legacy: the black box shows its four ghosts.
    const legacy = await daemon(`${command} --runner legacy`, seed(), 'legacy-daemon');
    expect(legacy.harnessErrors).toEqual([]);
    expect(legacy.counts).toMatchObject({ ghostSessions: 4, leakedProcesses: 8 });
    noneLeft();
  });
});

describe.runIf(linux)(
  'a runner command that misbehaves is a harness error naming what went wrong, never a pass',
  { timeout: 60_000 },
  () => {
    const fast = { timeScale: 0.05, launchTimeoutMs: 3_000 };
    const cases: Array<[string, string, RegExp]> = [
      [
        'exits at once',
        'echo "no hub configured" >&2; exit 3',
        /exited before writing .*runner\.state\.json[\s\S]*no hub configured/,
      ],
      ['never writes its state file', 'exec sleep 60', /wrote no usable .*runner\.state\.json within 3 s/],
      [
        'writes it under another name',
        `echo '{"httpPort": 9}' > "$RUNNER_CHAOS_STATE_DIR/runner.json"; exec sleep 60`,
        // Said at once (a second after the near miss appeared), not after the launch timeout.
        /wrote no [^ ]*runner\.state\.json \(no .* yet\); it wrote runner\.json instead, which has an httpPort/,
      ],
      [
        'writes a port nobody listens on',
        `echo '{"httpPort": 9, "pid": 1}' > "$RUNNER_CHAOS_STATE_DIR/runner.state.json"; exec sleep 60`,
        /names http:\/\/127\.0\.0\.1:9, but nothing answers there/,
      ],
      [
        'answers garbage',
        `exec ${JSON.stringify(process.execPath)} -e "require('http').createServer((q, s) => s.end('hello')).listen(0, '127.0.0.1', function () { require('fs').writeFileSync(process.env.RUNNER_CHAOS_STATE_DIR + '/runner.state.json', JSON.stringify({ httpPort: this.address().port })) })"`,
        /does not speak the control protocol: .*not JSON/,
      ],
    ];
    it.each(cases)('a command that %s', async (_what, command, message) => {
      const { runRealCommand } = await import('./real-world.ts');
      const { HAPI_PROFILE } = await import('./http-runner.ts');
      await expect(
        runRealCommand(command, HAPI_PROFILE, parseScenario({ steps: [{ op: 'spawn' }] }), fast),
      ).rejects.toThrow(message);
      noneLeft();
    });

    it('a forged webhook never names a PID the run does not own: a literal PID, or a child that never started, is skipped and said', async () => {
      const scenario = parseScenario({
        steps: [
          { op: 'forge-webhook', pid: { pid: 1 }, sessionId: 'init', startedBy: 'runner' },
          { op: 'forge-webhook', pid: { spawn: 3 }, sessionId: 'nobody', startedBy: 'runner' },
          { op: 'advance', ms: 1_000 },
        ],
      });
      const result = await real(forgedWebhookKillRunner, scenario);
      expect(result.forged).toEqual([]);
      // (A note on the machine's load may come first, when it is loaded.)
      expect(result.notes.filter((n) => !/the machine is loaded/.test(n))).toEqual([
        expect.stringMatching(/naming \{"pid":1\} skipped/),
        expect.stringMatching(/naming \{"spawn":3\} skipped/),
      ]);
      expect(result.trace.filter((e) => e.kind === 'webhook' && e.forged)).toEqual([]);
      noneLeft();
    });
  },
);

describe.runIf(linux && sandboxAvailability().ok)('the sandbox of a black-box runner', { timeout: 90_000 }, () => {
  it("is a PID namespace whose PID 1 is a canary: a runner that signals PID 1 is caught (A2), and the machine's init is untouched", async () => {
    const { runRealCommand } = await import('./real-world.ts');
    const { HAPI_PROFILE } = await import('./http-runner.ts');
    const root = new URL('../../', import.meta.url).pathname;
    // Only ever run in the sandbox: Sandbox.open refuses (throws) rather than run this unconfined.
    const command = `kill -TERM 1; cd ${JSON.stringify(root)} && exec ${JSON.stringify(process.execPath)} --import tsx cli/daemon-bin.ts`;
    const scenario = parseScenario({
      steps: [{ op: 'spawn' }, { op: 'advance', ms: 3_000 }, { op: 'stop', session: { spawn: 0 } }],
    });
    const result = await runRealCommand(
      command,
      HAPI_PROFILE,
      scenario,
      { timeScale: 0.1, sandbox: true },
      'kills-pid-1',
    );
    expect(result.harnessErrors).toEqual([]);
    expect(result.violations.filter((v) => v.invariant === 'A2').map((v) => v.message)).toEqual([
      expect.stringMatching(/signalled PID 1 \(SIGTERM\)/),
    ]);
    // Inside, the runner saw its own PIDs (from 10000 on); the oracle saw this machine's: the spawn was judged on them.
    expect(result.violations.filter((v) => v.invariant !== 'A2')).toEqual([]);
    noneLeft();
  });
});

describe.runIf(linux)('Ctrl-C or kill in the middle of a real run', { timeout: 90_000 }, () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    'on %s: kills every process of the run, reports them and the timeline so far, removes its temporary directory, and exits %i',
    async (signal, status) => {
      const { spawn } = await import('node:child_process');
      const { readdirSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      const prefix = `${runPrefix}-${signal.toLowerCase()}`;
      const root = new URL('../../', import.meta.url).pathname;
      // legacy leaves its children running: there is something to clean up when the interrupt comes.
      const cli = spawn(
        process.execPath,
        ['--import', 'tsx', 'cli/bin.ts', 'simulate', '--real', '--runner', 'legacy', '--delay', '10m'],
        {
          cwd: root,
          env: { ...process.env, RUNNER_CHAOS_RUN_PREFIX: prefix },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      cli.stdout.on('data', (chunk) => (stdout += String(chunk)));
      cli.stderr.on('data', (chunk) => (stderr += String(chunk)));
      try {
        // Wait (event by event, bounded) until the run has its processes up; judge that one look,
        // not a second scan: a double fork's intermediate may exit between two looks.
        const started = Date.now();
        let seen = 0;
        while ((seen = findMarkedByPrefix('RUNNER_CHAOS_RUN', prefix).length) < 4 && Date.now() - started < 20_000)
          await new Promise((r) => setTimeout(r, 100));
        expect(seen).toBeGreaterThanOrEqual(4);
        // 'close': the exit code, and every byte of both streams read.
        const exited = new Promise<number | null>((resolve) => cli.once('close', (code) => resolve(code)));
        cli.kill(signal); // our own child, through its handle
        expect(await exited).toBe(status);
        // Not silent: progress while it ran, then what it killed and the timeline it had.
        expect(stderr).toMatch(/--real: runner 1\/1 legacy: step \d+\/\d+/);
        expect(stdout).toMatch(/=== legacy \(interrupted\) ===\n[^]*\+ pid \d+ wrapper of child #0/);
        const killed =
          /interrupted by (\w+) while playing legacy; killed (\d+) process\(es\) of the run:\n {2}pid \d+ /.exec(
            stdout,
          );
        expect(killed, stdout).not.toBeNull();
        expect(killed![1]).toBe(signal);
        expect(Number(killed![2])).toBeGreaterThanOrEqual(1);
        expect(findMarkedByPrefix('RUNNER_CHAOS_RUN', prefix)).toEqual([]);
        expect(readdirSync(tmpdir()).filter((name) => name.startsWith(`runner-chaos-${prefix}`))).toEqual([]);
      } finally {
        if (cli.exitCode === null) cli.kill('SIGKILL');
      }
    },
  );
});

describe('the answer slack under load', () => {
  it('is stretched by the runnable processes per core, from 1x to at most 10x', async () => {
    const { loadFactor } = await import('./real-world.ts');
    expect(loadFactor(0.5, 2)).toBe(1);
    expect(loadFactor(10, 2)).toBe(5);
    expect(loadFactor(100, 2)).toBe(10);
    expect(loadFactor(3, 0)).toBe(3); // no core count: taken as one
  });
});
