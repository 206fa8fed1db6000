// A look by PID that /proc may refuse: the two helpers a runner on these ports uses (exported
// from runner-chaos/runner), each answer told apart from the other two.
import { describe, expect, it } from 'vitest';
import { generationNow, HostError, sameProcess, type ProcessHost } from '../index.ts';

/** A host that knows one process (pid 7, generation g1) and refuses every look at pid 9. */
const host = {
  generationOf: (pid: number) => {
    if (pid === 9) throw new HostError('EMFILE', 'read /proc/9/stat: Too many open files');
    return pid === 7 ? 'g1' : null;
  },
} as unknown as ProcessHost;

describe('a look by PID', () => {
  it('answers the generation, null for a free PID, and undefined when /proc refused the read', () => {
    expect(generationNow(host, 7)).toBe('g1');
    expect(generationNow(host, 8)).toBeNull();
    expect(generationNow(host, 9)).toBeUndefined();
  });

  it('tells the same process (true), another or none (false) and an unread one (undefined) apart', () => {
    expect(sameProcess(host, { pid: 7, generation: 'g1' })).toBe(true);
    expect(sameProcess(host, { pid: 7, generation: 'g0' })).toBe(false); // the PID came round
    expect(sameProcess(host, { pid: 8, generation: 'g1' })).toBe(false); // gone
    expect(sameProcess(host, { pid: 9, generation: 'g1' })).toBeUndefined(); // neither
  });
});
