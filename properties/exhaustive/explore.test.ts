// The bounded proof: it plays every scenario of the bound, finds a shortest counterexample, and
// merges two sequences only when their futures are the same.
import { describe, expect, it } from 'vitest';
import { referenceRunner } from '../../runner/reference.ts';
import { legacyRunner } from '../../fixtures/runners/legacy.ts';
import { noDedupeRunner } from '../../fixtures/runners/no-dedupe.ts';
import { restartForgetsChildrenRunner } from '../../fixtures/runners/restart-forgets-children.ts';
import { dedupeAfterStateWriteRunner } from '../../fixtures/runners/dedupe-after-state-write.ts';
import { revivedWhileDyingRunner } from '../../fixtures/runners/revived-while-dying.ts';
import { worktreeRetryInMemoryRunner } from '../../fixtures/runners/worktree-retry-in-memory.ts';
import { runScenario } from '../../simulator/run-scenario.ts';
import { parseScenario } from '../../simulator/scenario.ts';
import { playNode } from '../../simulator/virtual/explore-node.ts';
import {
  describeMove,
  EXPLORED_WORLDS,
  movesFrom,
  positionAfter,
  scenarioOf,
  type ExploredWorld,
  type Move,
} from './alphabet.ts';
import { exploreRunner, parsedScenarioOf, playMoves, upperBound, type PlayedNode } from './explore.ts';

const fingerprint = async (moves: Move[]) =>
  (await playNode(referenceRunner, parseScenario(scenarioOf(moves)))).fingerprint;

