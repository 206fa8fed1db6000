// The Node adapters against the real OS: detached spawns, identities from /proc, the tree kill
// with escaped and SIGTERM-ignoring descendants, git worktrees, the state file. Every process a
// test starts carries the test run's marker and is killed in afterEach if a test left it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeProcessHost } from './node-process-host.ts';
import { GitWorktreeHost } from './git-worktree-host.ts';
import { FileStateStore, NodeClock } from './node-ports.ts';
import { findMarked, readStat, signalIfSame } from './proc.ts';
import { killTree, SPAWN_MARKER_ENV } from '../core/kill-tree.ts';
import { HostError } from '../ports.ts';
import { gitTestEnv } from './test-support.ts';

const linux = process.platform === 'linux';
const FAKE_AGENT = new URL('../../fixtures/agents/fake-agent.mjs', import.meta.url).pathname;
let runId = '';
let host: NodeProcessHost;
let dir = '';
let counter = 0;

const encode = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// Generous: on a loaded machine a Node process can take seconds to start and fork its children.
async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(20);
  }
}

beforeEach(() => {
  runId = `${process.env.RUNNER_CHAOS_RUN_PREFIX ?? 'test'}-adapters-${process.pid}-${++counter}`;
  host = new NodeProcessHost({ extraEnv: { RUNNER_CHAOS_RUN: runId } });
  dir = mkdtempSync(join(tmpdir(), 'runner-chaos-adapters-'));
});

afterEach(async () => {
  // Clean up after a failing test too: only what carries this test's marker, identity checked,
  // and again on every look, since a process still starting may fork after a kill pass.
  await until(() => {
    const left = findMarked('RUNNER_CHAOS_RUN', runId);
    for (const p of left) signalIfSame(p.pid, p.starttime, 'SIGKILL');
    return left.length === 0;
  });
  rmSync(dir, { recursive: true, force: true });
});

