// A black-box runner reached over its control protocol. The protocol details live in one
// profile (endpoint names, the answers' shapes, where the port and token are written, what
// environment and agent CLI it needs, how long it takes to kill), so that tiann/hapi's runner
// and slopus/happy's daemon, its ancestor, are both drivable without glue.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { z } from 'zod';
import {
  SPAWN_ERROR_REASONS,
  type Runner,
  type SessionInfo,
  type SpawnErrorReason,
  type SpawnResult,
  type StopResult,
} from '../../runner/contract.ts';

/** What the harness hands a profile when it launches a runner command. */
export interface LaunchContext {
  readonly stateDir: string;
  /** The harness's hub (msw handlers on loopback), at its origin. */
  readonly hubUrl: string;
  /** A token the runner may present to the hub. */
  readonly hubToken: string;
  /** The fake agent program, and the Node that runs it. */
  readonly fakeAgent: string;
  readonly node: string;
}

export interface ControlProfile {
  readonly name: string;
  /** Where the runner writes its pid and port (and token), given the state directory the harness hands it. */
  stateFile(stateDir: string): string;
  /** Environment the runner command needs beyond the harness's own (home, hub, switches). */
  env(context: LaunchContext): Record<string, string>;
  /** Files the runner needs in its state directory before it starts (credentials, say). */
  prepare?(context: LaunchContext): Record<string, string>;
  /**
   * Programs put first on the runner's PATH, by name: shell scripts. hapi's preflight looks for
   * `claude` (a stub that answers a version does); happy spawns its children as `node <its
   * entrypoint> ... --started-by daemon` (a `node` that runs the fake agent for exactly those).
   */
  shims(context: LaunchContext): Record<string, string>;
  /**
   * A webhook timeout the runner has whatever it is told, in real ms (happy's 15 s): the scenario's
   * timing must then be stretched to it (time scale 1), or timeouts do not fall where it means.
   */
  readonly fixedWebhookTimeoutMs?: number;
  readonly paths: { spawn: string; webhook: string; list: string; stopSession: string; stop: string };
  /** The `startedBy` value its children send in their webhook. */
  readonly startedBy: string;
  /**
   * Real milliseconds the runner may take to stop a tree of `processes` processes, beyond the
   * scenario's own kill deadline: its own kill graces, which no time scale shortens. L1's
   * bounds include it; `--kill-grace` overrides the per-process part.
   */
  stopAllowanceMs(processes: number, killGraceMs?: number): number;
  /** The default per-process kill grace, in real milliseconds. */
  readonly killGraceMs: number;
}

/** tiann/hapi's runner (and this project's reference daemon, which adds a bearer token). */
export const HAPI_PROFILE: ControlProfile = {
  name: 'hapi',
  stateFile: (dir) => join(dir, 'runner.state.json'),
  env: ({ stateDir, hubUrl, hubToken }) => ({
    HAPI_HOME: stateDir,
    HAPI_API_URL: hubUrl,
    CLI_API_TOKEN: hubToken,
    // A runner that restarts itself when its binary changes would leave the harness's watch.
    HAPI_DISABLE_VERSION_HANDOFF: '1',
  }),
  shims: () => ({ claude: versionStub('claude') }),
  paths: {
    spawn: '/spawn-session',
    webhook: '/session-started',
    list: '/list',
    stopSession: '/stop-session',
    stop: '/stop',
  },
  startedBy: 'runner',
  // hapi's killProcessTree: SIGTERM to every process, then per process up to 2 s for it to die,
  // SIGKILL, up to 1 s more; then the stop waits up to 5 s for the root (cli/src/utils/process.ts,
  // cli/src/runner/run.ts).
  killGraceMs: 3_000,
  stopAllowanceMs: (processes, killGraceMs = 3_000) => processes * killGraceMs + 5_000,
};

/**
 * slopus/happy's daemon (`happy daemon start-sync`, the happy-coder package): `startedBy:
 * 'daemon'`; one SIGTERM and no wait on stop; a fixed 15 s webhook timeout. It needs
 * credentials (a legacy `access.key`: a random secret and token, made here) and its server's
 * `POST /v1/machines`, which the harness's hub answers by echoing the encrypted machine back.
 */
export const HAPPY_PROFILE: ControlProfile = {
  name: 'happy',
  stateFile: (dir) => join(dir, 'daemon.state.json'),
  env: ({ stateDir, hubUrl }) => ({ HAPPY_HOME_DIR: stateDir, HAPPY_SERVER_URL: hubUrl }),
  prepare: ({ hubToken }) => ({
    'access.key': JSON.stringify({ secret: randomBytes(32).toString('base64'), token: hubToken }),
  }),
  shims: ({ fakeAgent, node }) => ({
    // happy spawns `node <dist/index.mjs> <agent> ... --started-by daemon`: those become the fake agent.
    node: `#!/bin/sh\n# runner-chaos: happy's children run the fake agent; any other node runs as it would.\nfor arg in "$@"; do\n  if [ "$arg" = "--started-by" ]; then exec ${shellQuote(node)} ${shellQuote(fakeAgent)} "$@"; fi\ndone\nexec ${shellQuote(node)} "$@"\n`,
  }),
  fixedWebhookTimeoutMs: 15_000,
  paths: HAPI_PROFILE.paths,
  startedBy: 'daemon',
  killGraceMs: 1_000,
  stopAllowanceMs: (processes, killGraceMs = 1_000) => processes * killGraceMs,
};

