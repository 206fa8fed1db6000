// The trap puts back exactly what it took: the platform's clock, randomness and timers are the
// same functions after a run as before it, however many runs came between. (It once put back a
// fresh bound wrapper of performance.now each run: after n runs a call went through n wrappers.)
import { describe, expect, it } from 'vitest';
import { withDeterminismTrap } from './determinism-trap.ts';

/** What the trap takes and must put back. */
const platform = () => ({
  dateNow: Date.now,
  perfNow: performance.now,
  random: Math.random,
  hrtime: process.hrtime,
  setTimeout: globalThis.setTimeout,
  setInterval: globalThis.setInterval,
  setImmediate: globalThis.setImmediate,
});

describe('withDeterminismTrap', () => {
  it('restores the very same functions after every run, and leaves performance.now inherited', async () => {
    const before = platform();
    const ownBefore = Object.getOwnPropertyDescriptor(performance, 'now');
    for (let run = 0; run < 100; run++) {
      const { value, trapped } = await withDeterminismTrap(async () => {
        expect(performance.now).not.toBe(before.perfNow); // trapped while the run plays
        return run;
      });
      expect(value).toBe(run);
      expect(trapped).toBeUndefined();
    }
    expect(platform()).toEqual(before);
    expect(performance.now).toBe(before.perfNow);
    expect(Object.getOwnPropertyDescriptor(performance, 'now')).toEqual(ownBefore);
  });

  it('puts the platform back once overlapping runs (one thread, Promise.all) have all ended, in either order', async () => {
    const before = platform();
    for (const firstEndsFirst of [true, false]) {
      let endFirst: () => void = () => {};
      let endSecond: () => void = () => {};
      const first = withDeterminismTrap(() => new Promise<void>((resolve) => (endFirst = resolve)));
      const second = withDeterminismTrap(() => new Promise<void>((resolve) => (endSecond = resolve)));
      expect(Date.now).not.toBe(before.dateNow);
      if (firstEndsFirst) endFirst();
      else endSecond();
      await (firstEndsFirst ? first : second);
      expect(Date.now).not.toBe(before.dateNow); // one run still plays: still trapped
      if (firstEndsFirst) endSecond();
      else endFirst();
      await Promise.all([first, second]);
      // (Each run putting back what it found once left the first run's wrappers in place for
      // good: a real run later in the same process lost its first timer.)
      expect(platform()).toEqual(before);
    }
  });

  it('restores them when the run throws', async () => {
    const perfNow = performance.now;
    await expect(
      withDeterminismTrap(async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(performance.now).toBe(perfNow);
  });
});
