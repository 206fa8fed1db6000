// A black-box runner reached over its control protocol. The protocol details live in one
// profile (endpoint names, the stop answer's shape, where the port and token are written), so
// that tiann/hapi's runner and slopus/happy's daemon, its ancestor, are both drivable.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { z } from 'zod';
import type { Runner, SessionInfo, SpawnResult, StopResult } from '../../runner/contract.ts';

export interface ControlProfile {
  readonly name: string;
  /** Where the runner writes its port (and token), given the state directory the harness hands it. */
  stateFile(stateDir: string): string;
  readonly paths: { spawn: string; webhook: string; list: string; stopSession: string; stop: string };
  /** The `startedBy` value its children send. */
  readonly startedBy: string;
  /** Reads its stop answer. */
  stopAnswer(body: unknown): StopResult;
}

const StateSchema = z.looseObject({ httpPort: z.number().int().positive(), token: z.string().optional() });

/** tiann/hapi at HEAD, and this project's reference daemon (which adds the bearer token). */
export const HAPI_PROFILE: ControlProfile = {
  name: 'hapi',
  stateFile: (dir) => join(dir, 'runner.json'),
  paths: { spawn: '/spawn-session', webhook: '/session-started', list: '/list', stopSession: '/stop-session', stop: '/stop' },
  startedBy: 'runner',
  stopAnswer: (body) => z.object({ status: z.enum(['stopped', 'already_gone', 'still_alive']), message: z.string().optional() }).parse(body),
};

/** slopus/happy's daemon: `startedBy: 'daemon'`, and stop answers `{ success: boolean }`. */
export const HAPPY_PROFILE: ControlProfile = {
  name: 'happy',
  stateFile: (dir) => join(dir, 'daemon.state.json'),
  paths: HAPI_PROFILE.paths,
  startedBy: 'daemon',
  stopAnswer: (body) => (z.object({ success: z.boolean() }).parse(body).success ? { status: 'stopped' } : { status: 'already_gone' }),
};

export const PROFILES: Readonly<Record<string, ControlProfile>> = { hapi: HAPI_PROFILE, happy: HAPPY_PROFILE };

export interface RunnerEndpoint {
  readonly url: string;
  readonly token?: string;
}

export function readEndpoint(profile: ControlProfile, stateDir: string): RunnerEndpoint | undefined {
  let text: string;
  try {
    text = readFileSync(profile.stateFile(stateDir), 'utf8');
  } catch {
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined; // being written (not every runner renames its state file into place)
  }
  const parsed = StateSchema.safeParse(json);
  if (!parsed.success) return undefined;
  return { url: `http://127.0.0.1:${parsed.data.httpPort}`, ...(parsed.data.token !== undefined ? { token: parsed.data.token } : {}) };
}

const SpawnAnswerSchema = z.union([
  z.looseObject({ type: z.literal('success'), sessionId: z.string(), pid: z.number().optional() }),
  z.looseObject({ type: z.literal('error'), errorMessage: z.string(), reason: z.string().optional(), pid: z.number().optional() }),
  z.looseObject({ type: z.string() }),
]);
const ListAnswerSchema = z.looseObject({
  children: z.array(z.looseObject({ happySessionId: z.string().optional(), pid: z.number(), startedBy: z.string().optional() })),
});

/** The Runner interface, spoken over HTTP to a runner process. */
export function httpRunner(endpoint: RunnerEndpoint, profile: ControlProfile): Runner {
  const post = async (path: string, body: unknown): Promise<unknown> => {
    const response = await request(`${endpoint.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(endpoint.token !== undefined ? { authorization: `Bearer ${endpoint.token}` } : {}) },
      body: JSON.stringify(body),
      headersTimeout: 600_000,
      bodyTimeout: 600_000,
    });
    const text = await response.body.text();
    if (response.statusCode >= 400) throw new Error(`${path} answered HTTP ${response.statusCode}: ${text.slice(0, 200)}`);
    return text === '' ? {} : JSON.parse(text);
  };
  return {
    async spawnSession(req): Promise<SpawnResult> {
      const answer = SpawnAnswerSchema.parse(
        await post(profile.paths.spawn, {
          directory: req.directory,
          ...(req.resumeSessionId !== undefined ? { sessionId: req.resumeSessionId } : {}),
          ...(req.sessionType !== undefined ? { sessionType: req.sessionType } : {}),
          ...(req.worktreeName !== undefined ? { worktreeName: req.worktreeName } : {}),
        }),
      );
      const pid = typeof answer.pid === 'number' ? { pid: answer.pid } : {};
      if (answer.type === 'success' && typeof answer.sessionId === 'string') return { type: 'success', sessionId: answer.sessionId, pid: typeof answer.pid === 'number' ? answer.pid : 0 };
      const message = typeof answer.errorMessage === 'string' ? answer.errorMessage : `unexpected answer type ${answer.type}`;
      const reason = typeof answer.reason === 'string' ? answer.reason : /exit/i.test(message) ? 'exited' : /timeout/i.test(message) ? 'timeout' : 'spawn-failed';
      return { type: 'error', reason: reason as 'timeout', message, ...pid };
    },
    async sessionStarted(body) {
      await post(profile.paths.webhook, body);
    },
    async stopSession(sessionId) {
      return profile.stopAnswer(await post(profile.paths.stopSession, { sessionId }));
    },
    async listSessions(): Promise<SessionInfo[]> {
      const answer = ListAnswerSchema.parse(await post(profile.paths.list, {}));
      return answer.children
        .filter((c) => c.happySessionId !== undefined)
        .map((c) => ({ sessionId: c.happySessionId!, pid: c.pid, startedBy: c.startedBy === 'terminal' || c.startedBy?.includes('terminal') === true ? 'terminal' : 'runner' }));
    },
    async shutdown() {
      await post(profile.paths.stop, {});
    },
  };
}
