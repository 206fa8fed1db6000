// What a black-box scenario is for, and whether the run did it. A scenario that never reached
// the state it exists to test (no child still booting when its timeout came, a stop that named
// no live session, a restart with nothing alive) proves nothing about that state: it is "not
// exercised", with the reason read from the trace, and never "held". Pure: a trace in, a list out.
import type { TraceEvent } from '../trace.ts';

/** A state a scenario must reach for its verdict to mean anything. */
export type Exercise =
  | 'booting-at-timeout'
  | 'second-spawn-while-first-lives'
  | 'stop-of-live-session'
  | 'stop-after-tree-up'
  | 'restart-with-live-child'
  | 'forged-webhooks-delivered'
  | 'exit-before-report'
  | 'list-during-boot'
  | 'wrapper-died-agent-lives'
  | 'stop-during-boot';

export const EXERCISE_TEXT: Record<Exercise, string> = {
  'booting-at-timeout': 'a child still booting when its webhook timeout came',
  'second-spawn-while-first-lives': "a repeated spawn of a session while the first spawn's child lived",
  'stop-of-live-session': 'a stop naming a session a spawn had granted, while its child lived',
  'stop-after-tree-up': 'a stop of a session whose agent had forked its tree and reported in',
  'restart-with-live-child': 'a restart of the runner while a child lived',
  'forged-webhooks-delivered': 'every forged webhook of the scenario delivered',
  'exit-before-report': 'a child that exited before it reported in, its spawn not yet answered',
  'list-during-boot': 'a list answered while a child was still booting',
  'wrapper-died-agent-lives': "a child's wrapper killed while its agent's processes lived on",
  'stop-during-boot': 'a stop naming a session while a spawn resuming it was open and its child still booting',
};

/** The harness's own line in the trace when it crashes a wrapper (see RealWorld.crash). */
const CRASHED = /^harness: crashed the wrapper of child #\d+, (\d+) descendant\(s\) alive$/;

export interface Coverage {
  readonly what: Exercise;
  readonly text: string;
  readonly exercised: boolean;
  /** Why not, when it was not. */
  readonly why?: string;
}

interface Life {
  readonly pid: number;
  readonly start: number;
  exit?: number;
  webhookAt?: number;
  /** The session its agent reported (its own webhook, as the harness saw it). */
  sessionId?: string;
}

/** Each child's wrapper: when it started, exited and reported in. */
function lives(trace: readonly TraceEvent[]): Map<number, Life> {
  const byIndex = new Map<number, Life>();
  const byPid = new Map<number, Life>();
  for (const e of trace) {
    if (e.kind === 'process-start' && e.role === 'wrapper' && e.spawnIndex !== undefined) {
      const life: Life = { pid: e.pid, start: e.atMs };
      byIndex.set(e.spawnIndex, life);
      byPid.set(e.pid, life);
    } else if (e.kind === 'process-exit' && e.role === 'wrapper' && e.spawnIndex !== undefined) {
      const life = byIndex.get(e.spawnIndex);
      if (life !== undefined) life.exit ??= e.atMs;
    } else if (e.kind === 'hub' && e.op === 'register') {
      // The agent's hub row, just before its webhook: all a black-box run sees of it reporting in.
      const index = /^sess-(\d+)$/.exec(e.sessionId)?.[1];
      const life = index !== undefined ? byIndex.get(Number(index) - 1) : undefined;
      if (life !== undefined && life.webhookAt === undefined) {
        life.webhookAt = e.atMs;
        life.sessionId = e.sessionId;
      }
    } else if (e.kind === 'webhook' && !e.forged) {
      const life = byPid.get(e.pid);
      if (life !== undefined && life.webhookAt === undefined) {
        life.webhookAt = e.atMs;
        life.sessionId = e.sessionId;
      }
    }
  }
  return byIndex;
}

const aliveAt = (life: Life, t: number): boolean => life.start <= t && (life.exit === undefined || life.exit > t);

/**
 * Which of `exercises` the run reached. `timeoutMs` is the runner's webhook timeout in scenario
 * ms; `forgeSteps` how many forged webhooks the scenario asked for.
 */
