// The worktree model's filesystem as a plain Map from path to directory or file contents: the
// yardstick memfs is measured against (bench/properties.bench.ts), with node:fs's errors for the
// cases the worktree model meets (EEXIST, ENOENT, ENOTEMPTY).
import type { WorktreeFs, WorktreeFsFactory } from './worktree-fs.ts';

const DIR = Symbol('directory');
type Entry = typeof DIR | string;

function fsError(code: string, call: string, path: string): Error {
  return Object.assign(new Error(`${code}: ${call} '${path}'`), { code });
}

function parentOf(path: string): string {
  const cut = path.lastIndexOf('/');
  return cut <= 0 ? '/' : path.slice(0, cut);
}

class MapFs implements WorktreeFs {
  private readonly entries = new Map<string, Entry>([['/', DIR]]);

  private isDir(path: string): boolean {
    return this.entries.get(path) === DIR;
  }

  /** Direct children's names of `dir` (a scan: these trees hold a handful of entries). */
  private children(dir: string): string[] {
    const prefix = dir === '/' ? '/' : `${dir}/`;
    const names: string[] = [];
    for (const path of this.entries.keys())
      if (path !== '/' && path.startsWith(prefix) && !path.includes('/', prefix.length))
        names.push(path.slice(prefix.length));
    return names;
  }

  mkdirSync(path: string, options?: { recursive?: boolean }): undefined {
    if (options?.recursive === true) {
      const parts = path.split('/').filter(Boolean);
      for (let i = 1; i <= parts.length; i++) {
        const at = `/${parts.slice(0, i).join('/')}`;
        const entry = this.entries.get(at);
        if (entry === undefined) this.entries.set(at, DIR);
        else if (entry !== DIR) throw fsError('ENOTDIR', 'mkdir', at);
      }
      return undefined;
    }
    if (this.entries.has(path)) throw fsError('EEXIST', 'mkdir', path);
    if (!this.isDir(parentOf(path))) throw fsError('ENOENT', 'mkdir', path);
    this.entries.set(path, DIR);
    return undefined;
  }

  rmdirSync(path: string): void {
    if (!this.isDir(path)) throw fsError('ENOENT', 'rmdir', path);
    if (this.children(path).length > 0) throw fsError('ENOTEMPTY', 'rmdir', path);
    this.entries.delete(path);
  }

  rmSync(path: string): void {
    // Always { recursive: true, force: true } here: whatever is there goes, and nothing is no error.
    for (const key of [...this.entries.keys()])
      if (key === path || key.startsWith(`${path}/`)) this.entries.delete(key);
  }

  writeFileSync(path: string, data: string): void {
    if (!this.isDir(parentOf(path))) throw fsError('ENOENT', 'open', path);
    if (this.isDir(path)) throw fsError('EISDIR', 'open', path);
    this.entries.set(path, data);
  }

  readFileSync(path: string): string {
    const entry = this.entries.get(path);
    if (entry === undefined) throw fsError('ENOENT', 'open', path);
    if (entry === DIR) throw fsError('EISDIR', 'read', path);
    return entry;
  }

  readdirSync(path: string): string[] {
    if (!this.isDir(path)) throw fsError('ENOENT', 'scandir', path);
    return this.children(path).sort();
  }

  existsSync(path: string): boolean {
    return this.entries.has(path);
  }
}

/** A fresh Map-backed filesystem for one world. */
export const mapWorktreeFs: WorktreeFsFactory = () => new MapFs();
