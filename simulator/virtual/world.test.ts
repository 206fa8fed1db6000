import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunnerDefinition } from '../../runner/contract.ts';
import { referenceRunner } from '../../runner/reference.ts';
import { answersOf, pause, play, scriptedRunner, spawnAgent } from '../test-support.ts';
import { SPAWN_MARKER_ENV } from '../../runner/wire.mjs';

describe('VirtualWorld', () => {
  it("lets a runner's deep promise chains settle before virtual time moves on", async () => {
    const seen: number[] = [];
    const runner = scriptedRunner('deep-chains', (ports) => ({
      spawnSession: async () => {
        // Thousands of hops through the microtask queue, then a timer: it must start at t=0.
        let value = 0;
        for (let i = 0; i < 5_000; i++) value = await Promise.resolve(value + 1);
        const startedAt = ports.clock.now();
        await pause(ports, 100);
        seen.push(startedAt, ports.clock.now(), value);
        return { type: 'error', reason: 'spawn-failed', message: 'done' };
      },
    }));
    const result = await play(runner, { steps: [{ op: 'spawn' }, { op: 'advance', ms: 1_000 }] });
    expect(seen).toEqual([0, 100, 5_000]);
    expect(result.trace.find((e) => e.kind === 'answer')?.atMs).toBe(100);
  });

  it('fences a crashed runner: its timers never fire and its requests are answered as dropped', async () => {
    let fired = false;
    const runner = scriptedRunner('fenced', (ports) => ({
      spawnSession: () =>
        new Promise(() => {
          ports.clock.setTimeout(() => {
            fired = true;
          }, 1_000);
        }),
    }));
    const result = await play(runner, { steps: [{ op: 'spawn' }, { op: 'restart' }, { op: 'advance', ms: 5_000 }] });
    expect(fired).toBe(false);
    expect(result.trace.find((e) => e.kind === 'answer')).toMatchObject({
      answer: { failure: expect.stringMatching(/crashed/) },
    });
  });

  it("gives a descendant that clears its environment none of the runner's markers: only its group reaches it", async () => {
    const scrubbed = {
      agent: { bootDelayMs: 1_000, tree: [{ children: [{ clearsEnv: true }] }] },
      steps: [
        { op: 'spawn' as const },
        { op: 'advance' as const, ms: 3_000 },
        { op: 'stop' as const, session: { spawn: 0 } },
      ],
    };
    // The reference signals the groups of the marked members it finds: the whole tree dies.
    const held = await play(referenceRunner, scrubbed);
    expect(held.violated).toEqual([]);
    expect(held.trace.filter((e) => e.kind === 'process-start' && e.role === 'descendant')).toHaveLength(2);
    // The same runner without group signals finds the marked processes only, and leaks the one
    // whose environment was cleared (a scan for the marker cannot see it).
    const byScanOnly: RunnerDefinition = {
      ...referenceRunner,
      name: 'no-group-signals',
      create: (ports, config) =>
        referenceRunner.create({ ...ports, processes: { ...ports.processes, signalGroup: () => true } }, config),
    };
    const leaked = await play(byScanOnly, scrubbed);
    expect(leaked.violated).toContain('S2');
    expect(leaked.violations.find((v) => v.invariant === 'S2')?.message).toMatch(/descendant of child #0/);
  });

  it('hides a root whose environment no scan can read from every search for a marker, not from its PID or its parent', async () => {
    const seen: string[] = [];
    const prober = scriptedRunner('prober', (ports) => ({
      spawnSession: async (request) => {
        const root = await spawnAgent(ports, request.directory, { [SPAWN_MARKER_ENV]: 'm1' });
        await pause(ports, 500); // long past the exec window, in which any root may be missed
        const byMarker = await ports.processes.findByEnv(SPAWN_MARKER_ENV, 'm1');
        const children = await ports.processes.childrenOf(root.pid);
        seen.push(
          `root found by marker: ${byMarker.some((p) => p.pid === root.pid)}`,
          `descendant found by marker: ${byMarker.some((p) => p.pid !== root.pid)}`,
          `root alive by PID: ${ports.processes.generationOf(root.pid) === root.generation}`,
          `its child listed: ${children.length === 1}`,
        );
        return { type: 'error', reason: 'spawn-failed', message: 'probed' };
      },
    }));
    await play(prober, { agent: { unreadableEnviron: true }, steps: [{ op: 'spawn' }, { op: 'advance', ms: 1_000 }] });
    expect(seen).toEqual([
      'root found by marker: false',
      'descendant found by marker: true',
      'root alive by PID: true',
      'its child listed: true',
    ]);
    // That the reference kills such a root by its PID, even alone in its group, is the regression
    // scenario hidden-root-alone-T1 (fixtures/scenarios/regressions).
  });

  it('hands a PID that comes round to a stranger at once when the world reuses PIDs', async () => {
    const spawner = scriptedRunner('spawner', (ports) => ({
      spawnSession: async (request) => {
        await spawnAgent(ports, request.directory);
        return { type: 'error', reason: 'spawn-failed', message: 'left alone' };
      },
    }));
    const result = await play(spawner, {
      world: { reusePids: true },
      agent: { tree: [] },
      steps: [{ op: 'spawn' }, { op: 'crash', spawn: 0 }],
    });
    const pidsOf = (role: string) =>
      result.trace.flatMap((e) => (e.kind === 'process-start' && e.role === role ? [e.pid] : []));
    expect(pidsOf('bystander').at(-1)).toBe(pidsOf('wrapper')[0]);
  });

  it('makes I/O take its generated latency: requests interleave at an await, and a write lands only when it completes', async () => {
    const seen: string[] = [];
    const runner = scriptedRunner('saver', (ports) => {
      let registered = false;
      return {
        spawnSession: async () => {
          const wasRegistered = registered;
          await ports.state.save(`t=${ports.clock.now()}`);
          seen.push(`saved at ${ports.clock.now()}, saw registered=${wasRegistered}`);
          registered = true;
          return { type: 'error', reason: 'spawn-failed', message: 'done' };
        },
      };
    });
    // Two spawns at one instant: with a latency, the second checks before the first registers.
    await play(runner, {
      world: { latency: { stateSave: 250 } },
      steps: [{ op: 'spawn' }, { op: 'spawn' }, { op: 'advance', ms: 1_000 }],
    });
    expect(seen).toEqual(['saved at 250, saw registered=false', 'saved at 250, saw registered=false']);
    // Without one (the default), the write completes within the step: no interleaving.
    seen.length = 0;
    await play(runner, { steps: [{ op: 'spawn' }, { op: 'spawn' }, { op: 'advance', ms: 1_000 }] });
    expect(seen).toEqual(['saved at 0, saw registered=false', 'saved at 0, saw registered=true']);

    // A write in flight at a crash is lost: the next life loads the last one that landed.
    const loaded: Array<string | null> = [];
    const persister = scriptedRunner('persister', (ports) => {
      void ports.state.load().then((text) => loaded.push(text));
      return {
        spawnSession: async () => {
          await ports.state.save('first');
          void ports.state.save('second');
          return { type: 'error', reason: 'spawn-failed', message: 'done' };
        },
      };
    });
    await play(persister, {
      world: { latency: { stateSave: 100 } },
      steps: [{ op: 'spawn' }, { op: 'advance', ms: 150 }, { op: 'restart' }],
    });
    expect(loaded).toEqual([null, 'first']);
  });

  it('draws a latency per operation from a range, the same for one seed', async () => {
    const at: number[] = [];
    const runner = scriptedRunner('git-timer', (ports) => ({
      spawnSession: async (request) => {
        const started = ports.clock.now();
        await ports.worktrees.add(request.directory, `w${started}-${at.length}-${ports.random.token()}`);
        at.push(ports.clock.now() - started);
        return { type: 'error', reason: 'spawn-failed', message: 'done' };
      },
    }));
    const input = {
      seed: 7,
      world: { gitLatencyMs: { min: 0, max: 1_000 } },
      steps: [
        { op: 'spawn' as const },
        { op: 'spawn' as const },
        { op: 'spawn' as const },
        { op: 'advance' as const, ms: 2_000 },
      ],
    };
    await play(runner, input);
    const first = [...at];
    expect(first).toHaveLength(3);
    expect(first.every((ms) => ms >= 0 && ms <= 1_000)).toBe(true);
    expect(new Set(first).size).toBeGreaterThan(1);
    at.length = 0;
    await play(runner, input);
    expect(at).toEqual(first);
  });

  it('delivers an exit to onExit asked for after the child had already exited', async () => {
    let heard: unknown;
    const runner = scriptedRunner('late-listener', (ports) => ({
      spawnSession: async (request) => {
        const ref = await spawnAgent(ports, request.directory);
        await pause(ports, 500);
        const watched = ports.processes.onExit(ref, (exit) => (heard = exit));
        return { type: 'error', reason: 'spawn-failed', message: `watched=${watched}` };
      },
    }));
    await play(runner, {
      agent: { exitAfterMs: 100, exitCode: 3, tree: [] },
      steps: [{ op: 'spawn' }, { op: 'advance', ms: 1_000 }],
    });
    expect(heard).toEqual({ code: 3, signal: null });
  });

  it('stops with a broken-adapter error, never a pass, when the adapter breaks the contract', async () => {
    const steps = { steps: [{ op: 'spawn' as const }, { op: 'advance' as const, ms: 1_000 }] };
    const noRunner = { name: 'no-runner', description: '', declares: [], create: () => undefined as never };
    await expect(play(noRunner, steps)).rejects.toThrow(/create\(\) returned undefined, not a runner/);
    const throwsInCreate = scriptedRunner('throws-in-create', () => {
      throw new Error('config missing');
    });
    await expect(play(throwsInCreate, steps)).rejects.toThrow(/create\(\) threw: config missing/);
    const throwing = scriptedRunner('throws', () => ({
      spawnSession: async () => {
        throw new Error('boom');
      },
    }));
    await expect(play(throwing, steps)).rejects.toThrow(/spawn request #1: spawn threw "boom"/);
    const mute = scriptedRunner('answers-nothing', () => ({ spawnSession: async () => undefined as never }));
    await expect(play(mute, steps)).rejects.toThrow(/spawnSession answered undefined, not/);
    // An error whose reason the contract does not have: never taken for a truthful answer.
    const unknownReason = scriptedRunner('unknown-reason', () => ({
      spawnSession: async () => ({ type: 'error', reason: 'overloaded' as never, message: 'try later' }),
    }));
    await expect(play(unknownReason, steps)).rejects.toThrow(
      /spawnSession answered .*"overloaded".*: its reason is not one of the contract's \(timeout, exited, spawn-failed/,
    );
  });

  it('ends as a broken adapter when the runner reaches for the real clock, randomness or timers', async () => {
    // A runner module of a user's (outside this package), which uses Date.now for its timeout.
    const dir = mkdtempSync(join(tmpdir(), 'runner-chaos-determinism-'));
    try {
      const module = join(dir, 'wall-clock-runner.mjs');
      writeFileSync(
        module,
        `export default {
          name: 'wall-clock', description: '', declares: [],
          create: () => ({
            spawnSession: async () => ({ type: 'error', reason: 'busy', message: 'started at ' + Date.now() }),
            sessionStarted: async () => {}, stopSession: async () => ({ status: 'still_alive' }),
            listSessions: async () => [], shutdown: async () => {},
          }),
        };`,
      );
      const runner = ((await import(module)) as { default: RunnerDefinition }).default;
      await expect(play(runner, { steps: [{ op: 'spawn' }] })).rejects.toThrow(
        /runner "wall-clock" called Date\.now\(\) during a virtual run \(at .*wall-clock-runner\.mjs/,
      );
      // Restored afterwards, and the harness's own libraries are never blamed.
      expect(typeof Date.now()).toBe('number');
      expect(
        (await play(referenceRunner, { steps: [{ op: 'spawn' }, { op: 'advance', ms: 5_000 }] })).violations,
      ).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps a restarted runner down for downMs: the world goes on, webhooks are refused and retried', async () => {
    const result = await play(referenceRunner, {
      agent: { bootDelayMs: 1_000, tree: [] },
      steps: [
        { op: 'spawn' },
        { op: 'advance', ms: 500 },
        { op: 'restart', downMs: 3_000 },
        { op: 'list' },
        { op: 'advance', ms: 5_000 },
      ],
    });
    const webhooks = result.trace.filter((e) => e.kind === 'webhook').map((e) => e.atMs);
    const started = result.trace.find((e) => e.kind === 'process-start' && e.role === 'wrapper')!.atMs;
    // Refused at boot and each second after while the runner is down (it is back at 3.5 s)...
    expect(webhooks).toEqual([started + 1_000, started + 2_000, started + 3_000]);
    const runnerStarts = result.trace.filter((e) => e.kind === 'runner' && e.op === 'start').map((e) => e.atMs);
    expect(runnerStarts).toEqual([0, 3_500]);
    // ...and the new life tears down the booting child whose requester died with the old one.
    const exit = result.trace.find((e) => e.kind === 'process-exit' && e.role === 'wrapper')!;
    expect(exit.atMs).toBeGreaterThanOrEqual(3_500);
    expect(exit.atMs).toBeLessThan(started + 4_000);
    expect(result.violations).toEqual([]);
  });
});

describe('a webhook in flight (latency.webhook)', () => {
  it('reaches the runner its latency after the post; one that lands after its root exited binds no answer', async () => {
    // The agent posts at 200 and exits at 210; the webhook lands at 250, after the runner heard
    // of the exit and answered "exited". That answer is true (L3 holds a spawn to its webhook
    // only when the webhook reached the runner while its root ran), and the late webhook is
    // handed to the runner all the same.
    const result = await play(referenceRunner, {
      world: { latency: { webhook: 50 } },
      agent: { bootDelayMs: 100, exitAfterMs: 110, exitCode: 0, tree: [] },
      steps: [{ op: 'spawn' }, { op: 'advance', ms: 1_000 }],
    });
    const webhook = result.trace.find((e) => e.kind === 'webhook')!;
    expect(webhook).toMatchObject({ atMs: 200, inFlightMs: 50 });
    const exit = result.trace.find((e) => e.kind === 'process-exit' && e.role === 'wrapper')!;
    expect(exit.atMs).toBe(210);
    expect(answersOf(result)[0]).toMatchObject({ atMs: 210, result: { type: 'error', reason: 'exited' } });
    const handled = result.trace.find((e) => e.kind === 'log' && e.message === 'webhook ignored');
    expect(handled?.atMs).toBe(250);
    expect(result.violations).toEqual([]);
  });

  it('still binds the answer when it lands while the root runs', async () => {
    // A runner that answers "exited" once it hears of the exit, whatever webhook it took before:
    // the webhook landed at 150 while the root ran (it exits at 200), so L3 holds it to success.
    const handled: number[] = [];
    const answersExitOnly = scriptedRunner('answers-exit-only', (ports) => ({
      spawnSession: async (request) => {
        const ref = await spawnAgent(ports, request.directory);
        return new Promise((resolve) => {
          ports.processes.onExit(ref, () =>
            resolve({ type: 'error', reason: 'exited', message: 'the child exited', pid: ref.pid }),
          );
        });
      },
      sessionStarted: async () => void handled.push(ports.clock.now()),
    }));
    const result = await play(answersExitOnly, {
      world: { latency: { webhook: 50 } },
      agent: { bootDelayMs: 100, exitAfterMs: 200, exitCode: 0, tree: [] },
      steps: [{ op: 'spawn' }, { op: 'advance', ms: 1_000 }],
    });
    expect(handled).toEqual([150]);
    expect(answersOf(result)[0]).toMatchObject({ atMs: 200, result: { type: 'error', reason: 'exited' } });
    expect(result.violated).toContain('L3');
  });

  it('is lost when the runner that took it crashes, and the agent posts it again', async () => {
    const handled: number[] = [];
    const keepsChildren = scriptedRunner('keeps-children', (ports) => ({
      spawnSession: async (request) => {
        await spawnAgent(ports, request.directory);
        return new Promise(() => {}); // answered by nobody: the crash ends the request
      },
      sessionStarted: async () => void handled.push(ports.clock.now()),
    }));
    const result = await play(keepsChildren, {
      world: { latency: { webhook: 100 } },
      agent: { bootDelayMs: 100, tree: [] },
      steps: [{ op: 'spawn' }, { op: 'advance', ms: 150 }, { op: 'restart' }, { op: 'advance', ms: 3_000 }],
    });
    const posts = result.trace.filter((e) => e.kind === 'webhook').map((e) => e.atMs);
    // Posted at 100 to the first life, lost in flight at 200 (that life crashed at 150), posted
    // again a second later, and handled by the second life when it lands.
    expect(posts).toEqual([100, 1_200]);
    expect(handled).toEqual([1_300]);
  });
});
