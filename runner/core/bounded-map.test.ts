// The bound on every table a peer can grow: what the property suite cannot see (a runner that
// remembers more is only more generous), so it is checked here (bench/mutation/gap-notes.json).
import { describe, expect, it } from 'vitest';
import { BoundedMap } from './bounded-map.ts';

describe('BoundedMap', () => {
  it('forgets its oldest entries beyond its capacity, a re-set entry counting as new', () => {
    const map = new BoundedMap<string, number>(2);
    map.set('a', 1);
    map.set('b', 2);
    map.set('a', 3); // now newer than b
    map.set('c', 4);
    expect([...map.keys()]).toEqual(['a', 'c']);
    expect(map.size).toBe(2);
    expect(map.has('b')).toBe(false);
    expect(map.get('a')).toBe(3);
    for (let i = 0; i < 1_000; i++) map.set(`k${i}`, i);
    expect(map.size).toBe(2);
    expect([...map.values()]).toEqual([998, 999]);
    expect(map.delete('k999')).toBe(true);
    expect(map.delete('k999')).toBe(false);
  });

  it('refuses a capacity that is not a positive whole number', () => {
    for (const capacity of [0, -1, 1.5, Number.NaN])
      expect(() => new BoundedMap(capacity)).toThrow(/capacity must be >= 1/);
  });
});
