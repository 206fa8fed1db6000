// After a restart: children of an earlier life that the state file does not name (it was lost
// or corrupt, or the runner died between a spawn and its write) are found by the owner marker
// and killed. None of them can be adopted (nothing says which session they serve), and none may
// live on unlisted. Their worktrees cannot be found without the state file: that is the one
// thing a lost state file still leaks.
import type { RunnerConfig } from '../config.ts';
import type { ProcessInfo, RunnerPorts } from '../ports.ts';
import { BOOT_ENV, killMembers, OWNER_ENV, SPAWN_MARKER_ENV } from './kill-tree.ts';

/**
 * Kills the earlier life's unknown children. Resolves to those that survived SIGKILL (D state):
 * while any lives, a resume could start a second agent of the same conversation, and a worktree
 * of the earlier life may still be in use.
 */
export async function sweepOrphans(
  ports: RunnerPorts,
  config: RunnerConfig,
  bootStamp: string,
  adoptedMarkers: readonly string[],
  stateWasLost: boolean,
): Promise<readonly ProcessInfo[]> {
  const { processes } = ports;
  const ownerId = config.ownerId;
  if (ownerId === undefined) {
    if (stateWasLost)
      ports.logger.log(
        'error',
        'state file lost and no ownerId configured: children of the earlier life cannot be found',
      );
    return [];
  }
  const orphans = async (): Promise<ProcessInfo[]> => {
    const owned = await processes.findByEnv(OWNER_ENV, ownerId);
    if (owned.length === 0) return [];
    const keep = new Set<string>();
    // This life's children (spawned since, even mid-spawn) and the adopted ones are not orphans.
    for (const p of await processes.findByEnv(BOOT_ENV, bootStamp)) keep.add(`${p.pid}:${p.generation}`);
    for (const marker of adoptedMarkers)
      for (const p of await processes.findByEnv(SPAWN_MARKER_ENV, marker)) keep.add(`${p.pid}:${p.generation}`);
    return owned.filter((p) => !keep.has(`${p.pid}:${p.generation}`));
  };
  const found = await orphans();
  if (found.length === 0) return [];
  ports.logger.log(
    stateWasLost ? 'error' : 'warn',
    'killing children of an earlier life that the state file does not know',
    { count: found.length },
  );
  const outcome = await killMembers(processes, ports.clock, orphans, config);
  if (outcome.survivors.length > 0)
    ports.logger.log('error', 'orphans survived SIGKILL', { count: outcome.survivors.length });
  return outcome.survivors;
}
