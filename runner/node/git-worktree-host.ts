// The worktree port over git: `git worktree add/remove/list` in a real repository.
import { execFile } from 'node:child_process';
import { dirname, basename, join } from 'node:path';
import { promisify } from 'node:util';
import { HostError, type WorktreeHost } from '../ports.ts';

const run = promisify(execFile);

async function git(repo: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run('git', ['-C', repo, ...args], { timeout: 30_000, maxBuffer: 4 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    const message = (e.stderr ?? e.message).trim().split('\n')[0] ?? 'git failed';
    const code = /already exists/.test(message)
      ? 'EEXIST'
      : /locked/.test(message)
        ? 'ELOCKED'
        : /not a git repository/.test(message)
          ? 'ENOENT'
          : (e.code ?? 'EGIT');
    throw new HostError(code, `git ${args[0]} ${args[1] ?? ''}: ${message}`);
  }
}

/** Worktrees go beside the repository, in <repo>.worktrees/<name> (as in the virtual world). */
export function worktreePathFor(repo: string, name: string): string {
  return join(dirname(repo), `${basename(repo)}.worktrees`, name);
}

export class GitWorktreeHost implements WorktreeHost {
  async add(repo: string, name: string): Promise<string> {
    const path = worktreePathFor(repo, name);
    await git(repo, ['worktree', 'add', '--quiet', '-b', `runner/${name}`, path]);
    return path;
  }

  async remove(repo: string, worktreePath: string): Promise<void> {
    // Twice --force: also a locked worktree, or one with changes the agent left.
    await git(repo, ['worktree', 'remove', '--force', '--force', worktreePath]);
    await git(repo, ['worktree', 'prune']);
  }

  async list(repo: string): Promise<string[]> {
    const out = await git(repo, ['worktree', 'list', '--porcelain']);
    const paths = out
      .split('\n')
      .filter((l) => l.startsWith('worktree '))
      .map((l) => l.slice('worktree '.length));
    return paths.slice(1); // the first is the main working tree
  }
}
