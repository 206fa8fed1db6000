// The kill routine on its own, over a hand-made process host and clock: what it signals, and
// how long it waits, when a try comes after an earlier one left a process alive past SIGKILL.
import { describe, expect, it } from 'vitest';
import { HostError, type Clock, type ProcessHost, type ProcessInfo, type Signal, type TimerHandle } from '../ports.ts';
import { killTree, SPAWN_MARKER_ENV, type KillOutcome } from './kill-tree.ts';

interface FakeProcess extends ProcessInfo {
  alive: boolean;
  /** Survives SIGKILL (D state) for as long as the test says. */
  stuck: boolean;
  ignoresSigterm: boolean;
}

/** Timers in virtual time: the test drives them until the routine ends (bounded). */
class FakeClock implements Clock {
  private at = 0;
  private nextId = 1;
  private readonly timers = new Map<number, { atMs: number; callback: () => void }>();
  now(): number {
    return this.at;
  }
  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timerId = this.nextId++;
    this.timers.set(timerId, { atMs: this.at + delayMs, callback });
    return { timerId };
  }
  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle.timerId);
  }
  /** Runs timers in time order until `work` settles; at most 10,000 of them. */
  async drive<T>(work: Promise<T>): Promise<T> {
    let settled = false;
    void work.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (let fired = 0; fired < 10_000; fired++) {
      await new Promise((resolve) => setImmediate(resolve)); // let the routine reach its next wait
      if (settled) return work;
      if (this.timers.size === 0) throw new Error('the kill routine waits, but on no timer');
      const [id, next] = [...this.timers].reduce((a, b) => (b[1].atMs < a[1].atMs ? b : a));
      this.timers.delete(id);
      this.at = next.atMs;
      next.callback();
    }
    throw new Error('the kill routine did not end within 10,000 timers');
  }
}

const MARKER = 'spawn-1';

/** A process table of the test's making; every signal is written down with its time. */
function fakeHost(clock: FakeClock, processes: FakeProcess[], refusedScans = 0) {
  const signals: Array<{ atMs: number; target: string; signal: Signal }> = [];
  // A /proc storm: the first scans are refused, and every look by PID until a scan is read again.
  let refusalsLeft = refusedScans;
  const refused = (): HostError => new HostError('EMFILE', 'too many open files');
  const hit = (p: FakeProcess, signal: Signal): void => {
    if (!p.alive || p.stuck) return;
    if (signal === 'SIGKILL' || !p.ignoresSigterm) p.alive = false;
  };
  const info = ({ pid, generation, ppid, pgid }: FakeProcess): ProcessInfo => ({ pid, generation, ppid, pgid });
  const host: ProcessHost = {
    spawnDetached: () => Promise.reject(new Error('not in this test')),
    onExit: () => false,
    generationOf: (pid) => {
      if (refusalsLeft > 0) throw refused();
      return processes.find((p) => p.pid === pid && p.alive)?.generation ?? null;
    },
    signal: (pid, signal) => {
      signals.push({ atMs: clock.now(), target: `pid ${pid}`, signal });
      const p = processes.find((q) => q.pid === pid && q.alive);
      if (p !== undefined) hit(p, signal);
      return p !== undefined;
    },
    signalGroup: (pgid, signal) => {
      signals.push({ atMs: clock.now(), target: `group ${pgid}`, signal });
      const members = processes.filter((q) => q.pgid === pgid && q.alive);
      for (const p of members) hit(p, signal);
      return members.length > 0;
    },
    findByEnv: (name, value) => {
      if (refusalsLeft > 0) {
        refusalsLeft--;
        return Promise.reject(refused());
      }
      return Promise.resolve(
        name === SPAWN_MARKER_ENV && value === MARKER ? processes.filter((p) => p.alive).map(info) : [],
      );
    },
    childrenOf: (pid) => Promise.resolve(processes.filter((p) => p.alive && p.ppid === pid).map(info)),
  };
  return { host, signals };
}

const TIMING = { termGraceMs: 10_000, killGraceMs: 1_000, pollIntervalMs: 100 };

