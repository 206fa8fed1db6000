// The requests a world sends a runner and the answers it gets, shared by both worlds: each is
// traced, each answer goes to the oracle, and a spawn answer's PID tells which child it was for.
import type { Runner, SessionInfo } from '../runner/contract.ts';
import type { GroundTruthObserver } from './oracle.ts';
import type { ChildRecord, ProcessView, RequestRecord } from './records.ts';
import type { Answer, RequestOp, TraceEvent } from './trace.ts';
import type { ParsedStep, SessionRef } from './scenario.ts';
import { broken } from './assert.ts';
import { malformedAnswer } from './broken-adapter.ts';

export type RequestStep = Extract<ParsedStep, { op: 'spawn' | 'stop' | 'list' | 'shutdown' }>;

export interface RequestLogHooks {
  now(): number;
  record(event: TraceEvent): void;
  readonly oracle: GroundTruthObserver;
  children(): readonly ChildRecord[];
  live(): readonly ProcessView[];
  /**
   * Whether a thrown error is only a failed connection (a black-box runner that cannot be
   * reached answers nothing, as a crashed one) rather than a broken contract. Default: never.
   */
  isConnectionFailure?(error: unknown): boolean;
}

/** A runner as the world knows it: whether its process still lives, and its operations. */
export interface RunnerHandle {
  readonly alive: boolean;
  readonly runner?: Runner;
}

export type RequestDetails = Pick<RequestRecord, 'resumeKey' | 'sessionId' | 'worktree' | 'worktreeName' | 'directory'>;

export class RequestLog {
  readonly requests: RequestRecord[] = [];

  constructor(private readonly hooks: RequestLogHooks) {}

  /** Sends a request to the runner that is up (none: the connection is refused) and awaits nothing. */
  issue<T>(
    handle: RunnerHandle | undefined,
    op: RequestOp,
    detail: string,
    call: (runner: Runner) => Promise<T>,
    details: RequestDetails = {},
  ): RequestRecord {
    const now = this.hooks.now();
    const request: RequestRecord = { id: this.requests.length + 1, op, issuedAt: now, ...details };
    this.requests.push(request);
    if (op === 'spawn') this.openSpawns.add(request);
    this.hooks.record({ kind: 'request', atMs: now, requestId: request.id, op, detail });
    this.hooks.oracle.onRequest(request, this.hooks.children(), () => this.hooks.live());
    const runner = handle?.alive === true ? handle.runner : undefined;
    if (handle === undefined || runner === undefined) {
      this.answer(request, { op, failure: 'connection refused: no runner is up' });
      return request;
    }
    let pending: Promise<T>;
    try {
      pending = call(runner);
    } catch (error) {
      pending = Promise.reject(error);
    }
    // An answer from a runner that has since crashed never reaches anyone. One that throws, or
    // is not an answer, is a broken adapter: noted (the run then stops with exit 2).
    pending.then(
      (result) => {
        if (!handle.alive) return;
        const wrong = malformedAnswer(op, result);
        if (wrong === undefined) this.answer(request, { op, result } as Answer);
        else this.adapterBroke(request, wrong);
      },
      (error: unknown) => {
        if (!handle.alive) return;
        const thrown = error instanceof Error ? error.message : String(error);
        if (this.hooks.isConnectionFailure?.(error) === true) this.answer(request, { op, failure: thrown });
        else this.adapterBroke(request, `${op} threw "${thrown}": a runner answers errors, it does not throw them`);
      },
    );
    return request;
  }

  /** Spawn requests not yet answered, in the order issued (a child is attributed to the oldest). */
  private readonly openSpawns = new Set<RequestRecord>();
  /** The newest child with each PID, as children start. */
  private readonly childByPid = new Map<number, ChildRecord>();
  /** The requests that took each child for theirs, until an answer names it. */
  private readonly claims = new Map<ChildRecord, Set<RequestRecord>>();

  /** The first way the adapter broke the contract, if it did. */
  brokenAdapter: string | undefined;

  private adapterBroke(request: RequestRecord, problem: string): void {
    this.brokenAdapter ??= `${request.op} request #${request.id}: ${problem}`;
    this.answer(request, { op: request.op, failure: `broken adapter: ${problem}` });
  }

