// The trace: what happened in a run, in order, as plain data. The oracle's findings and the
// timeline are both read from it; a trace is JSON-serialisable and identical for one seed.
import type { InvariantId, SessionInfo, SpawnResult, StopResult } from '../runner/contract.ts';
import { WorldLimitError } from './world-limit.ts';
import type { ExitInfo, LogLevel, Signal } from '../runner/ports.ts';
import { broken } from './assert.ts';

export type ProcessRole = 'runner' | 'wrapper' | 'descendant' | 'bystander' | 'init';

export type RequestOp = 'spawn' | 'stop' | 'list' | 'shutdown';

export type Answer =
  | { readonly op: 'spawn'; readonly result: SpawnResult }
  | { readonly op: 'stop'; readonly result: StopResult }
  | { readonly op: 'list'; readonly result: readonly SessionInfo[] }
  | { readonly op: 'shutdown' }
  | { readonly op: RequestOp; readonly failure: string };

export type TraceEvent =
  | { kind: 'request'; atMs: number; requestId: number; op: RequestOp; detail: string }
  | { kind: 'answer'; atMs: number; requestId: number; answer: Answer }
  | {
      kind: 'process-start';
      atMs: number;
      pid: number;
      generation: string;
      ppid: number;
      pgid: number;
      role: ProcessRole;
      spawnIndex?: number;
      cwd: string;
      /** A real run learnt of it only now (the runner signalled it): it started earlier. */
      firstSeen?: boolean;
    }
  | { kind: 'process-exit'; atMs: number; pid: number; role: ProcessRole; spawnIndex?: number; exit: ExitInfo }
  | { kind: 'signal'; atMs: number; from: ProcessRole; target: string; signal: Signal; delivered: boolean }
  | {
      kind: 'webhook';
      atMs: number;
      pid: number;
      sessionId: string;
      startedBy: string;
      forged: boolean;
      /** How long the request took to reach the runner (virtual world, with a webhook latency). */
      inFlightMs?: number;
    }
  | { kind: 'hub'; atMs: number; op: 'register' | 'archive' | 'inactive'; sessionId: string }
  | { kind: 'worktree'; atMs: number; op: 'add' | 'remove'; path: string; error?: string }
  | { kind: 'runner'; atMs: number; op: 'start' | 'crash'; pid: number }
  | { kind: 'log'; atMs: number; level: LogLevel; message: string; fields?: Record<string, unknown> }
  | { kind: 'violation'; atMs: number; invariant: InvariantId; message: string };

export class Trace {
  readonly events: TraceEvent[] = [];

  constructor(private readonly capacity: number) {}

  add(event: TraceEvent): void {
    const last = this.events.at(-1);
    if (!(last === undefined || event.atMs >= last.atMs))
      throw broken(`trace event ${event.kind} at ${event.atMs} ms after one at ${last!.atMs} ms: out of time order`);
    if (this.events.length >= this.capacity) {
      throw new WorldLimitError(
        'trace',
        `trace full (${this.capacity} events, sized from the scenario): the runner keeps acting and does not settle`,
        'look at the runner for a loop that signals, logs or spawns without a bound (run with --logs to see it)',
      );
    }
    this.events.push(event);
  }
}