function process(pid: number, options: Partial<FakeProcess> = {}): FakeProcess {
  return {
    pid,
    generation: `g${pid}`,
    ppid: 1,
    pgid: 10,
    alive: true,
    stuck: false,
    ignoresSigterm: false,
    ...options,
  };
}

async function kill(
  processes: FakeProcess[],
  sigkilledBefore?: ProcessInfo[],
  refusedScans = 0,
): Promise<{ outcome: KillOutcome; tookMs: number; signals: Array<{ atMs: number; target: string; signal: Signal }> }> {
  const clock = new FakeClock();
  const { host, signals } = fakeHost(clock, processes, refusedScans);
  const root = processes[0]!;
  const outcome = await clock.drive(killTree(host, clock, { root, marker: MARKER, sigkilledBefore }, TIMING));
  return { outcome, tookMs: clock.now(), signals };
}

describe('killTree, a try after one that left a process alive past SIGKILL', () => {
  it('without such knowledge, gives a process in D state its SIGTERM and the whole grace first', async () => {
    const { outcome, tookMs, signals } = await kill([process(10, { stuck: true })]);
    expect(outcome.survivors.map((m) => m.pid)).toEqual([10]);
    expect(signals.filter((s) => s.signal === 'SIGTERM').map((s) => s.target)).toEqual(['group 10', 'pid 10']);
    expect(tookMs).toBeGreaterThanOrEqual(TIMING.termGraceMs + TIMING.killGraceMs);
  });

  it('sends no SIGTERM to a survivor of an earlier SIGKILL, and does not wait out the SIGTERM grace on it', async () => {
    const stuck = process(10, { stuck: true });
    const { outcome, tookMs, signals } = await kill([stuck], [stuck]);
    expect(outcome.survivors.map((m) => m.pid)).toEqual([10]);
    expect(signals.filter((s) => s.signal === 'SIGTERM')).toEqual([]);
    expect(signals.filter((s) => s.signal === 'SIGKILL').map((s) => s.target)).toEqual(['group 10', 'pid 10']);
    expect(signals[0]!.atMs).toBe(0);
    expect(tookMs).toBeLessThan(TIMING.termGraceMs);
    expect(tookMs).toBeGreaterThanOrEqual(TIMING.killGraceMs);
  });

  it('still gives a member it has not SIGKILLed before its SIGTERM and grace, beside such a survivor', async () => {
    const stuck = process(10, { stuck: true });
    const newcomer = process(11, { ppid: 10, ignoresSigterm: true });
    const { outcome, tookMs, signals } = await kill([stuck, newcomer], [stuck]);
    expect(outcome.survivors.map((m) => m.pid)).toEqual([10]);
    expect(newcomer.alive).toBe(false);
    expect(signals.filter((s) => s.signal === 'SIGTERM').map((s) => s.target)).toContain('pid 11');
    const firstKill = signals.find((s) => s.signal === 'SIGKILL')!;
    expect(firstKill.atMs).toBeGreaterThanOrEqual(TIMING.termGraceMs);
    expect(tookMs).toBeGreaterThanOrEqual(TIMING.termGraceMs + TIMING.killGraceMs);
  });

  it('knows a survivor by PID and generation: a process that took its PID since is a newcomer', async () => {
    const before = process(10, { stuck: true });
    const reborn = process(10, { generation: 'g10-again', ignoresSigterm: true });
    const { signals } = await kill([reborn], [before]);
    expect(signals.filter((s) => s.signal === 'SIGTERM').map((s) => s.target)).toEqual(['group 10', 'pid 10']);
    expect(signals.find((s) => s.signal === 'SIGKILL')!.atMs).toBeGreaterThanOrEqual(TIMING.termGraceMs);
  });

  it('takes "only survivors left" from a look that was read: a member hidden behind a refused scan still gets its SIGTERM', async () => {
    const stuck = process(10, { stuck: true });
    const newcomer = process(11, { ppid: 10, ignoresSigterm: true });
    const { signals } = await kill([stuck, newcomer], [stuck], 3);
    const term = signals.find((s) => s.signal === 'SIGTERM' && s.target === 'pid 11');
    expect(term).toBeDefined();
    expect(signals.find((s) => s.signal === 'SIGKILL')!.atMs).toBeGreaterThanOrEqual(TIMING.termGraceMs);
  });
});
