// The reference runner as a real daemon, over real HTTP: the control protocol, its token, its
// body checks, and a clean stop. The daemon and everything it spawns carry this test's marker.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { findMarked, signalIfSame } from './proc.ts';
import { agentPlanFor, parseScenario } from '../../simulator/scenario.ts';

const linux = process.platform === 'linux';
const root = new URL('../../', import.meta.url).pathname;
let dir = '';
let runId = '';
let daemon: ChildProcess | undefined;
let base = '';
let token = '';
let counter = 0;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Processes the daemon spawned for sessions (they carry its spawn marker), not its own helpers. */
const sessionProcesses = () =>
  findMarked('RUNNER_CHAOS_RUN', runId).filter((p) => p.env.has('HAPI_RUNNER_SPAWN_MARKER'));

async function call(
  path: string,
  body: unknown,
  options: { token?: string | null; contentType?: string; raw?: string } = {},
) {
  const auth = options.token === null ? {} : { authorization: `Bearer ${options.token ?? token}` };
  const response = await request(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': options.contentType ?? 'application/json', ...auth },
    body: options.raw ?? JSON.stringify(body),
  });
  return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown> };
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'runner-chaos-daemon-'));
  runId = `${process.env.RUNNER_CHAOS_RUN_PREFIX ?? 'test'}-daemon-${process.pid}-${++counter}`;
  const agentDir = join(dir, 'agent');
  mkdirSync(join(agentDir, 'claims'), { recursive: true });
  const scenario = parseScenario({
    agent: { bootDelayMs: 300, tree: [{ escape: 'setsid' }, { escape: 'double-fork' }] },
    steps: [],
  });
  writeFileSync(
    join(agentDir, 'plan.json'),
    JSON.stringify({ timeScale: 1, defaultPlan: agentPlanFor(scenario, 0), plans: [] }),
  );
  daemon = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'cli/daemon-bin.ts',
      '--state-dir',
      join(dir, 'state'),
      '--agent-command',
      process.execPath,
      '--agent-arg',
      join(root, 'fixtures/agents/fake-agent.mjs'),
      '--webhook-timeout-ms',
      '5000',
    ],
    {
      cwd: root,
      env: { ...process.env, RUNNER_CHAOS_RUN: runId, RUNNER_CHAOS_AGENT_DIR: agentDir },
      stdio: 'ignore',
    },
  );
  const stateFile = join(dir, 'state', 'runner.state.json');
  // The daemon starts through tsx: seconds on a loaded machine. Bounded generously (60 s).
  for (let i = 0; i < 1_200 && !existsSync(stateFile); i++) await sleep(50);
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { httpPort: number; token: string; pid: number };
  expect(state.pid).toBe(daemon.pid);
  base = `http://127.0.0.1:${state.httpPort}`;
  token = state.token;
}, 90_000);

afterEach(async () => {
  // Also after a failed test: the daemon and all it spawned carry runId; identity checked first.
  for (let round = 0; round < 20; round++) {
    const left = findMarked('RUNNER_CHAOS_RUN', runId);
    if (left.length === 0) break;
    for (const p of left) signalIfSame(p.pid, p.starttime, 'SIGKILL');
    await sleep(50);
  }
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe.runIf(linux)('the runner daemon and its control server', { timeout: 90_000 }, () => {
  it('spawns, lists and stops a session over HTTP, and stops itself cleanly', async () => {
    const spawned = await call('/spawn-session', { directory: dir });
    expect(spawned).toMatchObject({ status: 200, body: { type: 'success', sessionId: 'sess-1' } });
    const list = await call('/list', {});
    expect(list.body).toEqual({ children: [{ startedBy: 'runner', happySessionId: 'sess-1', pid: spawned.body.pid }] });
    expect(sessionProcesses().length).toBe(3); // the agent, its setsid child, its double-forked one
    expect(await call('/stop-session', { sessionId: 'sess-1' })).toMatchObject({
      status: 200,
      body: { status: 'stopped' },
    });
    // The session's whole tree went, escapees too.
    expect(sessionProcesses()).toEqual([]);
    expect(await call('/stop-session', { sessionId: 'sess-1' })).toMatchObject({ body: { status: 'already_gone' } });
    expect(await call('/stop-session', { sessionId: 'never-was' })).toMatchObject({ body: { status: 'still_alive' } });
    const exited = new Promise<number | null>((resolve) => daemon!.once('exit', resolve));
    expect(await call('/stop', {})).toMatchObject({ status: 200, body: { status: 'stopping' } });
    expect(await exited).toBe(0);
    expect(existsSync(join(dir, 'state', 'runner.state.json'))).toBe(false);
  });

  it('answers bad requests with a clear 4xx and changes nothing', async () => {
    expect(await call('/list', {}, { token: null })).toMatchObject({
      status: 401,
      body: { error: expect.stringMatching(/bearer token/) },
    });
    expect(await call('/list', {}, { token: 'wrong' })).toMatchObject({ status: 401 });
    expect(await call('/spawn-session', { directory: 42 })).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/^directory:/) },
    });
    expect(await call('/spawn-session', { directory: dir, extra: 1 })).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/extra/) },
    });
    expect(await call('/spawn-session', null, { raw: '{"directory": ' })).toMatchObject({ status: 400 });
    expect(
      await call('/spawn-session', null, { raw: 'directory=x', contentType: 'application/x-www-form-urlencoded' }),
    ).toMatchObject({ status: 415 });
    expect(await call('/spawn-session', { directory: 'x'.repeat(100_000) })).toMatchObject({ status: 413 });
    expect(await call('/session-started', { sessionId: 's', metadata: { hostPid: 'x' } })).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/metadata\.hostPid/) },
    });
    expect(await call('/nowhere', {})).toMatchObject({ status: 404 });
    expect((await call('/list', {})).body).toEqual({ children: [] });
    expect(sessionProcesses()).toEqual([]);
  });

  it('ignores forged webhooks: nothing signalled, no ghost', async () => {
    const forged = [
      { sessionId: 'evil', metadata: { hostPid: daemon!.pid, startedBy: 'runner' } },
      { sessionId: 'evil-2', metadata: { hostPid: process.pid, startedBy: 'runner' } },
    ];
    for (const body of forged)
      expect(await call('/session-started', body)).toMatchObject({ status: 200, body: { status: 'ok' } });
    // The daemon handles requests in order: once /list answers, the webhooks have been handled.
    await call('/list', {});
    expect(daemon!.exitCode).toBeNull();
    expect((await call('/list', {})).body).toEqual({ children: [] });
  });
});
