import { describe, expect, it } from 'vitest';
import { EventQueue } from './event-queue.ts';
import { Rng } from './rng.ts';

function drainOrder(queue: EventQueue, log: string[]): string[] {
  for (let e = queue.pop(); e !== undefined; e = queue.pop()) e.run();
  return log;
}

describe('EventQueue', () => {
  it('runs events by time, and same-time events in the order they were scheduled', () => {
    const q = new EventQueue(100, null);
    const log: string[] = [];
    q.schedule(20, () => log.push('c'));
    q.schedule(10, () => log.push('a'));
    q.schedule(10, () => log.push('b'));
    expect(drainOrder(q, log)).toEqual(['a', 'b', 'c']);
  });

  it('skips cancelled events', () => {
    const q = new EventQueue(100, null);
    const log: string[] = [];
    q.schedule(1, () => log.push('a'));
    q.schedule(2, () => log.push('b')).cancel();
    expect(q.peekTime()).toBe(1);
    expect(drainOrder(q, log)).toEqual(['a']);
    expect(q.peekTime()).toBeUndefined();
  });

  it('refuses to grow past its bound', () => {
    const q = new EventQueue(2, null);
    q.schedule(1, () => {});
    q.schedule(1, () => {});
    expect(() => q.schedule(1, () => {})).toThrow(/event queue full/);
  });

  it('shuffles same-time events by seed, reproducibly, and never reorders across times', () => {
    const order = (seed: number): string[] => {
      const q = new EventQueue(100, new Rng(seed));
      const log: string[] = [];
      for (const name of ['a', 'b', 'c', 'd', 'e', 'f']) q.schedule(5, () => log.push(name));
      q.schedule(1, () => log.push('first'));
      q.schedule(9, () => log.push('last'));
      return drainOrder(q, log);
    };
    expect(order(7)).toEqual(order(7));
    const orders = new Set([1, 2, 3, 4, 5, 6, 7, 8].map((s) => order(s).join('')));
    expect(orders.size).toBeGreaterThan(1);
    for (const o of orders) {
      expect(o.startsWith('first')).toBe(true);
      expect(o.endsWith('last')).toBe(true);
    }
  });

  it('lets a chooser pick among the events due at one instant, asking again after each', () => {
    const asked: Array<[number, number]> = [];
    // Always the last of those due: the reverse of scheduling order, unless new ones join.
    const q = new EventQueue(100, null, (tied, at) => {
      asked.push([tied, at]);
      return tied - 1;
    });
    const log: string[] = [];
    q.schedule(1, () => log.push('alone'));
    q.schedule(5, () => log.push('a'));
    q.schedule(5, () => {
      log.push('b');
      q.schedule(5, () => log.push('b-now')); // due now: joins the next choice
    });
    q.schedule(5, () => log.push('c')).cancel(); // cancelled: never offered
    expect(drainOrder(q, log)).toEqual(['alone', 'b', 'b-now', 'a']);
    // Nothing to choose for a lone event; then 2 due (a, b), then 2 again (a, b-now).
    expect(asked).toEqual([
      [2, 5],
      [2, 5],
    ]);
  });

  it('refuses a choice beyond the events due', () => {
    const q = new EventQueue(100, null, () => 2);
    q.schedule(3, () => {});
    q.schedule(3, () => {});
    expect(() => q.pop()).toThrow(/picked event 2 of 2 due at 3 ms/);
  });
});
