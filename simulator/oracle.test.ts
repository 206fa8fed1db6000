// Every oracle check fires on a runner built to break exactly it, and stays quiet when the
// reference runner plays the same scenario.
import { describe, expect, it } from 'vitest';
import { referenceRunner } from '../runner/reference.ts';
import { createReferenceRunner } from '../runner/core/reference-runner.ts';
import { SessionWebhookSchema, type Runner, type SpawnResult } from '../runner/contract.ts';
import type { RunnerPorts } from '../runner/ports.ts';
import { answersOf, pause, play, scriptedRunner, spawnAgent } from './test-support.ts';
import type { ScenarioInput } from './scenario.ts';

/** Spawns the agent and waits for its webhook (by PID) or the timeout; nothing else. */
function naiveSpawner(
  name: string,
  extra: Partial<Runner> | ((ports: RunnerPorts) => Partial<Runner>) = {},
  rewrite: (answer: SpawnResult) => SpawnResult = (answer) => answer,
) {
  return scriptedRunner(name, (ports, config) => {
    const waiting = new Map<number, (id: string) => void>();
    return {
      spawnSession: async (request) => {
        const ref = await ports.processes.spawnDetached({
          command: 'agent',
          args: request.resumeSessionId ? ['--resume', request.resumeSessionId] : [],
          cwd: request.directory,
          env: {},
          ...(request.resumeSessionId ? { resumeSessionId: request.resumeSessionId } : {}),
        });
        const answer = await new Promise<SpawnResult>((resolve) => {
          const timer = ports.clock.setTimeout(
            () => resolve({ type: 'error', reason: 'timeout', message: 'timeout', pid: ref.pid }),
            config.webhookTimeoutMs,
          );
          waiting.set(ref.pid, (sessionId) => {
            ports.clock.clearTimeout(timer);
            resolve({ type: 'success', sessionId, pid: ref.pid });
          });
        });
        return rewrite(answer);
      },
      sessionStarted: async (body) => {
        const hook = SessionWebhookSchema.parse(body);
        waiting.get(hook.metadata.hostPid)?.(hook.sessionId);
      },
      ...(typeof extra === 'function' ? extra(ports) : extra),
    };
  });
}

async function expectOnly(runner: Parameters<typeof play>[0], input: Parameters<typeof play>[1], invariant: string) {
  const result = await play(runner, input);
  expect(result.violated).toContain(invariant);
  const clean = await play(referenceRunner, input);
  expect(clean.violations).toEqual([]);
  return result;
}

const spawnOnce: Pick<ScenarioInput, 'steps'> = { steps: [{ op: 'spawn' }, { op: 'advance', ms: 5_000 }] };

