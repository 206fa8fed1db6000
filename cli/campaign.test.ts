import { describe, expect, it } from 'vitest';
import { mergeReports, parseShard, shardRuns, shardSeed } from './campaign.ts';
import type { CheckReport } from '../properties/check.ts';

const report = (held: boolean, runs: number, wallMs: number): CheckReport => ({
  runner: 'r',
  declared: [],
  outcomes: [
    { invariant: 'S1', held, runs, wallMs, ...(held ? {} : { counterexample: { invariant: 'S1' } as never }) },
    { invariant: 'S2', held: true, runs, wallMs },
  ],
  violated: held ? [] : ['S1'],
  verdict: held ? 'as-declared' : 'unexpected',
  scenariosRun: runs,
  wallMs,
});

describe('a campaign in parts', () => {
  it('splits runs and seeds deterministically, every run played once', () => {
    const shards = [1, 2, 3].map((index) => ({ index, count: 3 }));
    expect(shards.map((s) => shardRuns(100, s))).toEqual([34, 33, 33]);
    expect(new Set(shards.map((s) => shardSeed(7, s))).size).toBe(3);
    expect(shardSeed(7, { index: 2, count: 3 })).toBe(shardSeed(7, { index: 2, count: 3 }));
    expect(shardSeed(7, { index: 1, count: 1 })).toBe(7);
    expect(() => parseShard('0/3')).toThrow(/not i\/n/);
    expect(parseShard(' 2/5 ')).toEqual({ index: 2, count: 5 });
  });

  it('merges: held only where every part held, the first counterexample, runs added up', () => {
    const merged = mergeReports([report(true, 30, 100), report(false, 12, 80), report(true, 30, 120)]);
    expect(merged.outcomes[0]).toMatchObject({ invariant: 'S1', held: false, runs: 72, wallMs: 120 });
    expect(merged.outcomes[0]!.counterexample).toEqual({ invariant: 'S1' });
    expect(merged.outcomes[1]).toMatchObject({ invariant: 'S2', held: true, runs: 72 });
    expect(merged.violated).toEqual(['S1']);
    expect(merged.verdict).toBe('unexpected');
    expect(merged.scenariosRun).toBe(72);
    expect(mergeReports([report(true, 30, 100), report(true, 30, 120)], true).wallMs).toBe(220);
  });
});
