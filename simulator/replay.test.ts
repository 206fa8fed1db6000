// Same seed, same trace: a run is a pure function of its scenario.
import { describe, expect, it } from 'vitest';
import { referenceRunner } from '../runner/reference.ts';
import { legacyRunner } from '../fixtures/runners/legacy.ts';
import { runScenario } from './run-scenario.ts';
import { scenario } from './test-support.ts';

const busy = (seed: number) =>
  scenario({
    seed,
    world: { shuffleTies: true },
    agent: { bootDelayMs: 15_000, tree: [{ escape: 'setsid' }, { escape: 'double-fork', ignoresSigterm: true }] },
    agents: [{ webhook: 'twice' }, { exitAfterMs: 14_000 }],
    steps: [
      { op: 'spawn', resume: 'a' },
      { op: 'spawn', resume: 'a' },
      { op: 'spawn', worktree: true },
      { op: 'advance', ms: 15_000 },
      { op: 'stop', session: { spawn: 0 } },
      { op: 'restart' },
      { op: 'spawn', resume: 'a' },
      { op: 'advance', ms: 30_000 },
    ],
  });

describe('replay', () => {
  it('gives the same trace for the same seed, for a passing and a failing runner', async () => {
    for (const runner of [referenceRunner, legacyRunner]) {
      const a = await runScenario(runner, busy(42));
      const b = await runScenario(runner, busy(42));
      expect(JSON.stringify(b.trace)).toBe(JSON.stringify(a.trace));
      expect(b.violations).toEqual(a.violations);
    }
  });

  it('orders same-instant events differently under other seeds, when ties are shuffled', async () => {
    const traces = new Set<string>();
    for (let seed = 1; seed <= 6; seed++)
      traces.add(JSON.stringify((await runScenario(referenceRunner, busy(seed))).trace));
    expect(traces.size).toBeGreaterThan(1);
  });

  it('round-trips a scenario through JSON unchanged', () => {
    const s = busy(3);
    expect(scenario(JSON.parse(JSON.stringify(s)))).toEqual(s);
  });
});
