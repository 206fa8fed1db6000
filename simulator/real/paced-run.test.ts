// Pacing: a run that says only "too slow for this time scale" is played again slower, at most
// three times and never past 1; a scale the user set is never changed; any other outcome stands.
import { describe, expect, it } from 'vitest';
import { playPaced } from './paced-run.ts';
import type { RealRunResult } from './real-world.ts';

const outcome = (tooSlow: boolean): RealRunResult =>
  ({ tooSlowForTimeScale: tooSlow, harnessErrors: tooSlow ? ['too slow'] : [] }) as unknown as RealRunResult;

describe('playPaced', () => {
  it('replays twice as slow while the machine is too slow, and keeps the first run that was not', async () => {
    const scales: number[] = [];
    const paced = await playPaced(async (scale) => (scales.push(scale), outcome(scales.length < 3)), 0.05, {
      pinned: false,
    });
    expect(scales).toEqual([0.05, 0.1, 0.2]);
    expect(paced.timeScale).toBe(0.2);
    expect(paced.result.tooSlowForTimeScale).toBe(false);
    expect(paced.notes).toHaveLength(2);
    expect(paced.notes[0]).toMatch(/time scale 0.05 .*played again at 0.1/);
  });

  it('gives up after three replays, and never goes past a time scale of 1', async () => {
    const scales: number[] = [];
    const paced = await playPaced(async (scale) => (scales.push(scale), outcome(true)), 0.05, { pinned: false });
    expect(scales).toEqual([0.05, 0.1, 0.2, 0.4]);
    expect(paced.result.tooSlowForTimeScale).toBe(true);
    const near: number[] = [];
    await playPaced(async (scale) => (near.push(scale), outcome(true)), 0.6, { pinned: false });
    expect(near).toEqual([0.6, 1]);
  });

  it('never changes a time scale the user set', async () => {
    const scales: number[] = [];
    const paced = await playPaced(async (scale) => (scales.push(scale), outcome(true)), 0.05, { pinned: true });
    expect(scales).toEqual([0.05]);
    expect(paced.notes).toEqual([]);
  });
});
