// Makes and removes session worktrees so that none is ever left behind.
//
// A worktree is "intended" from just before `git worktree add` until a child owns it, and again
// from a failed removal until a later one succeeds. The intents are persisted with the runner's
// state: a runner that crashed mid-add, or gave up on a removal, finds them on its next start
// and finishes the job. Removal is retried with backoff, since git fails transiently (a locked
// index, a busy directory).
import { sleep, type Clock, type Logger, type WorktreeHost } from '../ports.ts';

export interface Worktree {
  readonly repo: string;
  readonly name: string;
  /** The spawn marker of the child meant to run in it: after a crash, its tree must be gone first. */
  readonly owner?: string | undefined;
  /** Known once git made it, or once it is found again after a restart. */
  path?: string | undefined;
}

const REMOVE_ATTEMPTS = 8;
const MAX_BACKOFF_MS = 60_000;
/** How many times (a second apart) a restarted runner looks for a worktree its previous life was making. */
const INTENT_LOOKS = 5;

export class WorktreeJanitor {
  private readonly intents = new Set<Worktree>();
  /** Recoveries of an earlier life's worktrees, and removals, still under way. */
  private readonly recovering = new Set<Promise<unknown>>();

  constructor(
    private readonly worktrees: WorktreeHost,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Called whenever the intents change, to persist them; settles once the write has landed. */
    private readonly changed: () => Promise<void>,
  ) {}

  /** What to persist. */
  pending(): Worktree[] {
    return [...this.intents].map((w) => ({ ...w }));
  }

  /**
   * `git worktree add`, with the intent recorded first, and on disk before git starts: a crash
   * while git works must find the intent on the next start. Rejects as git does.
   */
  async add(repo: string, name: string, owner?: string): Promise<Worktree> {
    const worktree: Worktree = { repo, name, ...(owner !== undefined ? { owner } : {}) };
    this.intents.add(worktree);
    await this.changed();
    try {
      worktree.path = await this.worktrees.add(repo, name);
      return worktree;
    } catch (error) {
      this.intents.delete(worktree);
      void this.changed();
      throw error;
    }
  }

  /**
   * A child now owns the worktree: it is the child's record that keeps it from now on. The
   * caller records the child first and persists both changes in one write.
   */
  handOver(worktree: Worktree): void {
    this.intents.delete(worktree);
  }

  /** Removes a worktree; if git keeps failing, it stays intended for the next start. */
  release(worktree: Worktree): Promise<boolean> {
    this.intents.add(worktree);
    const release = (async () => {
      const removed = await this.removeWithRetries(worktree);
      if (removed) this.intents.delete(worktree);
      void this.changed();
      return removed;
    })();
    const tracked = release.finally(() => this.recovering.delete(tracked));
    this.recovering.add(tracked);
    return release;
  }

  /**
   * On start: the previous life's intents. Each is looked for a while, then removed, but only
   * once `safe` says no process of the earlier life can still run in it (the orphan sweep killed
   * its owner's tree); if it says otherwise, the intent stays persisted for a later start.
   */
  recover(intents: readonly Worktree[], safe: (worktree: Worktree) => Promise<boolean>): void {
    for (const intent of intents) {
      const worktree = { ...intent };
      this.intents.add(worktree);
      const recovery = safe(worktree)
        .then((ok) => {
          if (ok) return this.recoverOne(worktree);
          this.logger.log('error', 'worktree kept: processes of the earlier life may still run in it', {
            name: worktree.name,
          });
          return undefined;
        })
        .finally(() => this.recovering.delete(recovery));
      this.recovering.add(recovery);
    }
  }

  /** Settles once every recovery and removal under way has finished (removed, or given up on). */
  async settled(): Promise<void> {
    while (this.recovering.size > 0) await Promise.all([...this.recovering]);
  }

  private async recoverOne(worktree: Worktree): Promise<void> {
    for (let look = 1; look <= INTENT_LOOKS; look++) {
      try {
        worktree.path ??= await this.find(worktree);
        if (worktree.path !== undefined) {
          await this.release(worktree);
          return;
        }
      } catch (error) {
        this.logger.log('warn', 'git worktree list failed', { name: worktree.name, error: describeError(error) });
      }
      await sleep(this.clock, 1_000);
    }
    // Never made: the previous life's git did not get that far.
    this.intents.delete(worktree);
    void this.changed();
  }

  private async removeWithRetries(worktree: Worktree): Promise<boolean> {
    for (let attempt = 1; attempt <= REMOVE_ATTEMPTS; attempt++) {
      try {
        const path = worktree.path ?? (await this.find(worktree));
        if (path !== undefined) await this.worktrees.remove(worktree.repo, path);
        return true;
      } catch (error) {
        this.logger.log('warn', 'git worktree remove failed', {
          name: worktree.name,
          attempt,
          error: describeError(error),
        });
        if (attempt < REMOVE_ATTEMPTS) await sleep(this.clock, Math.min(1_000 * 2 ** (attempt - 1), MAX_BACKOFF_MS));
      }
    }
    this.logger.log('error', 'worktree left behind after retries; the next start retries it', { name: worktree.name });
    return false;
  }

  private async find(worktree: Worktree): Promise<string | undefined> {
    const paths = await this.worktrees.list(worktree.repo);
    return paths.find((p) => p === worktree.name || p.endsWith(`/${worktree.name}`));
  }
}

export function describeError(error: unknown): string {
  if (error instanceof Error)
    return 'code' in error && typeof error.code === 'string' ? `${error.code}: ${error.message}` : error.message;
  return String(error);
}
