// A black-box scenario that did not reach what it tests says so, and why; one that did, says that.
import { describe, expect, it } from 'vitest';
import { coverageOf, stopTimings } from './coverage.ts';
import type { TraceEvent } from '../trace.ts';

const start = (atMs: number, pid: number, spawnIndex: number): TraceEvent => ({
  kind: 'process-start',
  atMs,
  pid,
  generation: 'g',
  ppid: 1,
  pgid: pid,
  role: 'wrapper',
  spawnIndex,
  cwd: '/',
});
const exit = (atMs: number, pid: number, spawnIndex: number): TraceEvent => ({
  kind: 'process-exit',
  atMs,
  pid,
  role: 'wrapper',
  spawnIndex,
  exit: { code: 0, signal: null },
});
const request = (atMs: number, requestId: number, op: 'spawn' | 'stop', detail: string): TraceEvent => ({
  kind: 'request',
  atMs,
  requestId,
  op,
  detail,
});
const granted = (atMs: number, requestId: number, sessionId: string, pid: number): TraceEvent => ({
  kind: 'answer',
  atMs,
  requestId,
  answer: { op: 'spawn', result: { type: 'success', sessionId, pid } },
});
const reported = (atMs: number, sessionId: string): TraceEvent => ({ kind: 'hub', atMs, op: 'register', sessionId });

/** A session granted and reported in, then a stop of it while its child lives; the child exits at `exitAt`. */
const grantedThenStopped = (exitAt: number): TraceEvent[] => [
  request(0, 1, 'spawn', 'spawn new session'),
  start(100, 102, 0),
  reported(2_000, 'sess-1'),
  granted(2_050, 1, 'sess-1', 102),
  request(3_000, 2, 'stop', 'stop sess-1'),
  exit(exitAt, 102, 0),
];

