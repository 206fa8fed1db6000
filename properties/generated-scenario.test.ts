// The generated scenarios skip zod (generated-scenario.ts): this is what makes that safe. Over
// thousands of scenarios, with the fault kinds drawn and with each pinned on, completing a
// generated scenario gives exactly what a full parse gives (a parse that refused one would throw
// here), and playing it never writes into what the generator built.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { scenarioArb } from './arbitraries.ts';
import { FAULT_KINDS } from './fault-kinds.ts';
import { completeGenerated } from './generated-scenario.ts';
import { parseScenario, type ScenarioInput } from '../simulator/scenario.ts';
import { runScenario } from '../simulator/run-scenario.ts';
import { referenceRunner } from '../runner/reference.ts';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

describe('completeGenerated', () => {
  it('gives what parseScenario gives, with the fault kinds drawn', () => {
    fc.assert(
      fc.property(scenarioArb(), (input) => {
        expect(completeGenerated(input)).toStrictEqual(parseScenario(input));
      }),
      { numRuns: 3_000, seed: 28 },
    );
  });

  it.each([...FAULT_KINDS])('gives what parseScenario gives, with %s pinned on', (kind) => {
    fc.assert(
      fc.property(scenarioArb({ faults: { [kind]: true } }), (input) => {
        expect(completeGenerated(input)).toStrictEqual(parseScenario(input));
      }),
      { numRuns: 200, seed: 28 },
    );
  });

  it('fills in what a parse fills in, read from the schema', () => {
    const input: ScenarioInput = {
      steps: [{ op: 'spawn' }, { op: 'crash', spawn: 0 }, { op: 'until', event: 'timeout' }],
      world: { gitFaults: [{ op: 'remove', code: 'EBUSY' }], latency: { scan: 3 } },
    };
    const completed = completeGenerated(input);
    expect(completed).toStrictEqual(parseScenario(input));
    expect(completed.steps[1]).toMatchObject({ tree: false });
    expect(completed.world.gitFaults[0]).toMatchObject({ nth: 1, times: 1 });
    expect(completed.world.latency).toMatchObject({ scan: 3, sigkillDeath: 1 });
  });

  it('is played without writing into what the generator built', async () => {
    const inputs = fc.sample(scenarioArb(), { numRuns: 200, seed: 28 });
    for (const input of inputs) await runScenario(referenceRunner, completeGenerated(deepFreeze(input)));
  });
});