describe('oracle', () => {
  it('A2 fires when the runner signals a process it never spawned (the bystander)', async () => {
    const runner = scriptedRunner('signals-bystander', (ports) => ({
      spawnSession: async () => {
        ports.processes.signal(100, 'SIGTERM');
        return { type: 'error', reason: 'spawn-failed', message: 'no' };
      },
    }));
    const result = await expectOnly(runner, spawnOnce, 'A2');
    expect(result.violations.find((v) => v.invariant === 'A2')?.message).toMatch(/pid 100 \(bystander\)/);
  });

  it('A1 fires when a worktree is removed while its child still runs in it', async () => {
    const runner = scriptedRunner('removes-worktree-early', (ports) => ({
      spawnSession: async (request) => {
        const path = await ports.worktrees.add(request.directory, 'wt');
        await ports.processes.spawnDetached({ command: 'agent', args: [], cwd: path, env: {} });
        await ports.worktrees.remove(request.directory, path);
        return { type: 'error', reason: 'spawn-failed', message: 'no' };
      },
    }));
    await expectOnly(
      runner,
      {
        steps: [
          { op: 'spawn', worktree: true },
          { op: 'advance', ms: 1_000 },
        ],
      },
      'A1',
    );
  });

  it('A3 fires when two live children serve one requested session', async () => {
    const runner = scriptedRunner('double-spawn', (ports) => ({
      spawnSession: async (request) => {
        for (let i = 0; i < 2; i++) {
          await ports.processes.spawnDetached({
            command: 'agent',
            args: ['--resume', request.resumeSessionId ?? 'x'],
            cwd: request.directory,
            env: {},
            resumeSessionId: request.resumeSessionId ?? 'x',
          });
        }
        return { type: 'error', reason: 'spawn-failed', message: 'no' };
      },
    }));
    await expectOnly(
      runner,
      {
        steps: [
          { op: 'spawn', resume: 'conv' },
          { op: 'advance', ms: 1_000 },
        ],
      },
      'A3',
    );
  });

  it('T1 fires on a success that carries another id than the child reported', async () => {
    const runner = naiveSpawner('wrong-id', {}, (answer) =>
      answer.type === 'success' ? { ...answer, sessionId: 'made-up' } : answer,
    );
    const result = await expectOnly(runner, spawnOnce, 'T1');
    expect(result.violations[0]?.message).toMatch(/answered session made-up for pid \d+, but child #0 reported sess-1/);
  });

  it('T1 fires on "stopped" while the tree lives, and on "timeout" for a child that had exited', async () => {
    const liar = naiveSpawner('stop-liar', { stopSession: async () => ({ status: 'stopped' }) });
    await expectOnly(
      liar,
      { steps: [{ op: 'spawn' }, { op: 'advance', ms: 5_000 }, { op: 'stop', session: { spawn: 0 } }] },
      'T1',
    );
    const slow = await play(naiveSpawner('timeout-liar'), { agent: { exitAfterMs: 1_000 }, steps: spawnOnce.steps });
    expect(slow.violations.map((v) => v.invariant)).toEqual(expect.arrayContaining(['T1', 'L1']));
    expect(slow.violations.find((v) => v.invariant === 'T1')?.message).toMatch(/answered "timeout", but its child/);
    expect(slow.violations.find((v) => v.invariant === 'L1')?.message).toMatch(
      /after it could know its child .* exited before its webhook/,
    );
  });

  it('L1 fires on a stop answered later than the kill deadline allows', async () => {
    const slow = naiveSpawner('slow-stop', (ports) => ({
      stopSession: () => new Promise((resolve) => ports.clock.setTimeout(() => resolve({ status: 'stopped' }), 30_000)),
    }));
    const result = await play(slow, {
      steps: [
        { op: 'spawn' },
        { op: 'advance', ms: 3_000 },
        { op: 'stop', session: { spawn: 0 } },
        { op: 'advance', ms: 60_000 },
      ],
    });
    expect(result.violations.find((v) => v.invariant === 'L1')?.message).toMatch(
      /stop request #2 .* took 30000 ms, over the bound of \d+ ms/,
    );
  });

  it("L1's exit bound counts from when the runner could know: not before its spawn call gave it the PID", async () => {
    // A runner that answers as soon as its slow spawn call returns and shows the child gone.
    const prompt = scriptedRunner('answers-when-it-knows', (ports) => ({
      spawnSession: async (request) => {
        const ref = await spawnAgent(ports, request.directory);
        // It looks (by generation, not through onExit) once its slow spawn call has returned.
        if (ports.processes.generationOf(ref.pid) !== ref.generation)
          return { type: 'error', reason: 'exited', message: 'exited before its webhook', pid: ref.pid };
        return new Promise<SpawnResult>(() => {});
      },
    }));
    // The child is forked at the call and crashed at once; the spawn call takes 1,500 ms.
    const input: ScenarioInput = {
      world: { latency: { spawn: 1_500 } },
      steps: [{ op: 'spawn' }, { op: 'crash', spawn: 0, tree: false }, { op: 'advance', ms: 5_000 }],
    };
    const result = await play(prompt, input);
    expect(result.violations.filter((v) => v.invariant === 'L1')).toEqual([]);
    // A runner that waits a further 2 s after it knew is still caught.
    const late = scriptedRunner('answers-late', (ports) => ({
      spawnSession: async (request) => {
        const ref = await spawnAgent(ports, request.directory);
        return new Promise<SpawnResult>((resolve) => {
          ports.processes.onExit(ref, () =>
            ports.clock.setTimeout(
              () => resolve({ type: 'error', reason: 'exited', message: 'exited', pid: ref.pid }),
              2_000,
            ),
          );
        });
      },
    }));
    const caught = await play(late, input);
    expect(caught.violations.find((v) => v.invariant === 'L1')?.message).toMatch(/after it could know its child/);
  });

  it('T1 takes busy for true while /proc refused the runner since the request, and for a lie otherwise', async () => {
    // Busy whenever asked: true only when the runner could not look (it cannot verify an earlier tree gone).
    const busy = scriptedRunner('busy-unless-it-can-look', (ports) => ({
      spawnSession: async () => {
        await ports.processes.findByEnv('RUNNER_CHAOS_PROBE', 'x').catch(() => []);
        return { type: 'error', reason: 'busy', message: 'an earlier child could not be verified gone' };
      },
    }));
    const steps = [
      { op: 'spawn' as const, resume: 'k' },
      { op: 'advance' as const, ms: 1_000 },
    ];
    const refused = await play(busy, { world: { scanFaults: [{ nth: 1, times: 1, code: 'EMFILE' }] }, steps });
    expect(refused.violations).toEqual([]);
    const lie = await expectOnly(busy, { steps }, 'T1');
    expect(lie.violations[0]?.message).toMatch(/answered error \(busy\), which nothing in the world bears out/);
  });

  it('L1 fires on a request never answered', async () => {
    const runner = scriptedRunner('hangs', () => ({ spawnSession: () => new Promise<SpawnResult>(() => {}) }));
    const result = await expectOnly(runner, spawnOnce, 'L1');
    expect(result.violations.find((v) => v.invariant === 'L1')?.message).toMatch(/never answered/);
  });

  it('S1 fires on a listed session nobody was granted, S2 on a leaked tree, S3 on a leaked worktree', async () => {
    const ghostLister = naiveSpawner('ghost-lister', {
      listSessions: async () => [{ sessionId: 'sess-9', pid: 4242, startedBy: 'runner' }],
    });
    const ghosts = await expectOnly(ghostLister, spawnOnce, 'S1');
    expect(ghosts.counts.ghostSessions).toBe(1);

    const leaker = naiveSpawner('leaker');
    const leaked = await expectOnly(
      leaker,
      { runnerConfig: { webhookTimeoutMs: 1_000 }, agent: { bootDelayMs: 60_000 }, steps: spawnOnce.steps },
      'S2',
    );
    expect(leaked.counts.leakedProcesses).toBe(2);
    // The hub row the orphan created after the timeout is a ghost too.
    expect(leaked.violated).toContain('S1');

    const worktreeLeaker = scriptedRunner('worktree-leaker', (ports) => ({
      spawnSession: async (request) => {
        await ports.worktrees.add(request.directory, 'kept');
        return { type: 'error', reason: 'spawn-failed', message: 'gave up' };
      },
    }));
    const wt = await expectOnly(
      worktreeLeaker,
      {
        steps: [
          { op: 'spawn', worktree: true },
          { op: 'advance', ms: 1_000 },
        ],
      },
      'S3',
    );
    expect(wt.counts.leakedWorktrees).toBe(1);
  });

  it('accepts a session started from a terminal as legitimate', async () => {
    const result = await play(referenceRunner, {
      steps: [
        { op: 'forge-webhook', pid: { bystander: true }, sessionId: 'term-1', startedBy: 'terminal' },
        { op: 'list' },
      ],
    });
    expect(result.violations).toEqual([]);
    const list = result.trace.find((e) => e.kind === 'answer' && e.answer.op === 'list');
    expect(list).toMatchObject({ answer: { result: [{ sessionId: 'term-1', startedBy: 'terminal' }] } });
  });

  it('S1 fires on a list that names one session twice: a terminal claiming the id of a child of the runner', async () => {
    // The reference, except that it takes a terminal's claim to an id its own child holds.
    const credulous = scriptedRunner('lists-a-claimed-id-twice', (ports, config) => {
      const runner = createReferenceRunner(ports, config);
      const claims: { sessionId: string; pid: number; startedBy: 'terminal' }[] = [];
      return {
        spawnSession: (r) => runner.spawnSession(r),
        sessionStarted: async (body) => {
          const hook = SessionWebhookSchema.parse(body);
          if (hook.metadata.startedBy === 'terminal')
            claims.push({ sessionId: hook.sessionId, pid: hook.metadata.hostPid, startedBy: 'terminal' });
          return runner.sessionStarted(body);
        },
        stopSession: (id) => runner.stopSession(id),
        shutdown: () => runner.shutdown(),
        listSessions: async () => [...(await runner.listSessions()), ...claims],
      };
    });
    const steps = [
      { op: 'spawn' as const },
      { op: 'advance' as const, ms: 5_000 },
      {
        op: 'forge-webhook' as const,
        pid: { bystander: true as const },
        sessionId: 'sess-1',
        startedBy: 'terminal' as const,
      },
      { op: 'list' as const },
    ];
    const caught = await expectOnly(credulous, { steps }, 'S1');
    expect(caught.violations[0]?.message).toMatch(
      /^list request #2 \(issued .*\) names session sess-1 more than once: a list names each session at most once$/,
    );
    // The reference keeps its child's claim and ignores the terminal's.
    const reference = await play(referenceRunner, { steps });
    expect(reference.violations).toEqual([]);
    const list = reference.trace.find((e) => e.kind === 'answer' && e.answer.op === 'list');
    expect(list).toMatchObject({ answer: { result: [{ sessionId: 'sess-1', startedBy: 'runner' }] } });
  });

  it('T1 fires on a list that leaves out a session a terminal reported, while its process runs', async () => {
    // The reference, except that its lists name only its own children.
    const ownOnly = scriptedRunner('own-sessions-only', (ports, config) => {
      const runner = createReferenceRunner(ports, config);
      return {
        spawnSession: (r) => runner.spawnSession(r),
        sessionStarted: (b) => runner.sessionStarted(b),
        stopSession: (id) => runner.stopSession(id),
        shutdown: () => runner.shutdown(),
        listSessions: async () => (await runner.listSessions()).filter((s) => s.startedBy === 'runner'),
      };
    });
    const terminal = { op: 'forge-webhook' as const, pid: { bystander: true as const }, sessionId: 'term-1' };
    const steps = [
      { ...terminal, startedBy: 'terminal' as const },
      { op: 'advance' as const, ms: 1_000 },
      { op: 'list' as const },
    ];
    const result = await expectOnly(ownOnly, { steps }, 'T1');
    // The step's list and the final one.
    expect(result.violations.map((v) => v.message)).toEqual([
      expect.stringMatching(/^list request #1 .* leaves out session term-1, which a terminal reported from pid \d+/),
      expect.stringMatching(/^list request #2 .* leaves out session term-1/),
    ]);
    // Not due: a webhook that claims the runner started it, one a stop named since, one the
    // runner's earlier life took, and one after a shutdown was asked.
    const quiet = [
      [{ ...terminal, startedBy: 'runner' as const }, { op: 'list' as const }],
      [
        { ...terminal, startedBy: 'terminal' as const },
        { op: 'stop' as const, session: { id: 'term-1' } },
        { op: 'list' as const },
      ],
      [
        { ...terminal, startedBy: 'terminal' as const },
        { op: 'restart' as const, state: 'kept' as const },
        { op: 'list' as const },
      ],
      [{ ...terminal, startedBy: 'terminal' as const }, { op: 'shutdown' as const }, { op: 'list' as const }],
    ];
    for (const quietSteps of quiet)
      expect((await play(ownOnly, { steps: quietSteps })).violations, JSON.stringify(quietSteps)).toEqual([]);
  });

  it('S1 fires at a list answer mid-run, not only at the final list', async () => {
    // Lists every session it ever heard of until a stop, then forgets them: clean at the end.
    const runner = naiveSpawner('lists-timed-out', (ports) => {
      const heard = new Set<string>();
      return {
        sessionStarted: async (body) => {
          heard.add(SessionWebhookSchema.parse(body).sessionId);
        },
        listSessions: async () => {
          const shown = [...heard].map((sessionId) => ({ sessionId, pid: 1, startedBy: 'runner' as const }));
          if (ports.clock.now() > 10_000) heard.clear();
          return shown;
        },
      };
    });
    const result = await expectOnly(
      runner,
      {
        runnerConfig: { webhookTimeoutMs: 1_000 },
        agent: { bootDelayMs: 2_000, ignoresSigterm: true },
        steps: [{ op: 'spawn' }, { op: 'advance', ms: 3_000 }, { op: 'list' }, { op: 'advance', ms: 20_000 }],
      },
      'S1',
    );
    expect(result.violations.find((v) => v.invariant === 'S1')?.message).toMatch(
      /listed by the runner in its answer to list request #2 .* though its spawn request #1 answered error \(timeout\)/,
    );
  });

  it('S1 allows a session shown while its spawn is still being answered', async () => {
    // Lists the session as soon as the webhook lands, and answers the spawn a moment later.
    const runner = naiveSpawner('lists-early', (ports) => {
      let seen: string | undefined;
      return {
        sessionStarted: async (body) => {
          seen = SessionWebhookSchema.parse(body).sessionId;
        },
        listSessions: async () => (seen === undefined ? [] : [{ sessionId: seen, pid: 102, startedBy: 'runner' }]),
        spawnSession: async (request) => {
          const ref = await spawnAgent(ports, request.directory);
          await pause(ports, 3_000);
          return seen !== undefined
            ? { type: 'success', sessionId: seen, pid: ref.pid }
            : { type: 'error', reason: 'timeout', message: 'no', pid: ref.pid };
        },
      };
    });
    const result = await play(runner, {
      agent: { bootDelayMs: 1_000 },
      steps: [{ op: 'spawn' }, { op: 'advance', ms: 2_000 }, { op: 'list' }, { op: 'advance', ms: 5_000 }],
    });
    expect(result.violations).toEqual([]);
  });

  it('T1 fires when a resume is answered with another conversation, or with a child not told to resume', async () => {
    const crossed = naiveSpawner('crossed', {}, (answer) => answer);
    // The first resume's child answers the second resume too.
    const joinsAny = scriptedRunner('joins-any', (ports, config) => {
      const base = crossed.create(ports, config) as Runner;
      let first: Promise<SpawnResult> | undefined;
      return { ...base, spawnSession: (request) => (first ??= base.spawnSession(request)) };
    });
    const twoResumes: ScenarioInput = {
      steps: [
        { op: 'spawn', resume: 'conv-a' },
        { op: 'spawn', resume: 'conv-b' },
        { op: 'advance', ms: 5_000 },
      ],
    };
    const r1 = await expectOnly(joinsAny, twoResumes, 'T1');
    expect(r1.violations.find((v) => v.invariant === 'T1')?.message).toMatch(
      /asked to resume conv-b, but answered session sess-1 of child #0, a resume of conv-a/,
    );
    const dropsKey = scriptedRunner('drops-resume-key', (ports, config) => {
      const base = crossed.create(ports, config) as Runner;
      // Passes --resume in argv only: the port is not told.
      return { ...base, spawnSession: (request) => base.spawnSession({ directory: request.directory }) };
    });
    const r2 = await expectOnly(
      dropsKey,
      {
        steps: [
          { op: 'spawn', resume: 'conv-a' },
          { op: 'advance', ms: 5_000 },
        ],
      },
      'T1',
    );
    expect(r2.violations[0]?.message).toMatch(
      /asked to resume conv-a, .* a new conversation \(the runner did not pass resumeSessionId/,
    );
  });

  it('L2 fires on a stop that gives up without SIGKILL, not on one the kernel defeated', async () => {
    const polite = naiveSpawner('polite', (ports) => ({
      stopSession: async () => {
        ports.processes.signalGroup(102, 'SIGTERM');
        return { status: 'still_alive', message: 'asked nicely' };
      },
    }));
    const stopIgnorer: ScenarioInput = {
      agent: { bootDelayMs: 1_000, ignoresSigterm: true },
      steps: [
        { op: 'spawn' },
        { op: 'advance', ms: 2_000 },
        { op: 'stop', session: { spawn: 0 } },
        { op: 'advance', ms: 60_000 },
      ],
    };
    const result = await expectOnly(polite, stopIgnorer, 'L2');
    expect(result.violations.find((v) => v.invariant === 'L2')?.message).toMatch(
      /answered "still_alive", and pid 102 \(wrapper of child #0\) lived past the stop's deadline .* without getting SIGKILL/,
    );
    // In D state for good, the reference's honest still_alive breaks nothing, nor does what lives on.
    const dState = await play(referenceRunner, {
      ...stopIgnorer,
      agent: { ...stopIgnorer.agent, sigkillDeath: 'never' },
    });
    expect(dState.violations).toEqual([]);
    const stop = dState.trace.find((e) => e.kind === 'answer' && e.answer.op === 'stop');
    expect(stop).toMatchObject({ answer: { result: { status: 'still_alive' } } });
  });

  it('L3 fires on a spawn answered with an error though its child posted a valid webhook in time', async () => {
    // Wants a token it never handed out: every webhook is refused, every spawn times out.
    const deaf = naiveSpawner('deaf', (ports) => ({
      sessionStarted: async (body) => {
        const hook = SessionWebhookSchema.parse(body);
        if (hook.metadata.spawnToken === undefined) ports.logger.log('warn', 'webhook without a token: ignored');
      },
    }));
    const result = await expectOnly(deaf, { agent: { bootDelayMs: 1_000 }, steps: spawnOnce.steps }, 'L3');
    expect(result.violations.find((v) => v.invariant === 'L3')?.message).toMatch(
      /spawn request #1 .* answered error \(timeout\), though its child #0 \(pid 102\) posted a valid webhook for sess-1 at 0:00:01.000, 14000 ms before its timeout/,
    );
    // "timeout" before the timeout could run out is just as wrong.
    const hasty = naiveSpawner('hasty', (ports) => ({
      spawnSession: async (request) => {
        const ref = await spawnAgent(ports, request.directory);
        await pause(ports, 500);
        return { type: 'error', reason: 'timeout', message: 'impatient', pid: ref.pid };
      },
    }));
    const early = await expectOnly(hasty, { agent: { bootDelayMs: 1_000 }, steps: spawnOnce.steps }, 'L3');
    expect(early.violations[0]?.message).toMatch(
      /answered "timeout" after 500 ms, before its webhook timeout of 15000 ms/,
    );
  });

  it('A4 fires on a signal to a granted session that no stop named, and to a child still within its timeout', async () => {
    // A stop that kills every child it has, not just the one asked for.
    const wide = naiveSpawner('stops-everyone', (ports) => ({
      stopSession: async () => {
        for (const pid of [102, 103]) ports.processes.signalGroup(pid, 'SIGKILL');
        await pause(ports, 100);
        return { status: 'stopped' };
      },
    }));
    const result = await expectOnly(
      wide,
      {
        agent: { bootDelayMs: 1_000, tree: [] },
        steps: [
          { op: 'spawn' },
          { op: 'spawn' },
          { op: 'advance', ms: 2_000 },
          { op: 'stop', session: { spawn: 0 } },
          { op: 'advance', ms: 10_000 },
        ],
      },
      'A4',
    );
    expect(result.violations.find((v) => v.invariant === 'A4')?.message).toMatch(
      /SIGKILL to process group 103 reached pid 103 \(wrapper of child #1\), of session sess-2, which the runner granted and no stop or shutdown named/,
    );
    const impatient = naiveSpawner('kills-booting', (ports) => ({
      listSessions: async () => {
        ports.processes.signal(102, 'SIGTERM');
        return [];
      },
    }));
    const booting = await expectOnly(
      impatient,
      {
        agent: { bootDelayMs: 5_000 },
        steps: [{ op: 'spawn' }, { op: 'advance', ms: 1_000 }, { op: 'list' }, { op: 'advance', ms: 20_000 }],
      },
      'A4',
    );
    expect(booting.violations.find((v) => v.invariant === 'A4')?.message).toMatch(
      /a child still booting, 14000 ms before its webhook timeout/,
    );
  });

  it('S4 fires on a shutdown answered while children live, and on what the runner does after it', async () => {
    const hasty = naiveSpawner('shutdown-fire-and-forget', (ports) => ({
      shutdown: async () => {
        ports.processes.signalGroup(102, 'SIGTERM');
      },
    }));
    const result = await expectOnly(
      hasty,
      {
        agent: { bootDelayMs: 1_000, dieDelayMs: 50 },
        steps: [
          { op: 'spawn' },
          { op: 'advance', ms: 2_000 },
          { op: 'shutdown' },
          { op: 'spawn' },
          { op: 'advance', ms: 20_000 },
        ],
      },
      'S4',
    );
    const messages = result.violations.filter((v) => v.invariant === 'S4').map((v) => v.message);
    expect(messages[0]).toMatch(/shutdown request #2 .* was answered while pid 102 \(wrapper of child #0\)/);
    expect(messages.some((m) => /the runner started child #1 .* after it answered shutdown/.test(m))).toBe(true);
  });

  it('A4 fires on a restart that kills the sessions its kept state file knew, instead of adopting them', async () => {
    const base = naiveSpawner('adopter');
    const killsOnRestart = scriptedRunner('kills-on-restart', (ports, config) => {
      const inner = base.create(ports, config) as Runner;
      void ports.state.load().then((text) => {
        for (const pid of JSON.parse(text ?? '[]') as number[]) ports.processes.signalGroup(pid, 'SIGKILL');
      });
      const pids: number[] = [];
      return {
        ...inner,
        sessionStarted: async (body) => {
          await inner.sessionStarted(body);
          pids.push(SessionWebhookSchema.parse(body).metadata.hostPid);
          await ports.state.save(JSON.stringify(pids));
        },
      };
    });
    const result = await expectOnly(
      killsOnRestart,
      {
        agent: { bootDelayMs: 1_000 },
        steps: [{ op: 'spawn' }, { op: 'advance', ms: 5_000 }, { op: 'restart' }, { op: 'advance', ms: 5_000 }],
      },
      'A4',
    );
    expect(result.violations.find((v) => v.invariant === 'A4')?.message).toMatch(
      /of session sess-1, granted at 0:00:01.000 and kept in the state file across the restart: a restart adopts it/,
    );
  });

  it('A4 does not hold a restart to adopt a session whose state writes the disk refused', async () => {
    // Every state write fails (a full disk): the reference's kept file never names sess-1, so its
    // next life sweeps the child as an orphan. It could not have known better: no violation.
    const steps = [
      { op: 'spawn' as const },
      { op: 'advance' as const, ms: 10_000 },
      { op: 'restart' as const, state: 'kept' as const },
      { op: 'advance' as const, ms: 10_000 },
      { op: 'list' as const },
    ];
    const diskFull = await play(referenceRunner, {
      world: { saveFaults: [{ nth: 1, times: 100, code: 'ENOSPC' }] },
      steps,
    });
    expect(diskFull.violations).toEqual([]);
    const logged = diskFull.trace.filter((e) => e.kind === 'log' && e.message === 'could not save runner state');
    expect(logged.length).toBeGreaterThan(0);
    // With the writes landing, the same restart adopts the session (listed after it).
    const kept = await play(referenceRunner, { steps });
    expect(kept.violations).toEqual([]);
    expect(answersOf(kept).at(-2)).toMatchObject({
      op: 'list',
      result: [expect.objectContaining({ sessionId: 'sess-1' })],
    });
  });

  it('T1 fires on "stopped" for an id no child ever had; S1 on a session listed after every process of it exited', async () => {
    const claims = naiveSpawner('stops-anything', { stopSession: async () => ({ status: 'stopped' }) });
    const unknown = await expectOnly(
      claims,
      {
        steps: [
          { op: 'stop', session: { id: 'no-such-session' } },
          { op: 'advance', ms: 1_000 },
        ],
      },
      'T1',
    );
    expect(unknown.violations[0]?.message).toMatch(
      /answered "stopped" for no-such-session, which no child of the runner ever reported/,
    );

    const base = naiveSpawner('lister');
    const lister = scriptedRunner('lists-the-dead', (ports, config) => {
      const inner = base.create(ports, config) as Runner;
      const granted: string[] = [];
      return {
        ...inner,
        spawnSession: async (request) => {
          const answer = await inner.spawnSession(request);
          if (answer.type === 'success') granted.push(answer.sessionId);
          return answer;
        },
        listSessions: async () => granted.map((sessionId) => ({ sessionId, pid: 102, startedBy: 'runner' as const })),
      };
    });
    const dead = await expectOnly(
      lister,
      {
        agent: { bootDelayMs: 1_000, exitAfterMs: 5_000, tree: [] },
        steps: [{ op: 'spawn' }, { op: 'advance', ms: 10_000 }],
      },
      'S1',
    );
    expect(dead.violations.find((v) => v.invariant === 'S1')?.message).toMatch(
      /ghost session sess-1: listed by the runner, though every process of it had exited/,
    );
  });
});
