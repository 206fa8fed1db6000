// The bounded proof from the vitest entry: it holds for the reference, finds a known-bad
// runner's declared bug, fails with a shortest counterexample for a bug nobody declared, and
// refuses a bound it could not finish.
import { describe, expect, it } from 'vitest';
import { referenceRunner } from '../runner/reference.ts';
import { legacyRunner } from '../fixtures/runners/legacy.ts';
import { proveRunner, runnerProof } from './vitest.ts';

runnerProof(referenceRunner, { depth: 1 });
runnerProof(legacyRunner, { depth: 1 });

describe('proveRunner', () => {
  it('rejects with the shortest counterexample when a runner breaks what it did not declare', async () => {
    const undeclared = { ...legacyRunner, name: 'undeclared', declares: [] };
    await expect(proveRunner(undeclared, { depth: 1 })).rejects.toThrow(
      /undeclared breaks S\d.* in a scenario of 1 move\(s\)[^]*1\. spawn new[^]*VIOLATION S\d[^]*scenario \(replay it/,
    );
  });

  it('rejects a runner that declares a bug the bound does not reach', async () => {
    const claims = { ...referenceRunner, name: 'claims-a-bug', declares: ['A3' as const] };
    await expect(proveRunner(claims, { depth: 1 })).rejects.toThrow(/declares it breaks A3, but none of \d+ scenarios/);
  });

  it('refuses, with an estimate, a bound past maxScenarios', async () => {
    await expect(proveRunner(referenceRunner, { depth: 4 })).rejects.toThrow(
      /depth 4 with 2 session\(s\) holds up to 4,009,217 scenarios .* lower the depth, or raise maxScenarios/,
    );
    // Orders of same-instant events count too: depth 2 (1,643 sequences) fits, not forty orders of each.
    await expect(proveRunner(referenceRunner, { depth: 2, ties: 2 })).rejects.toThrow(
      /depth 2 with 2 session\(s\) and ties 2 holds up to 65,720 scenarios/,
    );
  });
});
