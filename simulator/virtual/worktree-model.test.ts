import { describe, expect, it } from 'vitest';
import { WorktreeModel } from './worktree-model.ts';
import { GitFaultSchema } from '../scenario.ts';
import { memfsWorktreeFs } from './worktree-fs.ts';
import { mapWorktreeFs } from './map-fs.ts';

// The same behaviour over memfs (what the world uses) and over the Map the bench measures it against.
describe.each([
  ['memfs', memfsWorktreeFs],
  ['a Map', mapWorktreeFs],
])('WorktreeModel over %s', (_, fs) => {
  it('adds a worktree as a directory plus a registration, lists it, and removes both', () => {
    const git = new WorktreeModel(['/r'], [], fs);
    const path = git.add('/r', 'feature');
    expect(path).toBe('/r.worktrees/feature');
    expect(git.fs.existsSync(`${path}/.git`)).toBe(true);
    expect(git.list('/r')).toEqual([path]);
    expect(git.existing()).toEqual([path]);
    git.remove('/r', path);
    expect(git.fs.existsSync(path)).toBe(false);
    expect(git.list('/r')).toEqual([]);
    expect(git.existing()).toEqual([]);
  });

  it('refuses a second worktree of the same name (EEXIST) and a path git does not know', () => {
    const git = new WorktreeModel(['/r'], [], fs);
    git.add('/r', 'x');
    expect(() => git.add('/r', 'x')).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    expect(() => git.remove('/r', '/elsewhere')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(() => git.add('/not-a-repo', 'y')).toThrow(/not a git repository/);
  });

  it('injects the planned faults on the planned calls only', () => {
    const faults = [
      GitFaultSchema.parse({ op: 'add', nth: 2, code: 'ENOSPC' }),
      GitFaultSchema.parse({ op: 'remove', nth: 1, times: 2, code: 'ELOCKED' }),
    ];
    const git = new WorktreeModel(['/r'], faults, fs);
    const a = git.add('/r', 'a');
    expect(() => git.add('/r', 'b')).toThrow(expect.objectContaining({ code: 'ENOSPC' }));
    git.add('/r', 'c');
    expect(() => git.remove('/r', a)).toThrow(expect.objectContaining({ code: 'ELOCKED' }));
    expect(() => git.remove('/r', a)).toThrow(expect.objectContaining({ code: 'ELOCKED' }));
    git.remove('/r', a);
    expect(git.existing()).toEqual(['/r.worktrees/c']);
  });

  it('keeps refusing for forMs of virtual time from the first refusal when a fault lasts in time', () => {
    let now = 0;
    const faults = [GitFaultSchema.parse({ op: 'remove', nth: 1, times: 1, code: 'ELOCKED', forMs: 5_000 })];
    const git = new WorktreeModel(['/r'], faults, fs, () => now);
    const a = git.add('/r', 'a');
    // Retried at once, eight times over: the lock still holds (times is not used).
    for (let i = 0; i < 8; i++) expect(() => git.remove('/r', a)).toThrow(expect.objectContaining({ code: 'ELOCKED' }));
    now = 4_999;
    expect(() => git.remove('/r', a)).toThrow(expect.objectContaining({ code: 'ELOCKED' }));
    now = 5_000;
    git.remove('/r', a);
    expect(git.existing()).toEqual([]);
    // A span of 0 ms still refuses the nth call, and only it.
    const brief = new WorktreeModel(['/r'], [GitFaultSchema.parse({ op: 'add', code: 'EBUSY', forMs: 0 })], fs);
    expect(() => brief.add('/r', 'b')).toThrow(expect.objectContaining({ code: 'EBUSY' }));
    brief.add('/r', 'b');
  });

  it('counts a worktree whose directory is gone but whose registration stays as still existing', () => {
    const git = new WorktreeModel(['/r'], [], fs);
    const path = git.add('/r', 'half');
    git.fs.rmSync(path, { recursive: true, force: true });
    expect(git.existing()).toEqual([path]);
  });
});
