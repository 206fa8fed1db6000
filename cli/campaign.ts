// A long campaign split up: `--shard i/n` gives each CI job its own deterministic part of the
// seed space, `--minutes M` keeps going seed after seed until a time budget is spent, and
// `merge` joins the reports the parts wrote into one verdict. Pure: the I/O is in check.ts.
import type { InvariantId } from '../runner/contract.ts';
import { verdictOf, type CheckReport, type InvariantOutcome } from '../properties/check.ts';
import { UsageError } from './usage-error.ts';

export interface Shard {
  /** 1-based, as CI matrices count. */
  readonly index: number;
  readonly count: number;
}

/** "2/4" → the second of four shards. */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (match === null || !(count >= 1 && count <= 10_000 && index >= 1 && index <= count))
    throw new UsageError(`--shard "${text}" is not i/n with 1 <= i <= n <= 10000 (e.g. --shard 2/4)`);
  return { index, count };
}

/**
 * The fast-check seed of shard i: a fixed mix of the campaign's seed and the shard's index, so
 * that every job of a matrix run with the same --seed plays its own scenarios, and a rerun of a
 * job plays the same ones.
 */
export function shardSeed(seed: number, shard: Shard): number {
  if (shard.count === 1) return seed;
  let x = (seed ^ Math.imul(shard.index, 0x9e3779b1)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) | 0;
}

/** The runs shard i plays so that the n shards play `runs` between them. */
export function shardRuns(runs: number, shard: Shard): number {
  const base = Math.floor(runs / shard.count);
  return base + (shard.index <= runs % shard.count ? 1 : 0);
}

/** What a shard's file names carry, so that shards may share one artifacts directory. */
export function shardSuffix(shard: Shard | undefined): string {
  return shard === undefined || shard.count === 1 ? '' : `-shard-${shard.index}-of-${shard.count}`;
}

/**
 * One report from the reports of a campaign's parts (shards, or the rounds of --minutes), in
 * their order: an invariant held only if it held in every part; its counterexample is the first
 * part's that broke it; scenarios add up; the wall time is the longest part's (they ran side by
 * side) unless `sequential`.
 */
export function mergeReports(reports: readonly CheckReport[], sequential = false): CheckReport {
  const first = reports[0];
  if (first === undefined) throw new UsageError('nothing to merge: no runner-chaos report was given');
  const other = reports.find((r) => r.runner !== first.runner);
  if (other !== undefined)
    throw new UsageError(
      `the reports are of different runners (${first.runner}, ${other.runner}): merge one runner's at a time`,
    );
  const order: InvariantId[] = [];
  for (const r of reports) for (const o of r.outcomes) if (!order.includes(o.invariant)) order.push(o.invariant);
  const outcomes: InvariantOutcome[] = order.map((invariant) => {
    const parts = reports.flatMap((r) => r.outcomes.filter((o) => o.invariant === invariant));
    const broke = parts.find((o) => !o.held && o.error === undefined);
    const error = parts.find((o) => o.error !== undefined)?.error;
    const runs = parts.reduce((sum, o) => sum + o.runs, 0);
    const wallMs = sequential ? parts.reduce((sum, o) => sum + o.wallMs, 0) : Math.max(...parts.map((o) => o.wallMs));
    return {
      invariant,
      held: broke === undefined && error === undefined,
      runs,
      wallMs,
      ...(broke?.msToFirstFailure !== undefined ? { msToFirstFailure: broke.msToFirstFailure } : {}),
      ...(broke?.counterexample !== undefined ? { counterexample: broke.counterexample } : {}),
      ...(error !== undefined ? { error } : {}),
    };
  });
  return {
    runner: first.runner,
    declared: first.declared,
    outcomes,
    ...verdictOf(first.declared, outcomes),
    scenariosRun: reports.reduce((sum, r) => sum + r.scenariosRun, 0),
    wallMs: sequential ? reports.reduce((sum, r) => sum + r.wallMs, 0) : Math.max(...reports.map((r) => r.wallMs)),
  };
}