describe.runIf(linux)('NodeProcessHost', () => {
  it('spawns a detached child leading its own group and session, with its start time as generation', async () => {
    const ref = await host.spawnDetached({
      command: process.execPath,
      args: ['-e', 'setTimeout(() => process.exit(7), 200)'],
      cwd: dir,
      env: { X: '1' },
    });
    const stat = readStat(ref.pid)!;
    expect([stat.pgid, stat.sid]).toEqual([ref.pid, ref.pid]);
    expect(ref.generation).toBe(stat.starttime);
    expect(host.generationOf(ref.pid)).toBe(ref.generation);
    const exit = await new Promise((resolve) => expect(host.onExit(ref, resolve)).toBe(true));
    expect(exit).toEqual({ code: 7, signal: null });
    await until(() => host.generationOf(ref.pid) === null);
    expect(host.signal(ref.pid, 'SIGTERM')).toBe(false);
    expect(host.onExit({ pid: ref.pid, generation: 'other' }, () => {})).toBe(false);
    // Asked for after the exit, the exit is still delivered (later, not during the call).
    let late: unknown;
    expect(host.onExit(ref, (e) => (late = e))).toBe(true);
    expect(late).toBeUndefined();
    await until(() => late !== undefined);
    expect(late).toEqual({ code: 7, signal: null });
  });

  it('rejects with the OS error code when the command or the directory is missing', async () => {
    await expect(
      host.spawnDetached({ command: '/nonexistent/agent', args: [], cwd: dir, env: {} }),
    ).rejects.toMatchObject({ code: 'ENOENT' });
    // A missing directory is named as the directory, not as the command's ENOENT.
    const missing = host.spawnDetached({ command: process.execPath, args: [], cwd: join(dir, 'gone'), env: {} });
    await expect(missing).rejects.toBeInstanceOf(HostError);
    await expect(missing).rejects.toMatchObject({
      code: 'ENOENT',
      message: expect.stringMatching(/working directory .*gone does not exist/),
    });
  });

  it('finds a tree by its marker and kills all of it: setsid and double-fork escapees, SIGTERM-ignorers', async () => {
    const tree = [
      { escape: 'none', ignoresSigterm: true, children: [{ escape: 'setsid' }] },
      { escape: 'double-fork', ignoresSigterm: true },
      { escape: 'setsid', children: [{ escape: 'none', ignoresSigterm: true }] },
    ];
    const marker = `m-${counter}`;
    const ref = await host.spawnDetached({
      command: process.execPath,
      args: [FAKE_AGENT, '--descendant', encode({ ignoresSigterm: true, scale: 1, children: tree })],
      cwd: dir,
      env: { [SPAWN_MARKER_ENV]: marker },
    });
    // root, 2 under the first, the double-forked one (its middle exits), 2 under the setsid one
    await until(() => findMarked(SPAWN_MARKER_ENV, marker).length === 6);
    const members = await host.findByEnv(SPAWN_MARKER_ENV, marker);
    expect(new Set(members.map((m) => m.pgid)).size).toBeGreaterThan(1); // some left the group
    expect(members.some((m) => m.ppid !== ref.pid && !members.some((o) => o.pid === m.ppid))).toBe(true); // re-parented away
    const outcome = await killTree(
      host,
      new NodeClock(),
      { root: ref, marker },
      { termGraceMs: 300, killGraceMs: 1_000, pollIntervalMs: 20 },
    );
    expect(outcome.survivors).toEqual([]);
    expect(findMarked(SPAWN_MARKER_ENV, marker)).toEqual([]);
  });

  it('lists the children of a PID the way pgrep -P does', async () => {
    const ref = await host.spawnDetached({
      command: process.execPath,
      args: [FAKE_AGENT, '--descendant', encode({ scale: 1, children: [{}, {}] })],
      cwd: dir,
      env: {},
    });
    await until(() => findMarked('RUNNER_CHAOS_RUN', runId).length === 3);
    const children = await host.childrenOf(ref.pid);
    expect(children).toHaveLength(2);
    for (const c of children) expect(c.ppid).toBe(ref.pid);
  });

  it('never signals through a stale identity: signalIfSame checks the start time', async () => {
    const ref = await host.spawnDetached({
      command: process.execPath,
      args: ['-e', 'setInterval(() => {}, 1000)'],
      cwd: dir,
      env: {},
    });
    expect(signalIfSame(ref.pid, 'not-its-start-time', 'SIGKILL')).toBe(false);
    expect(readStat(ref.pid)).toBeDefined();
    expect(signalIfSame(ref.pid, ref.generation, 'SIGKILL')).toBe(true);
    await until(() => readStat(ref.pid) === undefined);
  });

  it('refuses to signal process group 1 or 0', () => {
    expect(host.signalGroup(1, 'SIGTERM')).toBe(false);
    expect(host.signalGroup(0, 'SIGTERM')).toBe(false);
  });
});

describe.runIf(linux)('GitWorktreeHost', () => {
  it('adds, lists and removes worktrees of a real repository, locked ones too', async () => {
    const repo = join(dir, 'repo');
    const env = gitTestEnv();
    execFileSync('git', ['init', '-q', repo], { env });
    writeFileSync(join(repo, 'f'), 'x');
    execFileSync('git', ['-C', repo, 'add', 'f'], { env });
    execFileSync('git', ['-C', repo, 'commit', '-q', '-m', 'i'], { env });
    const git = new GitWorktreeHost();
    const a = await git.add(repo, 'a');
    const b = await git.add(repo, 'b');
    expect(await git.list(repo)).toEqual([a, b]);
    await expect(git.add(repo, 'a')).rejects.toMatchObject({ code: 'EEXIST' });
    execFileSync('git', ['-C', repo, 'worktree', 'lock', b]);
    await git.remove(repo, a);
    await git.remove(repo, b);
    expect(await git.list(repo)).toEqual([]);
    expect(existsSync(a) || existsSync(b)).toBe(false);
    await expect(git.list(join(dir, 'not-a-repo'))).rejects.toBeInstanceOf(HostError);
  });
});

describe('FileStateStore', () => {
  it('loads null before the first save, then what was saved, written atomically', async () => {
    const store = new FileStateStore(join(dir, 'nested', 'state.json'));
    expect(await store.load()).toBeNull();
    await store.save('{"a":1}');
    await store.save('{"a":2}');
    expect(await store.load()).toBe('{"a":2}');
  });
});
