import { describe, expect, it } from 'vitest';
import { play, scriptedRunner } from '../test-support.ts';

describe('VirtualWorld', () => {
  it("lets a runner's deep promise chains settle before virtual time moves on", async () => {
    const seen: number[] = [];
    const runner = scriptedRunner('deep-chains', (ports) => ({
      spawnSession: async () => {
        // Thousands of hops through the microtask queue, then a timer: it must start at t=0.
        let value = 0;
        for (let i = 0; i < 5_000; i++) value = await Promise.resolve(value + 1);
        const startedAt = ports.clock.now();
        await new Promise<void>((resolve) => ports.clock.setTimeout(resolve, 100));
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

  it('hands a PID that comes round to a stranger at once when the world reuses PIDs', async () => {
    const spawner = scriptedRunner('spawner', (ports) => ({
      spawnSession: async (request) => {
        await ports.processes.spawnDetached({ command: 'agent', args: [], cwd: request.directory, env: {} });
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
});
