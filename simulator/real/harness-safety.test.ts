// The harness's own safety in the real world: a runner command that misbehaves is a harness
// error naming what went wrong, never a pass; a forged webhook never names a PID the run does not
// own; the sandbox keeps a runner from signalling anything outside the run; Ctrl-C or kill in the
// middle of a run leaves nothing behind.
import { describe, expect, it } from 'vitest';
import { forgedWebhookKillRunner } from '../../fixtures/runners/forged-webhook-kill.ts';
import { findMarkedByPrefix } from '../../runner/node/proc.ts';
import { parseScenario } from '../scenario.ts';
import { sandboxAvailability } from './sandbox.ts';
import { fileRunPrefix } from '../test-support.ts';
import { expectNoneLeft, linux, playRealPaced } from './test-support.ts';

const runPrefix = fileRunPrefix('safety');

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
      expectNoneLeft(runPrefix);
    });

    it('a forged webhook never names a PID the run does not own: a literal PID, or a child that never started, is skipped and said', async () => {
      const scenario = parseScenario({
        steps: [
          { op: 'forge-webhook', pid: { pid: 1 }, sessionId: 'init', startedBy: 'runner' },
          { op: 'forge-webhook', pid: { spawn: 3 }, sessionId: 'nobody', startedBy: 'runner' },
          { op: 'advance', ms: 1_000 },
        ],
      });
      const result = await playRealPaced(forgedWebhookKillRunner, scenario);
      expect(result.forged).toEqual([]);
      // (A note on the machine's load may come first, when it is loaded.)
      expect(result.notes.filter((n) => !/the machine is loaded/.test(n))).toEqual([
        expect.stringMatching(/naming \{"pid":1\} skipped/),
        expect.stringMatching(/naming \{"spawn":3\} skipped/),
      ]);
      expect(result.trace.filter((e) => e.kind === 'webhook' && e.forged)).toEqual([]);
      expectNoneLeft(runPrefix);
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
    expectNoneLeft(runPrefix);
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