function versionStub(cli: string): string {
  return `#!/bin/sh\n# runner-chaos: a stub for the runner's preflight; the runner spawns the fake agent instead.\necho "0.0.0 (runner-chaos stub of ${cli})"\n`;
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export const PROFILES: Readonly<Record<string, ControlProfile>> = { hapi: HAPI_PROFILE, happy: HAPPY_PROFILE };

export interface RunnerEndpoint {
  readonly url: string;
  readonly token?: string;
  /** The runner's own PID, as its state file gives it. */
  readonly pid?: number;
}

const StateSchema = z.looseObject({
  httpPort: z.number().int().min(1).max(65_535),
  token: z.string().optional(),
  pid: z.number().int().positive().optional(),
});

/** What a state file says, or why it cannot be used yet. */
export type EndpointReading = { readonly endpoint: RunnerEndpoint } | { readonly problem: string };

export function readEndpoint(profile: ControlProfile, stateDir: string): EndpointReading {
  const file = profile.stateFile(stateDir);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { problem: `no ${file} yet` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { problem: `${file} is not JSON (yet?): ${JSON.stringify(text.slice(0, 80))}` };
  }
  const parsed = StateSchema.safeParse(json);
  if (!parsed.success) return { problem: `${file} has no usable httpPort: ${JSON.stringify(text.slice(0, 200))}` };
  return {
    endpoint: {
      url: `http://127.0.0.1:${parsed.data.httpPort}`,
      ...(parsed.data.token !== undefined ? { token: parsed.data.token } : {}),
      ...(parsed.data.pid !== undefined ? { pid: parsed.data.pid } : {}),
    },
  };
}

/** A connection the runner refused or reset: the harness could not reach it, which is not an answer. */
export class UnreachableRunnerError extends Error {
  override readonly name = 'UnreachableRunnerError';
}

// The spawn answer, in either dialect: this project's `{type, ...}`, or hapi's `{success, sessionId?, error?}`.
const SpawnAnswerSchema = z.union([
  z.looseObject({ type: z.literal('success'), sessionId: z.string(), pid: z.number().optional() }),
  z.looseObject({
    type: z.literal('error'),
    errorMessage: z.string().optional(),
    message: z.string().optional(),
    reason: z.string().optional(),
    pid: z.number().optional(),
  }),
  z.looseObject({ success: z.literal(true), sessionId: z.string() }),
  z.looseObject({
    success: z.literal(false),
    error: z.string().optional(),
    requiresUserApproval: z.boolean().optional(),
  }),
]);
// The stop answer: hapi since #1308 (`{status}`), or before it (`{success}`).
const StopStatusAnswerSchema = z.looseObject({
  status: z.enum(['stopped', 'already_gone', 'still_alive']),
  message: z.string().optional(),
});
const StopSuccessAnswerSchema = z.looseObject({ success: z.boolean() });
const ListAnswerSchema = z.looseObject({
  children: z.array(
    z.looseObject({ happySessionId: z.string().optional(), pid: z.number(), startedBy: z.string().optional() }),
  ),
});

/** A spawn error's reason: named by the runner, or read from hapi's message. */
function reasonOf(named: string | undefined, message: string): SpawnErrorReason {
  const known = SPAWN_ERROR_REASONS.find((r) => r === named);
  if (known !== undefined) return known;
  if (/exited before webhook|exited/i.test(message)) return 'exited';
  if (/timeout/i.test(message)) return 'timeout';
  if (/worktree/i.test(message)) return 'worktree-failed';
  return 'spawn-failed';
}

/**
 * The meaning of a stop answer. hapi before #1308 answered `{success: true}` once it had asked
 * for the kill (fire and forget) and untracked the session: it claimed the session stopped.
 * `{success: false}` meant "no tracked session has that id", which says nothing about whether
 * a process still lives: it is read as `still_alive` (hapi's own fail-closed answer since #1308),
 * never as `already_gone`, which claims an exit that nobody observed.
 */
export function readStopAnswer(body: unknown): StopResult {
  const current = StopStatusAnswerSchema.safeParse(body);
  if (current.success)
    return {
      status: current.data.status,
      ...(current.data.message !== undefined ? { message: current.data.message } : {}),
    };
  const old = StopSuccessAnswerSchema.safeParse(body);
  if (!old.success)
    throw new Error(`the stop answer is neither {status} nor {success}: ${JSON.stringify(body).slice(0, 200)}`);
  return old.data.success
    ? { status: 'stopped', message: '{success: true}: the kill was requested' }
    : { status: 'still_alive', message: '{success: false}: no tracked session has that id' };
}

export interface HttpRunnerOptions {
  /** The PID of the child that reported `sessionId`, when the answer names none (hapi's does not). */
  pidOfSession(sessionId: string): Promise<number | undefined>;
  /** A PID as the runner gave it, as this machine knows it (they differ in a sandbox). */
  toHostPid?(pid: number): number;
}

/** The Runner interface, spoken over HTTP to a runner process. */
export function httpRunner(endpoint: RunnerEndpoint, profile: ControlProfile, options: HttpRunnerOptions): Runner {
  const post = async (path: string, body: unknown): Promise<{ status: number; json: unknown }> => {
    let response;
    try {
      response = await request(`${endpoint.url}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(endpoint.token !== undefined ? { authorization: `Bearer ${endpoint.token}` } : {}),
        },
        body: JSON.stringify(body),
        headersTimeout: 600_000,
        bodyTimeout: 600_000,
      });
    } catch (error) {
      const code = (error as { code?: string }).code ?? (error as Error).message;
      throw new UnreachableRunnerError(`POST ${endpoint.url}${path}: ${code}`);
    }
    const text = await response.body.text();
    let json: unknown;
    try {
      json = text === '' ? {} : JSON.parse(text);
    } catch {
      throw new Error(
        `${path} answered HTTP ${response.statusCode} with a body that is not JSON: ${JSON.stringify(text.slice(0, 200))}`,
      );
    }
    return { status: response.statusCode, json };
  };
  const host = (pid: number): number => options.toHostPid?.(pid) ?? pid;
  const ok = (path: string, answer: { status: number; json: unknown }): unknown => {
    if (answer.status >= 400)
      throw new Error(`${path} answered HTTP ${answer.status}: ${JSON.stringify(answer.json).slice(0, 200)}`);
    return answer.json;
  };
  return {
    async spawnSession(req): Promise<SpawnResult> {
      const raw = await post(profile.paths.spawn, {
        directory: req.directory,
        ...(req.resumeSessionId !== undefined ? { sessionId: req.resumeSessionId } : {}),
        ...(req.sessionType !== undefined ? { sessionType: req.sessionType } : {}),
        ...(req.worktreeName !== undefined ? { worktreeName: req.worktreeName } : {}),
      });
      // hapi answers errors with HTTP 500 (and 409 for "approve creating the directory") and a body.
      const parsed = SpawnAnswerSchema.safeParse(raw.json);
      if (!parsed.success)
        throw new Error(
          `${profile.paths.spawn} answered HTTP ${raw.status} with an unknown shape: ${JSON.stringify(raw.json).slice(0, 200)}`,
        );
      const answer = parsed.data;
      if (('type' in answer && answer.type === 'success') || ('success' in answer && answer.success)) {
        const sessionId = (answer as { sessionId: string }).sessionId;
        const named = (answer as { pid?: number }).pid;
        // A missing pid is found through the OS (the child that reported the session), never taken as 0.
        const pid = typeof named === 'number' ? host(named) : ((await options.pidOfSession(sessionId)) ?? -1);
        return { type: 'success', sessionId, pid };
      }
      const a = answer as {
        errorMessage?: string;
        message?: string;
        error?: string;
        reason?: string;
        pid?: number;
        requiresUserApproval?: boolean;
      };
      const message = a.errorMessage ?? a.message ?? a.error ?? `HTTP ${raw.status}`;
      const reason = a.requiresUserApproval === true ? 'invalid-request' : reasonOf(a.reason, message);
      return { type: 'error', reason, message, ...(typeof a.pid === 'number' ? { pid: host(a.pid) } : {}) };
    },
    async sessionStarted(body) {
      ok(profile.paths.webhook, await post(profile.paths.webhook, body));
    },
    async stopSession(sessionId) {
      return readStopAnswer(ok(profile.paths.stopSession, await post(profile.paths.stopSession, { sessionId })));
    },
    async listSessions(): Promise<SessionInfo[]> {
      const answer = ListAnswerSchema.parse(ok(profile.paths.list, await post(profile.paths.list, {})));
      return answer.children
        .filter((c) => c.happySessionId !== undefined)
        .map((c) => ({
          sessionId: c.happySessionId!,
          pid: host(c.pid),
          startedBy: c.startedBy === 'terminal' || c.startedBy?.includes('terminal') === true ? 'terminal' : 'runner',
        }));
    },
    async shutdown() {
      ok(profile.paths.stop, await post(profile.paths.stop, {}));
    },
  };
}
