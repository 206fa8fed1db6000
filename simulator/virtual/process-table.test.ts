import { describe, expect, it } from 'vitest';
import { ProcessTable, INIT_PID, type VProcess } from './process-table.ts';

/** A table with a hand-driven agenda, so each test controls when deaths happen. */
function makeTable(pidMax = 32_768) {
  let now = 0;
  const agenda: Array<{ at: number; run: () => void }> = [];
  const exited: VProcess[] = [];
  const table = new ProcessTable(pidMax, {
    now: () => now,
    later: (delay, run) => agenda.push({ at: now + delay, run }),
    sigkillDeathMs: () => 1,
    started: () => {},
    exited: (p) => exited.push(p),
    reaped: () => {},
  });
  const advance = (ms: number): void => {
    const until = now + ms;
    for (;;) {
      agenda.sort((a, b) => a.at - b.at);
      const next = agenda[0];
      if (next === undefined || next.at > until) break;
      agenda.shift();
      now = next.at;
      next.run();
    }
    now = until;
  };
  return { table, advance, exited };
}

describe('ProcessTable', () => {
  it('allocates PIDs upward and wraps round at pid_max, skipping live ones', () => {
    const { table } = makeTable(400);
    const first = table.spawn({ parent: table.init, role: 'bystander' });
    expect(first.pid).toBe(100);
    const pids = [first.pid];
    for (let i = 0; i < 300; i++) pids.push(table.spawn({ parent: table.init, role: 'bystander' }).pid);
    expect(pids.at(-1)).toBe(400);
    // Free one low PID: after the wrap the allocator finds it.
    table.terminate(table.get(105)!, { code: 0, signal: null });
    expect(table.spawn({ parent: table.init, role: 'bystander' }).pid).toBe(105);
  });

  it('gives a reused PID a new generation', () => {
    const { table } = makeTable();
    const a = table.spawn({ parent: table.init, role: 'wrapper' });
    table.terminate(a, { code: 0, signal: null });
    const b = table.spawn({ parent: table.init, role: 'bystander', preferPid: a.pid });
    expect(b.pid).toBe(a.pid);
    expect(b.generation).not.toBe(a.generation);
  });

  it("keeps a watched child's PID as a zombie's until its parent reaps it, or until the parent dies", () => {
    const { table } = makeTable();
    const runner = table.spawn({ parent: table.init, role: 'runner' });
    const child = table.spawn({ parent: runner, role: 'wrapper' });
    child.reapedByParent = true;
    table.terminate(child, { code: 0, signal: null });
    expect(table.get(child.pid)).toBeUndefined(); // dead: no generation to read
    expect(table.spawn({ parent: table.init, role: 'bystander', preferPid: child.pid }).pid).not.toBe(child.pid);
    table.reap(child);
    expect(table.spawn({ parent: table.init, role: 'bystander', preferPid: child.pid }).pid).toBe(child.pid);
    // A parent that dies first leaves its zombies to init, which reaps them at once.
    const second = table.spawn({ parent: runner, role: 'wrapper' });
    second.reapedByParent = true;
    table.terminate(second, { code: 0, signal: null });
    table.terminate(runner, { code: null, signal: 'SIGKILL' });
    expect(table.spawn({ parent: table.init, role: 'bystander', preferPid: second.pid }).pid).toBe(second.pid);
  });

  it('does not hand out a PID that still names a live process group', () => {
    const { table } = makeTable();
    const leader = table.spawn({ parent: table.init, role: 'wrapper', newSession: true });
    const member = table.spawn({ parent: leader, role: 'descendant' });
    expect(member.pgid).toBe(leader.pid);
    table.terminate(leader, { code: 0, signal: null });
    const stranger = table.spawn({ parent: table.init, role: 'bystander', preferPid: leader.pid });
    expect(stranger.pid).not.toBe(leader.pid);
  });

  it('re-parents the children of a dead process to init', () => {
    const { table } = makeTable();
    const parent = table.spawn({ parent: table.init, role: 'wrapper' });
    const child = table.spawn({ parent, role: 'descendant' });
    table.terminate(parent, { code: 0, signal: null });
    expect(child.alive).toBe(true);
    expect(child.ppid).toBe(INIT_PID);
    expect(table.children(INIT_PID)).toContain(child);
  });

  it('models groups and sessions: setsid leaves both, setpgid leaves the group only', () => {
    const { table } = makeTable();
    const leader = table.spawn({ parent: table.init, role: 'wrapper', newSession: true });
    const same = table.spawn({ parent: leader, role: 'descendant' });
    const ownGroup = table.spawn({ parent: leader, role: 'descendant', newGroup: true });
    const ownSession = table.spawn({ parent: leader, role: 'descendant', newSession: true });
    expect([same.pgid, same.sid]).toEqual([leader.pid, leader.pid]);
    expect([ownGroup.pgid, ownGroup.sid]).toEqual([ownGroup.pid, leader.pid]);
    expect([ownSession.pgid, ownSession.sid]).toEqual([ownSession.pid, ownSession.pid]);
    expect(table.groupMembers(leader.pid)).toEqual([leader, same]);
  });

  it("delivers SIGTERM after the process's own dying time, and SIGKILL even when SIGTERM is ignored", () => {
    const { table, advance } = makeTable();
    const polite = table.spawn({ parent: table.init, role: 'wrapper', dieDelayMs: 50 });
    const stubborn = table.spawn({ parent: table.init, role: 'wrapper', ignoresSigterm: true });
    expect(table.signal(polite.pid, 'SIGTERM')).toBe(true);
    expect(table.signal(stubborn.pid, 'SIGTERM')).toBe(true);
    advance(49);
    expect(polite.alive).toBe(true);
    advance(1);
    expect(polite.alive).toBe(false);
    expect(polite.exit).toEqual({ code: null, signal: 'SIGTERM' });
    advance(10_000);
    expect(stubborn.alive).toBe(true);
    table.signal(stubborn.pid, 'SIGKILL');
    advance(1);
    expect(stubborn.exit).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('signals a whole group, and answers ESRCH (false) for a dead PID or an empty group', () => {
    const { table, advance } = makeTable();
    const leader = table.spawn({ parent: table.init, role: 'wrapper', newSession: true });
    const member = table.spawn({ parent: leader, role: 'descendant' });
    const escaped = table.spawn({ parent: leader, role: 'descendant', newSession: true });
    expect(table.signalGroup(leader.pid, 'SIGKILL')).toBe(true);
    advance(1);
    expect([leader.alive, member.alive, escaped.alive]).toEqual([false, false, true]);
    expect(table.signal(leader.pid, 'SIGKILL')).toBe(false);
    expect(table.signalGroup(leader.pid, 'SIGKILL')).toBe(false);
  });

  it('calls exit listeners once, with the exit status', () => {
    const { table } = makeTable();
    const p = table.spawn({ parent: table.init, role: 'wrapper' });
    const seen: unknown[] = [];
    table.onExit(p, (exit) => seen.push(exit));
    table.terminate(p, { code: 3, signal: null });
    table.terminate(p, { code: 4, signal: null });
    expect(seen).toEqual([{ code: 3, signal: null }]);
  });

  it('keeps a process in D state alive through SIGKILL, for a while or for ever', () => {
    const { table, advance } = makeTable();
    const stuck = table.spawn({ parent: table.init, role: 'wrapper', sigkillDeath: 5_000 });
    const forever = table.spawn({ parent: table.init, role: 'wrapper', sigkillDeath: 'never' });
    table.signal(stuck.pid, 'SIGKILL');
    table.signal(forever.pid, 'SIGKILL');
    advance(4_999);
    expect([stuck.alive, forever.alive]).toEqual([true, true]);
    expect(stuck.sigkilledAt).toBe(0);
    advance(1);
    expect(stuck.alive).toBe(false);
    expect(stuck.exit).toEqual({ code: null, signal: 'SIGKILL' });
    // Nothing reaches a process stuck for good: not SIGKILL again, not SIGTERM.
    table.signal(forever.pid, 'SIGTERM');
    table.signal(forever.pid, 'SIGKILL');
    advance(3_600_000);
    expect(forever.alive).toBe(true);
  });
});
