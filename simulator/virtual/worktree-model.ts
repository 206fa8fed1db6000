// A model of `git worktree add/remove/list` over an in-memory filesystem (memfs): a worktree is
// a directory plus git's registration under .git/worktrees/<name>; both must go for it to be gone.
import { HostError } from '../../runner/ports.ts';
import type { GitFault } from '../scenario.ts';
import { injectedRefusal, refusesCall } from './planned-fault.ts';

/**
 * git refused an add because the name or path is already taken: in the virtual world nothing but
 * the runner's own worktree adds take them, so the refusal is of the runner's making (a name it
 * reused), not git's or the OS's, and bears out no `worktree-failed` answer.
 */
export class WorktreePathTaken extends HostError {}
import { memfsWorktreeFs, type WorktreeFs, type WorktreeFsFactory } from './worktree-fs.ts';

export class WorktreeModel {
  private volume: WorktreeFs | undefined;
  private readonly calls = { add: 0, remove: 0 };
  /** Every worktree path ever made, for the oracle. */
  readonly created = new Set<string>();

  constructor(
    readonly repoPaths: readonly string[],
    private readonly faults: readonly GitFault[],
    private readonly makeFs: WorktreeFsFactory = memfsWorktreeFs,
    /** Virtual time: a fault with `forMs` lasts that long from its first refusal. */
    private readonly now: () => number = () => 0,
  ) {}

  /** When each lasting fault (by its index in `faults`) first refused a call. */
  private readonly lastingSince = new Map<number, number>();

  /** Set once the world is done: the filesystem went back to be reused. */
  private released = false;

  /** The filesystem, made on first use: most scenarios never touch a worktree. */
  get fs(): WorktreeFs {
    if (this.released) throw new Error('the worktree model was used after its world was released');
    if (this.volume === undefined) {
      this.volume = this.makeFs();
      for (const repo of this.repoPaths) {
        this.volume.mkdirSync(`${repo}/.git/worktrees`, { recursive: true });
        this.volume.mkdirSync(`${repo}.worktrees`, { recursive: true });
      }
    }
    return this.volume;
  }

  /** The world is done: its filesystem may go to the next world (memfs volumes are reused). */
  release(): void {
    this.released = true;
    this.volume?.release?.();
    this.volume = undefined;
  }

  directoryExists(path: string): boolean {
    return this.repoPaths.includes(path) || this.fs.existsSync(path);
  }

  /** Throws the fault the scenario planned for this call, if any. */
  private injectFault(op: 'add' | 'remove'): void {
    const call = ++this.calls[op];
    const fault = this.faults.find((f, i) => f.op === op && this.refuses(f, i, call));
    if (fault !== undefined) throw injectedRefusal(fault.code, `git worktree ${op}`, call);
  }

  /** Whether fault `f` (the `index`-th) refuses call number `call` of its op, now. */
  private refuses(f: GitFault, index: number, call: number): boolean {
    if (f.forMs === undefined) return refusesCall(f, call);
    if (call === f.nth) {
      // The nth call is refused whatever the span (even 0 ms): the lock is there when it comes.
      this.lastingSince.set(index, this.now());
      return true;
    }
    const since = this.lastingSince.get(index);
    return since !== undefined && this.now() < since + f.forMs;
  }

  add(repo: string, name: string): string {
    if (!this.repoPaths.includes(repo)) throw new HostError('ENOENT', `${repo} is not a git repository`);
    this.injectFault('add');
    const path = `${repo}.worktrees/${name}`;
    const registration = `${repo}/.git/worktrees/${name}`;
    // mkdir without `recursive` is the existence check, as it is for git: one call, not two.
    const claim = (dir: string, what: string): void => {
      try {
        this.fs.mkdirSync(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new WorktreePathTaken('EEXIST', what);
        throw error;
      }
    };
    claim(registration, `worktree '${name}' is already registered`);
    try {
      claim(path, `'${path}' already exists`);
    } catch (error) {
      this.fs.rmdirSync(registration); // git leaves nothing half-made either
      throw error;
    }
    this.fs.writeFileSync(`${path}/.git`, `gitdir: ${registration}\n`);
    this.fs.writeFileSync(`${registration}/gitdir`, `${path}/.git\n`);
    this.created.add(path);
    return path;
  }

  remove(repo: string, path: string): void {
    const name = this.registrationName(repo, path);
    if (name === undefined) throw new HostError('ENOENT', `'${path}' is not a working tree of ${repo}`);
    this.injectFault('remove');
    this.fs.rmSync(path, { recursive: true, force: true });
    this.fs.rmSync(`${repo}/.git/worktrees/${name}`, { recursive: true, force: true });
  }

  list(repo: string): string[] {
    const dir = `${repo}/.git/worktrees`;
    if (!this.fs.existsSync(dir)) throw new HostError('ENOENT', `${repo} is not a git repository`);
    return (this.fs.readdirSync(dir) as string[]).map((name) =>
      String(this.fs.readFileSync(`${dir}/${name}/gitdir`, 'utf8'))
        .trim()
        .replace(/\/\.git$/, ''),
    );
  }

  private registrationName(repo: string, path: string): string | undefined {
    const dir = `${repo}/.git/worktrees`;
    if (!this.fs.existsSync(dir)) return undefined;
    for (const name of this.fs.readdirSync(dir) as string[]) {
      const gitdir = String(this.fs.readFileSync(`${dir}/${name}/gitdir`, 'utf8')).trim();
      if (gitdir === `${path}/.git`) return name;
    }
    return undefined;
  }

  /** Worktrees that still exist in any part: directory or registration. */
  existing(): string[] {
    if (this.created.size === 0) return [];
    const registered = new Set(this.repoPaths.flatMap((repo) => this.list(repo)));
    return [...this.created].filter((path) => registered.has(path) || this.fs.existsSync(path));
  }
}
