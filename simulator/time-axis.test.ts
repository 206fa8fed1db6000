import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildTimeAxis, humanDuration } from './time-axis.ts';

describe('the time axis', () => {
  it('keeps 15 s steps to scale and cuts an hour of nothing, saying how long it was', () => {
    const times = [0, 15_000, 20_000, 35_000, 40_000, 3_600_000, 3_620_000, 4_300_000];
    const axis = buildTimeAxis(times, 100, 1500);
    expect(axis.breaks.map((b) => b.label)).toEqual(['59 min 20 s', '11 min 20 s']);
    // Within a stretch, equal times take equal room.
    const a = axis.x(15_000) - axis.x(0);
    const b = axis.x(35_000) - axis.x(20_000);
    expect(Math.abs(a - b)).toBeLessThan(0.01);
    expect(axis.x(0)).toBeGreaterThanOrEqual(100);
    expect(axis.x(4_300_000)).toBeLessThanOrEqual(1500);
    // Twenty busy moments, each far from the next: 19 cuts that fit only when shrunk together.
    const sparse = buildTimeAxis(
      Array.from({ length: 20 }, (_, k) => [k * 10_000_000, k * 10_000_000 + 10]).flat(),
      50,
      1200,
    );
    expect(sparse.breaks.length).toBe(19);
    expect(sparse.x(190_000_010)).toBeLessThanOrEqual(1200);
    expect(sparse.breaks.at(-1)!.x1).toBeLessThanOrEqual(1200);
  });

  it('never draws a later time to the left of an earlier one, and stays inside its bounds', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.array(fc.integer({ min: 0, max: 10_000_000 }), { minLength: 1, maxLength: 60 }),
          // Many long gaps: more cuts than the width holds at their natural size.
          fc.array(
            fc.integer({ min: 0, max: 200 }).map((k) => k * 1_000_000),
            { minLength: 1, maxLength: 80 },
          ),
        ),
        (times) => {
          const axis = buildTimeAxis(times, 50, 1200);
          const sorted = [...times].sort((p, q) => p - q);
          for (let i = 1; i < sorted.length; i++)
            expect(axis.x(sorted[i]!)).toBeGreaterThanOrEqual(axis.x(sorted[i - 1]!));
          for (const t of times) {
            expect(axis.x(t)).toBeGreaterThanOrEqual(50);
            expect(axis.x(t)).toBeLessThanOrEqual(1200);
          }
        },
      ),
    );
  });

  it('says durations as a person would', () => {
    expect([250, 2_500, 60_000, 3_525_000, 3_600_000, 5_400_000].map(humanDuration)).toEqual([
      '250 ms',
      '2.5 s',
      '1 min',
      '58 min 45 s',
      '1 h',
      '1 h 30 min',
    ]);
  });
});