describe('check --exhaustive', () => {
  it('assembles each scenario from parts parsed once, equal to parsing it whole (every sequence of two moves)', () => {
    const alphabet = { sessions: 2, symmetry: true };
    const start = { spawns: 0, sessionsUsed: 0, shutDown: false, nextEventInMs: 1 };
    let compared = 0;
    for (const first of movesFrom(start, alphabet))
      for (const second of movesFrom({ ...positionAfter(start, first), nextEventInMs: 1 }, alphabet)) {
        const moves = [first, second];
        expect(parsedScenarioOf(moves)).toEqual(parseScenario(scenarioOf(moves)));
        compared++;
      }
    expect(compared).toBeGreaterThan(1_000);
  });

  it('plays every scenario of depth 1, and the reference holds on all of them', async () => {
    const report = await exploreRunner(referenceRunner, { depth: 1, sessions: 2 });
    expect(report.counterexample).toBeUndefined();
    expect(report.incomplete).toBeUndefined();
    // The start, then every move of the alphabet from it (no state reached twice at depth 1).
    expect(report.levels).toEqual([{ depth: 1, scenarios: upperBound(1, 2, true), newStates: upperBound(1, 2, true) }]);
    expect(report.scenarios).toBe(upperBound(1, 2, true) + 1);
  });

  it('finds a shortest counterexample of what a known-bad runner declares', async () => {
    const legacy = await exploreRunner(legacyRunner, { depth: 3, invariants: legacyRunner.declares });
    expect(legacy.counterexample?.moves).toEqual(['spawn new [after-timeout]']);
    expect(legacy.counterexample?.invariants).toEqual(expect.arrayContaining(['S1']));
    const dedupe = await exploreRunner(noDedupeRunner, { depth: 3, invariants: ['A3'] });
    expect(dedupe.counterexample?.moves).toHaveLength(2);
    expect(dedupe.levels.map((l) => l.depth)).toEqual([1, 2]); // stopped at the first depth that broke it
    const forgets = await exploreRunner(restartForgetsChildrenRunner, {
      depth: 3,
      invariants: restartForgetsChildrenRunner.declares,
    });
    expect(forgets.counterexample?.moves).toEqual(['spawn new [in-time]', 'restart (state kept)']);
  });

  it('plays in the world asked for, finds there what the plain world cannot show, and saves the world with the counterexample', async () => {
    // In the plain world a state write completes within its move: two resumes cannot race past it.
    const plain = await exploreRunner(dedupeAfterStateWriteRunner, { depth: 2, invariants: ['A3'] });
    expect(plain.world).toBe('plain');
    expect(plain.counterexample).toBeUndefined();
    const slow = await exploreRunner(dedupeAfterStateWriteRunner, { depth: 2, world: 'slow-io', invariants: ['A3'] });
    expect(slow.world).toBe('slow-io');
    expect(slow.counterexample?.moves).toEqual(['spawn resume s1 [in-time]', 'spawn resume s1 [in-time]']);
    // The scenario saved carries the world's latencies: replayed on its own, it breaks A3 again.
    const replayed = await runScenario(dedupeAfterStateWriteRunner, parseScenario(slow.counterexample!.scenario));
    expect(replayed.violated).toContain('A3');
    // grace-boots has a tenth agent class (three spawns more) and its anchor: a larger bound,
    // every scenario of it played.
    expect(upperBound(1, 2, true, 'grace-boots')).toBe(upperBound(1, 2, true) + 3 + 1);
    const grace = await exploreRunner(referenceRunner, { depth: 1, world: 'grace-boots' });
    expect(grace.counterexample).toBeUndefined();
    expect(grace.scenarios).toBe(upperBound(1, 2, true, 'grace-boots') + 1);
    await expect(exploreRunner(referenceRunner, { depth: 1, world: 'mars' as 'plain' })).rejects.toThrow(
      /unknown world "mars" \(known: plain, slow-io, git-faults, grace-boots\)/,
    );
  });

  it("reaches a fault world's window by advancing until the runner event that opens it", async () => {
    // The plain and slow-io alphabets have no anchors; git-faults and grace-boots one each.
    const start = { spawns: 1, sessionsUsed: 0, shutDown: false };
    const untils = (world: ExploredWorld) =>
      movesFrom(start, { sessions: 2, symmetry: true, anchors: EXPLORED_WORLDS[world].anchors })
        .filter((m) => m.step.op === 'until')
        .map(describeMove);
    expect(untils('plain')).toEqual([]);
    expect(untils('slow-io')).toEqual([]);
    expect(untils('git-faults')).toEqual(["advance until the runner's next git-failure"]);
    expect(untils('grace-boots')).toEqual(["advance until the runner's next webhook"]);
    // Each known-bad runner below needs a second fault inside its world's window; a subtree of
    // depth 3 under the first move (one shard per first move) holds the shortest counterexample.
    const under = (world: ExploredWorld, first: string) => {
      const moves = movesFrom(
        { spawns: 0, sessionsUsed: 0, shutDown: false, nextEventInMs: 1 },
        {
          sessions: 2,
          symmetry: true,
          classes: EXPLORED_WORLDS[world].classes,
          anchors: EXPLORED_WORLDS[world].anchors,
        },
      ).map(describeMove);
      expect(moves).toContain(first);
      return { index: moves.indexOf(first) + 1, count: upperBound(1, 2, true, world) };
    };
    const retry = await exploreRunner(worktreeRetryInMemoryRunner, {
      depth: 3,
      world: 'git-faults',
      shard: under('git-faults', 'spawn new (worktree) [after-timeout]'),
      invariants: worktreeRetryInMemoryRunner.declares,
    });
    expect(retry.counterexample?.moves).toEqual([
      'spawn new (worktree) [after-timeout]',
      "advance until the runner's next git-failure",
      'restart (state kept)',
    ]);
    expect(retry.counterexample?.invariants).toEqual(['S3']);
    const revived = await exploreRunner(revivedWhileDyingRunner, {
      depth: 3,
      world: 'grace-boots',
      shard: under('grace-boots', 'spawn new [boots-in-grace]'),
      invariants: revivedWhileDyingRunner.declares,
    });
    expect(revived.counterexample?.moves).toEqual([
      'spawn new [boots-in-grace]',
      "advance until the runner's next webhook",
      'list',
    ]);
    // The saved scenario replays on its own: the list lands in the window again.
    const replayed = await runScenario(revivedWhileDyingRunner, parseScenario(revived.counterexample!.scenario));
    expect(replayed.violated).toContain('S1');
    // The reference holds on the same subtree.
    const reference = await exploreRunner(referenceRunner, {
      depth: 3,
      world: 'git-faults',
      shard: under('git-faults', 'spawn new (worktree) [after-timeout]'),
    });
    expect(reference.counterexample).toBeUndefined();
    expect(reference.levels.map((l) => l.depth)).toEqual([1, 2, 3]);
  });

  it('gives the same report when batches are played elsewhere, in any order', async () => {
    // A stand-in for the worker threads: plays each batch back to front, returns it in order.
    const batches: number[] = [];
    const backwards =
      (runner: typeof referenceRunner) =>
      async (batch: readonly (readonly Move[])[], world: ExploredWorld): Promise<PlayedNode[]> => {
        batches.push(batch.length);
        const played: PlayedNode[] = [];
        for (const moves of [...batch].reverse()) played.unshift(await playMoves(runner, moves, world));
        return played;
      };
    for (const runner of [referenceRunner, legacyRunner]) {
      // Two levels of one shard, in batches of 16: many batches, a last one cut short.
      const options = {
        depth: 2,
        shard: { index: 2, count: 6 },
        ...(runner.declares.length > 0 ? { invariants: runner.declares } : {}),
      };
      const one = await exploreRunner(runner, options);
      const many = await exploreRunner(runner, { ...options, parallel: backwards(runner), batch: 16 });
      expect({ ...many, wallMs: 0 }).toEqual({ ...one, wallMs: 0 });
    }
    expect(batches.filter((n) => n === 16).length).toBeGreaterThan(10);
    expect(batches.some((n) => n < 16)).toBe(true);
  });

  it('merges two sequences only when what follows cannot differ', async () => {
    const [spawnInTime, spawnNever] = movesFrom(
      { spawns: 0, sessionsUsed: 0, shutDown: false },
      { sessions: 1, symmetry: true },
    ).filter((m) => m.step.op === 'spawn' && m.step.worktree === undefined && m.step.resume === undefined);
    expect([spawnInTime!.plan, spawnNever!.plan]).toEqual(['in-time', 'at-timeout']);
    // Two agents that differ only in what they will do later: not the same state.
    expect(await fingerprint([spawnInTime!])).not.toBe(await fingerprint([spawnNever!]));
    // A restart that keeps the store and one that loses it, after a spawn: not the same state.
    const restart = (state: 'kept' | 'lost'): Move => ({ step: { op: 'restart', state } });
    expect(await fingerprint([spawnInTime!, restart('kept')])).not.toBe(
      await fingerprint([spawnInTime!, restart('lost')]),
    );
    // Crashing a child that has already gone changes nothing: the same state.
    const crash: Move = { step: { op: 'crash', spawn: 0, tree: true } };
    expect(await fingerprint([spawnInTime!, crash, crash])).toBe(await fingerprint([spawnInTime!, crash]));
    // And the same moves give the same fingerprint (a run is a function of its moves).
    expect(await fingerprint([spawnInTime!, restart('kept')])).toBe(await fingerprint([spawnInTime!, restart('kept')]));
  });

  it('counts what each reduction saves, and shards cover the space between them', async () => {
    // Depth 4 under the last first move only (shutdown; one shard of 37, small): a state reached
    // twice at depth 3 is extended once with hashing, twice without.
    const lastMove = { index: upperBound(1, 2, true), count: upperBound(1, 2, true) };
    const merged = await exploreRunner(referenceRunner, { depth: 4, shard: lastMove });
    const unmerged = await exploreRunner(referenceRunner, { depth: 4, shard: lastMove, hashing: false });
    expect(merged.levels[2]!.newStates).toBeLessThan(merged.levels[2]!.scenarios);
    expect(unmerged.levels[2]!.scenarios).toBe(merged.levels[2]!.scenarios);
    expect(unmerged.levels[3]!.scenarios).toBeGreaterThan(merged.levels[3]!.scenarios);
    // Without symmetry, resuming s2 before s1 is explored too.
    const symmetric = await exploreRunner(referenceRunner, { depth: 1 });
    const asymmetric = await exploreRunner(referenceRunner, { depth: 1, symmetry: false });
    expect(asymmetric.scenarios - symmetric.scenarios).toBe(9); // resume s2, in each agent class
    const shards = await Promise.all(
      [1, 2, 3].map((index) => exploreRunner(referenceRunner, { depth: 1, shard: { index, count: 3 } })),
    );
    expect(shards.reduce((n, r) => n + r.levels[0]!.scenarios, 0)).toBe(upperBound(1, 2, true));
  });
});
