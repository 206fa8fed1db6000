// What the reference runner writes to its state store so that a restarted runner still knows
// every child of its previous life (upstream's #1308 persisted only resume spawns; we keep all).
import { z } from 'zod';

const WorktreeSchema = z.strictObject({
  repo: z.string(),
  name: z.string(),
  owner: z.string().optional(),
  path: z.string().optional(),
});

export const PersistedChildSchema = z.strictObject({
  pid: z.number().int().positive(),
  generation: z.string(),
  marker: z.string(),
  token: z.string().optional(),
  phase: z.enum(['booting', 'session', 'dying']),
  sessionId: z.string().optional(),
  resumeKey: z.string().optional(),
  worktree: WorktreeSchema.optional(),
});
export type PersistedChild = z.infer<typeof PersistedChildSchema>;

export const PersistedStateSchema = z.strictObject({
  version: z.literal(1),
  /** How many times a runner has started on this store: part of every spawn marker. */
  boots: z.number().int().nonnegative(),
  children: z.array(PersistedChildSchema).max(100_000),
  /** Worktrees being made when the runner last wrote: removed on restart if no child has them. */
  worktreeIntents: z.array(WorktreeSchema).max(100_000),
  /**
   * Spawn markers written before the spawn and dropped once the child's record is written: a
   * crash in between leaves a child this file names by marker only, found and killed on restart
   * even without an owner id.
   */
  spawnIntents: z.array(z.string()).max(100_000).default([]),
});
export type PersistedState = z.infer<typeof PersistedStateSchema>;

export const EMPTY_STATE: PersistedState = {
  version: 1,
  boots: 0,
  children: [],
  worktreeIntents: [],
  spawnIntents: [],
};

/** Parses the store's contents; a missing store is a first start, a corrupt one is an error. */
export function parsePersistedState(contents: string | null): { state: PersistedState; problem?: string } {
  if (contents === null) return { state: EMPTY_STATE };
  let json: unknown;
  try {
    json = JSON.parse(contents);
  } catch (error) {
    return { state: EMPTY_STATE, problem: `state file is not JSON: ${(error as Error).message}` };
  }
  const parsed = PersistedStateSchema.safeParse(json);
  if (!parsed.success)
    return { state: EMPTY_STATE, problem: `state file is invalid: ${z.prettifyError(parsed.error)}` };
  return { state: parsed.data };
}