export function coverageOf(
  exercises: readonly Exercise[],
  trace: readonly TraceEvent[],
  timeoutMs: number,
  forgeSteps = 0,
): Coverage[] {
  const children = [...lives(trace).values()];
  const requests = trace.filter((e): e is Extract<TraceEvent, { kind: 'request' }> => e.kind === 'request');
  const result = (what: Exercise, exercised: boolean, why: string): Coverage => ({
    what,
    text: EXERCISE_TEXT[what],
    exercised,
    ...(exercised ? {} : { why }),
  });
  const stopsOfLive = liveStops(trace, children);
  // Each request's answer, found once (several cases ask for them).
  const answers = new Map<number, Extract<TraceEvent, { kind: 'answer' }>>();
  for (const e of trace) if (e.kind === 'answer' && !answers.has(e.requestId)) answers.set(e.requestId, e);
  const answeredAt = (requestId: number): number => answers.get(requestId)?.atMs ?? Infinity;
  /** Some child alive and not yet reported in at `t`. */
  const booting = (t: number): boolean =>
    children.some((c) => aliveAt(c, t) && (c.webhookAt === undefined || c.webhookAt > t));
  return exercises.map((what) => {
    switch (what) {
      case 'booting-at-timeout': {
        // Still alive, and not yet reported in, at 90% of its timeout from when it was seen to
        // start, or at a full timeout after the spawn request it answers: a loaded machine sees
        // a child late (a second, say), and no runner's timeout can come before its request's.
        const issuedBefore = (t: number): number | undefined =>
          requests.findLast((r) => r.op === 'spawn' && r.atMs <= t)?.atMs;
        const near = (c: Life): number =>
          Math.min(c.start + 0.9 * timeoutMs, (issuedBefore(c.start) ?? Infinity) + timeoutMs);
        const hit = children.some((c) => aliveAt(c, near(c)) && (c.webhookAt === undefined || c.webhookAt > near(c)));
        return result(
          what,
          hit,
          children.length === 0
            ? 'no child started'
            : 'every child had exited or reported in before its timeout came near (the agents boot too fast for this time scale, or the runner ended them early)',
        );
      }
      case 'second-spawn-while-first-lives': {
        const seen = new Set<string>();
        let hit = false;
        for (const r of requests) {
          if (r.op !== 'spawn') continue;
          if (seen.has(r.detail) && children.some((c) => aliveAt(c, r.atMs))) hit = true;
          seen.add(r.detail);
        }
        return result(what, hit, 'no child of the run was alive when a spawn of the same session was repeated');
      }
      case 'stop-of-live-session': {
        const named = requests.filter((r) => r.op === 'stop').map((r) => r.detail.replace(/^stop /, ''));
        return result(
          what,
          stopsOfLive.length > 0,
          named.length === 0
            ? 'no stop was sent'
            : `no stop named a granted session whose child still lived (stops named: ${named.join(', ')})`,
        );
      }
      case 'stop-after-tree-up': {
        const hit = stopsOfLive.some(({ atMs, life }) => life.webhookAt !== undefined && life.webhookAt <= atMs);
        return result(what, hit, 'no live session was stopped after its agent reported in (its tree up)');
      }
      case 'restart-with-live-child': {
        const starts = trace.filter((e) => e.kind === 'runner' && e.op === 'start').slice(1);
        const hit = starts.some((s) => children.some((c) => c.start < s.atMs && aliveAt(c, s.atMs)));
        return result(
          what,
          hit,
          starts.length === 0 ? 'the runner was never restarted' : 'no child was alive when the runner restarted',
        );
      }
      case 'exit-before-report': {
        // Open at the exit: answered after it as the harness saw it, or answered "exited" (the
        // runner hears of its child's exit at once; the harness, polling /proc, a moment later).
        const openAtExit = (requestId: number, c: Life): boolean => {
          const answer = answers.get(requestId);
          if (answer === undefined || answer.atMs >= c.exit!) return true;
          const result = 'result' in answer.answer ? answer.answer.result : undefined;
          return (
            answer.atMs >= c.start &&
            result !== undefined &&
            'type' in result &&
            result.type === 'error' &&
            result.reason === 'exited'
          );
        };
        const spawns = requests.filter((r) => r.op === 'spawn');
        const hit = children.some(
          (c) =>
            c.exit !== undefined &&
            (c.webhookAt === undefined || c.webhookAt > c.exit) &&
            spawns.some((r) => r.atMs <= c.start && openAtExit(r.requestId, c)),
        );
        return result(what, hit, 'no child exited before reporting in while its spawn was still open');
      }
      case 'list-during-boot': {
        const lists = trace.filter((e) => e.kind === 'answer' && e.answer.op === 'list');
        return result(
          what,
          lists.some((l) => booting(l.atMs)),
          lists.length === 0 ? 'no list was answered' : 'no list was answered while a child was still booting',
        );
      }
      case 'wrapper-died-agent-lives': {
        const crashes = trace
          .flatMap((e) => (e.kind === 'log' ? [CRASHED.exec(e.message)] : []))
          .filter((m) => m !== null);
        return result(
          what,
          crashes.some((m) => Number(m[1]) > 0),
          crashes.length === 0 ? 'no wrapper was crashed' : "every crashed wrapper's agent had no process left",
        );
      }
      case 'stop-during-boot': {
        // The session's id is known before its child reports only when the spawn resumes it.
        const stops = requests.filter((r) => r.op === 'stop');
        const hit = stops.some((stop) => {
          const named = stop.detail.replace(/^stop /, '');
          return requests.some(
            (r) =>
              r.op === 'spawn' &&
              r.detail.startsWith(`spawn resume ${named}`) &&
              r.atMs <= stop.atMs &&
              answeredAt(r.requestId) > stop.atMs &&
              booting(stop.atMs),
          );
        });
        return result(
          what,
          hit,
          stops.length === 0
            ? 'no stop was sent'
            : 'no stop went out while a spawn resuming its session was open with its child booting',
        );
      }
      case 'forged-webhooks-delivered': {
        const forged = trace.filter((e) => e.kind === 'webhook' && e.forged).length;
        return result(
          what,
          forged >= forgeSteps && forgeSteps > 0,
          `${forged} of ${forgeSteps} forged webhooks were sent (the rest named no process of the run)`,
        );
      }
    }
  });
}

