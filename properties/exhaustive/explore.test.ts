// The bounded proof: it plays every scenario of the bound, finds a shortest counterexample, and
// merges two sequences only when their futures are the same.
import { describe, expect, it } from 'vitest';
import type { RunnerDefinition } from '../../runner/contract.ts';
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
  alphabetOf,
  describeMove,
  EXPLORED_WORLDS,
  movesFrom,
  positionAfter,
  scenarioOf,
  type ExploredWorld,
  type Move,
} from './alphabet.ts';
import {
  exploreRunner,
  parsedScenarioOf,
  playMoves,
  playInOrder,
  playOrders,
  upperBound,
  type ExploreJob,
  type PlayedJob,
  type PlaySettings,
} from './explore.ts';

/**
 * A runner broken only when two of its children report in the same millisecond in the order
 * they were not spawned in: it takes a child's webhook that comes after a later-spawned child's,
 * in the same millisecond, for a stale replay and drops it.
 */
const strictOrderRunner: RunnerDefinition = {
  name: 'webhooks-in-spawn-order',
  description: "drops a child's webhook that arrives in the same millisecond as a later-spawned child's",
  declares: ['L3'],
  async create(ports, config) {
    const spawned: number[] = [];
    const processes = {
      ...ports.processes,
      async spawnDetached(spec: Parameters<typeof ports.processes.spawnDetached>[0]) {
        const child = await ports.processes.spawnDetached(spec);
        spawned.push(child.pid);
        return child;
      },
    };
    const inner = await referenceRunner.create({ ...ports, processes }, config);
    let last: { at: number; index: number } | undefined;
    return {
      spawnSession: (request) => inner.spawnSession(request),
      stopSession: (id) => inner.stopSession(id),
      listSessions: () => inner.listSessions(),
      shutdown: () => inner.shutdown(),
      async sessionStarted(body) {
        const index = spawned.indexOf((body as { metadata?: { hostPid?: number } }).metadata?.hostPid ?? -1);
        if (index >= 0) {
          const at = ports.clock.now();
          const stale = last !== undefined && last.at === at && index < last.index;
          last = { at, index };
          if (stale) return;
        }
        return inner.sessionStarted(body);
      },
    };
  },
};

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
      /unknown world "mars" \(known: plain, slow-io, git-faults, proc-unread, grace-boots\)/,
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
        alphabetOf(world, 2, true),
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

  it('plays each sequence in the other orders of its same-instant events, as many as ties allows', async () => {
    const spawnTwice: Move[] = [
      { step: { op: 'spawn' }, plan: 'in-time' },
      { step: { op: 'spawn' }, plan: 'in-time' },
    ];
    const settings = (ties: number): PlaySettings => ({ world: 'plain', ties, maxOrders: 10_000 });
    // In scheduling order, the two boots (and what follows them) meet at some instants.
    const { tieSizes } = await playMoves(referenceRunner, spawnTwice, 'plain', []);
    expect(tieSizes.length).toBeGreaterThan(0);
    expect((await playOrders(referenceRunner, { moves: spawnTwice }, settings(0))).orders).toHaveLength(1);
    // One event out of order: each other choice at each of those instants, once.
    const one = await playOrders(referenceRunner, { moves: spawnTwice }, settings(1));
    expect(one.orders).toHaveLength(1 + tieSizes.reduce((n, k) => n + k - 1, 0));
    expect(new Set(one.orders.map((o) => o.tieOrder.join())).size).toBe(one.orders.length);
    expect(one.orders.every((o) => o.tieOrder.filter((c) => c !== 0).length <= 1)).toBe(true);
    const two = await playOrders(referenceRunner, { moves: spawnTwice }, settings(2));
    expect(two.orders.length).toBeGreaterThan(one.orders.length);
    expect(new Set(two.orders.map((o) => o.tieOrder.join())).size).toBe(two.orders.length);
    // Past its budget of orders, a sequence is cut and says so.
    const cut = await playOrders(referenceRunner, { moves: spawnTwice }, { ...settings(2), maxOrders: 3 });
    expect(cut.orders).toHaveLength(3);
    expect(cut.cut).toMatch(/more than 3 orders of same-instant events within --ties 2/);

    // A bug that only another order shows: not found in scheduling order, found with one tie swapped.
    const inOrder = await exploreRunner(strictOrderRunner, { depth: 2, invariants: ['L3'] });
    expect(inOrder.counterexample).toBeUndefined();
    const swapped = await exploreRunner(strictOrderRunner, { depth: 2, ties: 1, invariants: ['L3'] });
    expect(swapped.ties).toBe(1);
    expect(swapped.counterexample?.moves).toEqual(['spawn new [in-time]', 'spawn new [in-time]']);
    const tieOrder = swapped.counterexample!.tieOrder!;
    expect(tieOrder.filter((c) => c !== 0)).toHaveLength(1);
    expect(swapped.counterexample!.scenario.world?.tieOrder).toEqual(tieOrder);
    // The saved scenario replays the order; the same scenario in scheduling order holds.
    const scenario = swapped.counterexample!.scenario;
    expect((await runScenario(strictOrderRunner, parseScenario(scenario))).violated).toContain('L3');
    const { tieOrder: _, ...scheduled } = scenario.world!;
    expect((await runScenario(strictOrderRunner, parseScenario({ ...scenario, world: scheduled }))).violated).toEqual(
      [],
    );
    // A tieOrder that does not fit the run is an error naming it, not a guess.
    await expect(
      runScenario(referenceRunner, parseScenario({ ...scenario, world: { ...scenario.world, tieOrder: [7] } })),
    ).rejects.toThrow(/world\.tieOrder\[0\] is 7, but only 2 events were due together at \d+ ms/);
    // The reference holds in every order of every scenario of one move.
    const every = await exploreRunner(referenceRunner, { depth: 1, ties: Infinity });
    expect(every.counterexample).toBeUndefined();
    expect(every.incomplete).toBeUndefined();
    expect(every.scenarios).toBeGreaterThan(upperBound(1, 2, true) + 1);
  });

  it('gives the same report when batches are played elsewhere, in any order', async () => {
    // A stand-in for the worker threads: plays each batch back to front, returns it in order.
    const batches: number[] = [];
    const backwards =
      (runner: typeof referenceRunner) =>
      async (batch: readonly ExploreJob[], settings: PlaySettings): Promise<PlayedJob[]> => {
        batches.push(batch.length);
        const played: PlayedJob[] = [];
        for (const job of [...batch].reverse()) played.unshift(await playOrders(runner, job, settings));
        return played;
      };
    for (const [runner, ties] of [
      [referenceRunner, 0],
      [legacyRunner, 0],
      [referenceRunner, 1],
    ] as const) {
      // Two levels of one shard, in batches of 16: many batches, a last one cut short.
      const options = {
        depth: 2,
        ties,
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

  it('gives the same report with several batches in flight, however late the first comes back', async () => {
    // A stand-in for threads that finish out of order: the k-th batch handed out waits longer
    // the earlier it is in a group of four (microtask turns, not time: the run stays virtual),
    // so later batches come back first. The exploration must consume them in order all the same.
    let handedOut = 0;
    const finished: number[] = [];
    const late =
      (runner: typeof referenceRunner) =>
      async (batch: readonly ExploreJob[], settings: PlaySettings): Promise<PlayedJob[]> => {
        const k = handedOut++;
        const played = await playInOrder(runner, batch, settings);
        for (let turn = 0; turn < (4 - (k % 4)) * 5_000; turn++) await Promise.resolve();
        finished.push(k);
        return played;
      };
    const progress: number[] = [];
    for (const runner of [referenceRunner, legacyRunner]) {
      const options = {
        depth: 2,
        shard: { index: 1, count: 6 },
        ...(runner.declares.length > 0 ? { invariants: runner.declares } : {}),
      };
      const one = await exploreRunner(runner, options);
      const many = await exploreRunner(runner, {
        ...options,
        parallel: late(runner),
        batch: 8,
        inFlight: 4,
        onProgress: (p) => progress.push(p.scenarios),
      });
      expect({ ...many, wallMs: 0 }).toEqual({ ...one, wallMs: 0 });
    }
    // Out of order indeed, and progress counted in order all the same.
    expect(finished.some((k, i) => i > 0 && k < finished[i - 1]!)).toBe(true);
    expect(progress.length).toBeGreaterThan(4);
    await expect(
      exploreRunner(referenceRunner, { depth: 1, parallel: late(referenceRunner), inFlight: 0 }),
    ).rejects.toThrow(/inFlight must be a whole number of at least 1/);
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
    // Each shard's bound is its own subtrees, exactly: they add up to the whole, and they differ
    // (the shard holding the shutdown is smaller than one of spawns), so none is the whole over n.
    const shardBounds = [1, 2, 3].map((index) => upperBound(3, 2, true, 'plain', { index, count: 3 }));
    expect(shardBounds.reduce((n, b) => n + b, 0)).toBe(upperBound(3, 2, true));
    expect(new Set(shardBounds).size).toBeGreaterThan(1);
    // The shutdown's subtree at depth 4 (what `merged` played) is within its bound.
    expect(merged.scenarios - 1).toBeLessThanOrEqual(upperBound(4, 2, true, 'plain', lastMove));
    expect(upperBound(4, 2, true, 'plain', lastMove)).toBeLessThan(upperBound(4, 2, true) / upperBound(1, 2, true));
  });
});