  answer(request: RequestRecord, answer: Answer): void {
    if (!(request.answeredAt === undefined)) throw broken(`${request.op} request #${request.id} answered twice`);
    const now = this.hooks.now();
    request.answeredAt = now;
    request.answer = answer;
    this.openSpawns.delete(request);
    if ('result' in answer && answer.op === 'spawn' && answer.result.pid !== undefined) {
      const named = answer.result.pid;
      // The newest child with that PID (every world attributes each child as it starts).
      const latest = this.childByPid.get(named);
      const child = latest !== undefined && latest.spawnedAt >= request.issuedAt ? latest : undefined;
      if (child !== undefined) {
        request.child = child;
        request.children ??= [];
        if (!request.children.includes(child)) request.children.push(child);
        // The answer says whose child it is: no other request's guess keeps it.
        for (const other of this.claims.get(child) ?? []) {
          if (other === request) continue;
          if (other.child === child) delete other.child;
          if (other.children?.includes(child) === true) other.children = other.children.filter((c) => c !== child);
        }
        this.claims.set(child, new Set([request]));
      }
    }
    this.hooks.record({ kind: 'answer', atMs: now, requestId: request.id, answer });
    this.hooks.oracle.onAnswer(request, answer, this.hooks.children(), () => this.hooks.live(), now);
  }

  /** Plays a request step of a scenario: spawn, stop, list or shutdown. */
  issueStep(
    handle: RunnerHandle | undefined,
    step: RequestStep,
    directory: string,
    sessionFor: (ref: SessionRef) => string,
  ): RequestRecord {
    switch (step.op) {
      case 'spawn': {
        const worktree = step.worktree === true;
        const body = {
          directory,
          sessionType: worktree ? ('worktree' as const) : ('simple' as const),
          ...(step.resume !== undefined ? { resumeSessionId: step.resume } : {}),
          ...(step.worktreeName !== undefined ? { worktreeName: step.worktreeName } : {}),
        };
        const detail = `spawn ${step.resume !== undefined ? `resume ${step.resume}` : 'new session'}${worktree ? ' (worktree)' : ''}`;
        return this.issue(handle, 'spawn', detail, (r) => r.spawnSession(body), {
          worktree,
          directory,
          ...(step.resume !== undefined ? { resumeKey: step.resume } : {}),
          ...(step.worktreeName !== undefined ? { worktreeName: step.worktreeName } : {}),
        });
      }
      case 'stop': {
        const sessionId = sessionFor(step.session);
        return this.issue(handle, 'stop', `stop ${sessionId}`, (r) => r.stopSession(sessionId), { sessionId });
      }
      case 'list':
        return this.issue(handle, 'list', 'list', (r) => r.listSessions());
      case 'shutdown':
        return this.issue(handle, 'shutdown', 'shutdown', (r) => r.shutdown());
    }
  }

  /** The runner died: every request still open gets a dropped connection. */
  dropOpen(reason: string): void {
    for (const request of this.requests)
      if (request.answeredAt === undefined) this.answer(request, { op: request.op, failure: reason });
  }

  /**
   * A first guess at which request a just-started child serves: the oldest open spawn of the same
   * kind for the same session. The answer corrects it when it names its child's PID.
   */
  attribute(child: ChildRecord, worktree: boolean): void {
    // The oldest open spawn of the same kind with no child yet, or whose child already died
    // before its webhook (a runner retrying the boot quietly starts another for it).
    const retrying = (r: RequestRecord): boolean =>
      r.child !== undefined && !r.child.root.alive && r.child.webhookAt === undefined;
    this.childByPid.set(child.root.pid, child);
    const request = [...this.openSpawns].find(
      (r) =>
        r.answeredAt === undefined &&
        (r.child === undefined || retrying(r)) &&
        r.resumeKey === child.resumeKey &&
        (r.worktree ?? false) === worktree,
    );
    if (request === undefined) return;
    request.child = child;
    (request.children ??= []).push(child);
    let claimants = this.claims.get(child);
    if (claimants === undefined) this.claims.set(child, (claimants = new Set()));
    claimants.add(request);
  }

  /**
   * The list the quiescent checks judge: asked of the runner that is up (none up: nothing is
   * listed), given `wait` to answer. A list that never comes is withdrawn, not reported twice:
   * the oracle says the runner did not answer it.
   */
  async finalList(
    handle: RunnerHandle | undefined,
    wait: (answered: () => boolean) => Promise<void>,
  ): Promise<readonly SessionInfo[] | undefined> {
    if (handle?.alive !== true || handle.runner === undefined) return [];
    const request = this.issue(handle, 'list', 'final list (quiescence)', (r) => r.listSessions());
    await wait(() => request.answeredAt !== undefined);
    this.withdraw(request);
    const answer = request.answer;
    return answer !== undefined && answer.op === 'list' && 'result' in answer ? answer.result : undefined;
  }

  /** Takes back a request the world itself made and that was never answered (a hung final list). */
  withdraw(request: RequestRecord): void {
    if (request.answeredAt === undefined) this.requests.splice(this.requests.indexOf(request), 1);
  }
}