/** How long a runner took to stop a live session: until its child's last seen process exited, and until it answered. */
export interface StopTiming {
  readonly sessionId: string;
  /** Scenario ms from the stop request to the exit of the session's child (undefined: it outlived the run). */
  readonly treeGoneAfterMs?: number;
  /** Scenario ms from the stop request to its answer (undefined: never answered). */
  readonly answeredAfterMs?: number;
}

/**
 * The runner's own kill timing, learnt from the run: for every stop of a granted session whose
 * child lived, how long until the child was gone and until the answer came. A black box never
 * says its kill grace; this is what it did.
 */
export function stopTimings(trace: readonly TraceEvent[]): StopTiming[] {
  return liveStops(trace, [...lives(trace).values()]).map(({ atMs, requestId, sessionId, life }) => {
    const answer = trace.find((a) => a.kind === 'answer' && a.requestId === requestId);
    return {
      sessionId,
      ...(life.exit !== undefined ? { treeGoneAfterMs: life.exit - atMs } : {}),
      ...(answer !== undefined ? { answeredAfterMs: answer.atMs - atMs } : {}),
    };
  });
}

/**
 * Every stop of a session a spawn granted (by id: a sandboxed runner's PIDs are its own) whose
 * child still lived when the stop was sent.
 */
function liveStops(
  trace: readonly TraceEvent[],
  children: readonly Life[],
): { atMs: number; requestId: number; sessionId: string; life: Life }[] {
  const granted = new Set<string>();
  for (const e of trace)
    if (e.kind === 'answer' && 'result' in e.answer && e.answer.op === 'spawn' && e.answer.result.type === 'success')
      granted.add(e.answer.result.sessionId);
  return trace.flatMap((e) => {
    if (e.kind !== 'request' || e.op !== 'stop') return [];
    const sessionId = e.detail.replace(/^stop /, '');
    const life = granted.has(sessionId)
      ? children.find((c) => c.sessionId === sessionId && aliveAt(c, e.atMs))
      : undefined;
    return life !== undefined ? [{ atMs: e.atMs, requestId: e.requestId, sessionId, life }] : [];
  });
}
