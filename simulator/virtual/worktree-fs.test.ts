// The memfs adapter answers memfs's uid and gid questions from the virtual process, and leaves
// the real process as it found it, even when a call throws; a released volume comes back empty.
import { describe, expect, it } from 'vitest';
import { memfsWorktreeFs } from './worktree-fs.ts';

describe.runIf(typeof process.getuid === 'function')('memfsWorktreeFs', () => {
  it("puts the real process's getuid and getgid back after every call, throwing or not", () => {
    const { getuid, getgid } = process;
    const fs = memfsWorktreeFs();
    fs.mkdirSync('/r/.git/worktrees', { recursive: true });
    fs.writeFileSync('/r/.git/worktrees/x', 'gitdir: /w/.git\n');
    expect(() => fs.mkdirSync('/r')).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    expect(() => fs.readFileSync('/nowhere', 'utf8')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(process.getuid).toBe(getuid);
    expect(process.getgid).toBe(getgid);
    expect(String(fs.readFileSync('/r/.git/worktrees/x', 'utf8'))).toBe('gitdir: /w/.git\n');
  });

  it('hands a released volume to the next world empty, and refuses any use after release', () => {
    const first = memfsWorktreeFs();
    first.mkdirSync('/r/.git/worktrees/a', { recursive: true });
    first.writeFileSync('/r/.git/worktrees/a/gitdir', '/w/.git\n');
    first.release?.();
    expect(() => first.existsSync('/r')).toThrow(/used after its world released it/);
    const next = memfsWorktreeFs();
    expect(next.existsSync('/r')).toBe(false);
    expect(next.readdirSync('/')).toEqual([]);
    next.release?.();
  });
});
