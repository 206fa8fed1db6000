// The runner contract: the operations a runner offers, the shapes of its requests and answers,
// and how a runner module describes itself to the harness. Other runners import against this.
import { z } from 'zod';
import type { RunnerPorts } from './ports.ts';
import type { RunnerConfig } from './config.ts';

// The environment variables a runner hands its children and the harness reads back: part of
// the contract (SPAWN_TOKEN_ENV above all: a child that echoes it proves its webhook is its own).
export {
  SPAWN_TOKEN_ENV,
  SPAWN_MARKER_ENV,
  OWNER_ENV,
  BOOT_ENV,
  CLI_EXECUTABLE_ENV,
  WEBHOOK_TIMEOUT_ENV,
  RUNNER_URL_ENV,
  RUNNER_TOKEN_ENV,
} from './wire.mjs';

export const SpawnRequestSchema = z.strictObject({
  /** Working directory (for a worktree session: the repository the worktree is made from). */
  directory: z.string().min(1),
  /** Resume this existing session (the agent continues its conversation) instead of a new one. */
  resumeSessionId: z.string().min(1).max(200).optional(),
  sessionType: z.enum(['simple', 'worktree']).default('simple'),
  worktreeName: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'worktreeName: 1-64 of A-Z a-z 0-9 . _ -')
    .optional(),
});
export type SpawnRequest = z.input<typeof SpawnRequestSchema>;

/** Every reason a spawn error may give: an answer with any other is not one the contract allows. */
export const SPAWN_ERROR_REASONS = [
  'timeout', // no webhook within the webhook timeout
  'exited', // the child exited before its webhook
  'spawn-failed', // the OS refused to start the child (ENOENT, EACCES...)
  'worktree-failed', // git could not make the worktree
  'busy', // too many spawns in flight, or the session is still being torn down
  'shutting-down',
  'invalid-request',
] as const;
export type SpawnErrorReason = (typeof SPAWN_ERROR_REASONS)[number];

export type SpawnResult =
  | { readonly type: 'success'; readonly sessionId: string; readonly pid: number }
  | {
      readonly type: 'error';
      readonly reason: SpawnErrorReason;
      readonly message: string;
      /** The child that was started for this request, when one was. */
      readonly pid?: number;
    };

/**
 * `stopped`: the session's whole process tree is verified dead (the runner killed it).
 * `already_gone`: it was dead before this stop (it exited, or an earlier stop killed it).
 * `still_alive`: something of the tree survived SIGKILL (D state), so the runner cannot say it
 * is dead. A session id the runner does not know (never its own, forgotten by a restart, or
 * one of more than `config.maxTombstones` ended since) is answered `still_alive` with a message
 * saying it is unknown: the runner cannot prove anything is dead, so it fails closed (hapi
 * #1308). Never `stopped` for an id it does not know; and never `still_alive` for a session the
 * same runner process granted, whose tree died before the stop, within those bounds: it knows.
 */
export type StopStatus = 'stopped' | 'already_gone' | 'still_alive';
export interface StopResult {
  readonly status: StopStatus;
  readonly message?: string;
}

export const StartedBySchema = z.enum(['runner', 'terminal']);
export type StartedBy = z.infer<typeof StartedBySchema>;

/** The "session started" webhook a child posts (hapi's `/session-started`). */
export const SessionWebhookSchema = z.object({
  sessionId: z.string().min(1).max(200),
  metadata: z.looseObject({
    hostPid: z.number().int().positive().max(4_194_304),
    startedBy: StartedBySchema,
    /** The spawn token from the child's environment (HAPI_RUNNER_SPAWN_TOKEN), if it was given one. */
    spawnToken: z.string().max(200).optional(),
  }),
});
export type SessionWebhook = z.infer<typeof SessionWebhookSchema>;

export interface SessionInfo {
  readonly sessionId: string;
  readonly pid: number;
  readonly startedBy: StartedBy;
}

export interface Runner {
  spawnSession(request: SpawnRequest): Promise<SpawnResult>;
  /** Takes the raw body: validating what a peer process sent is the runner's job. */
  sessionStarted(body: unknown): Promise<void>;
  stopSession(sessionId: string): Promise<StopResult>;
  /** Sessions with an id: in-flight and timed-out children are not sessions. */
  listSessions(): Promise<SessionInfo[]>;
  /** Stops every session it spawned and releases its timers. */
  shutdown(): Promise<void>;
}

export const INVARIANTS = ['S1', 'S2', 'S3', 'S4', 'A1', 'A2', 'A3', 'A4', 'L1', 'L2', 'L3', 'T1'] as const;
export type InvariantId = (typeof INVARIANTS)[number];

export const INVARIANT_NAMES: Readonly<Record<InvariantId, string>> = {
  S1: 'no ghost session',
  S2: 'no leaked process',
  S3: 'no leaked worktree',
  S4: 'shutdown means shut down',
  A1: 'no premature worktree removal',
  A2: 'never signal a stranger',
  A3: 'one child per session',
  A4: 'no collateral kill',
  L1: 'every request answered',
  L2: 'a stop stops',
  L3: 'a healthy spawn succeeds',
  T1: 'truthful answers',
};

/** What a runner module exports (as `default` or `runner`) for the harness to drive it. */
export interface RunnerDefinition {
  readonly name: string;
  readonly description: string;
  /** Invariants this runner is known to break; empty for a runner that must pass. */
  readonly declares: readonly InvariantId[];
  /** The upstream history it models, for known-bad runners. */
  readonly models?: string;
  /**
   * Builds the runner. It may be async, but must resolve without virtual time passing: it may
   * not await a port timer, and I/O with a latency (a state load, a git call) belongs in the
   * runner's first operations (await an internal "ready" promise there), not in create().
   * A create() that throws, hangs or resolves to something that is not a Runner is a broken
   * adapter: the harness stops with exit 2, never a pass.
   */
  create(ports: RunnerPorts, config: RunnerConfig): Runner | Promise<Runner>;
}