describe('what a black-box scenario exercised', () => {
  it('a stop of a live granted session, after its agent reported in: exercised', () => {
    const trace = grantedThenStopped(3_100);
    const [live, up] = coverageOf(['stop-of-live-session', 'stop-after-tree-up'], trace, 15_000);
    expect(live).toMatchObject({ exercised: true });
    expect(up).toMatchObject({ exercised: true });
  });

  it('a stop that named a child never seen, or one already dead: not exercised, and why', () => {
    const unseen = coverageOf(
      ['stop-of-live-session'],
      [
        request(0, 1, 'spawn', 'spawn new session'),
        request(50, 2, 'stop', 'stop unseen-session-0'),
        start(300, 102, 0),
      ],
      15_000,
    );
    expect(unseen[0]).toMatchObject({ exercised: false, why: expect.stringMatching(/stops named: unseen-session-0/) });
    const dead = coverageOf(
      ['stop-of-live-session'],
      [
        start(0, 102, 0),
        reported(10, 'sess-1'),
        granted(20, 1, 'sess-1', 102),
        exit(30, 102, 0),
        request(40, 2, 'stop', 'stop sess-1'),
      ],
      15_000,
    );
    expect(dead[0]).toMatchObject({ exercised: false });
  });

  it('a child still booting at its timeout, a repeated spawn while a child lives, a restart over a live child', () => {
    const trace: TraceEvent[] = [
      { kind: 'runner', atMs: 0, op: 'start', pid: 50 },
      request(0, 1, 'spawn', 'spawn resume conv'),
      start(100, 102, 0),
      request(200, 2, 'spawn', 'spawn resume conv'),
      { kind: 'runner', atMs: 500, op: 'crash', pid: 50 },
      { kind: 'runner', atMs: 600, op: 'start', pid: 51 },
      exit(15_000, 102, 0),
    ];
    const got = coverageOf(
      ['booting-at-timeout', 'second-spawn-while-first-lives', 'restart-with-live-child'],
      trace,
      15_000,
    );
    expect(got.map((c) => c.exercised)).toEqual([true, true, true]);
    // The same with a child that reported in at once and died: none of them.
    const quick: TraceEvent[] = [
      request(0, 1, 'spawn', 'spawn resume conv'),
      start(100, 102, 0),
      reported(150, 'sess-1'),
      exit(190, 102, 0),
      request(200, 2, 'spawn', 'spawn resume conv'),
    ];
    const none = coverageOf(
      ['booting-at-timeout', 'second-spawn-while-first-lives', 'restart-with-live-child'],
      quick,
      15_000,
    );
    expect(none.map((c) => c.exercised)).toEqual([false, false, false]);
    expect(none[2]!.why).toBe('the runner was never restarted');
  });

  it('a child seen late under load, killed at its timeout: still booting when the timeout came', () => {
    // Spawn asked for at 0; the harness saw the child only at 4 s; the runner killed it at its
    // 15 s timeout and it died at 16 s. From its late start alone, 90% of a timeout never passed.
    const trace: TraceEvent[] = [
      request(0, 1, 'spawn', 'spawn new session'),
      start(4_000, 102, 0),
      exit(16_000, 102, 0),
    ];
    expect(coverageOf(['booting-at-timeout'], trace, 15_000)[0]).toMatchObject({ exercised: true });
    // Reported in before the timeout: not.
    expect(
      coverageOf(['booting-at-timeout'], [...trace.slice(0, 2), reported(9_000, 'sess-1'), trace[2]!], 15_000)[0],
    ).toMatchObject({ exercised: false });
  });

  it('an exit before reporting in, answered "exited" a moment before the harness saw the exit: exercised', () => {
    const exited = (atMs: number, reason: 'exited' | 'timeout'): TraceEvent => ({
      kind: 'answer',
      atMs,
      requestId: 1,
      answer: { op: 'spawn', result: { type: 'error', reason, message: 'child exited before webhook' } },
    });
    const base: TraceEvent[] = [request(0, 1, 'spawn', 'spawn new session'), start(2_800, 102, 0)];
    // The runner heard of the exit at once; the harness's /proc poll 300 ms later.
    expect(
      coverageOf(['exit-before-report'], [...base, exited(7_200, 'exited'), exit(7_500, 102, 0)], 15_000)[0],
    ).toMatchObject({ exercised: true });
    // Any other answer before the exit closed the spawn first: not exercised.
    expect(
      coverageOf(['exit-before-report'], [...base, exited(7_200, 'timeout'), exit(7_500, 102, 0)], 15_000)[0],
    ).toMatchObject({ exercised: false });
  });

  it('a stop of a resumed session while its spawn is open and its child boots: exercised; after the grant, not', () => {
    const during: TraceEvent[] = [
      request(0, 1, 'spawn', 'spawn resume conv-b'),
      start(100, 102, 0),
      request(500, 2, 'stop', 'stop conv-b'),
      reported(8_000, 'sess-1'),
      granted(8_050, 1, 'sess-1', 102),
    ];
    expect(coverageOf(['stop-during-boot'], during, 15_000)[0]).toMatchObject({ exercised: true });
    // The same stop after the spawn was answered, or naming another session: not exercised.
    const after = during.map((e) => (e.kind === 'request' && e.requestId === 2 ? { ...e, atMs: 9_000 } : e));
    expect(coverageOf(['stop-during-boot'], after, 15_000)[0]).toMatchObject({
      exercised: false,
      why: expect.stringMatching(/no stop went out while a spawn resuming its session was open/),
    });
    const other = during.map((e) => (e.kind === 'request' && e.requestId === 2 ? { ...e, detail: 'stop conv-z' } : e));
    expect(coverageOf(['stop-during-boot'], other, 15_000)[0]).toMatchObject({ exercised: false });
    expect(coverageOf(['stop-during-boot'], during.slice(0, 2), 15_000)[0]).toMatchObject({
      exercised: false,
      why: 'no stop was sent',
    });
  });

  it("learns the runner's kill timing from its stops: until the child was gone, and until the answer", () => {
    const trace = [
      ...grantedThenStopped(33_000),
      {
        kind: 'answer',
        atMs: 34_000,
        requestId: 2,
        answer: { op: 'stop', result: { status: 'stopped' } },
      } as TraceEvent,
    ];
    expect(stopTimings(trace)).toEqual([{ sessionId: 'sess-1', treeGoneAfterMs: 30_000, answeredAfterMs: 31_000 }]);
  });
});
