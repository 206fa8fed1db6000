// The reference runner over the real Node adapters when the world fails it: an agent command
// that is missing or not executable, git refusing a worktree, the hub down. Every request is
// answered, every error says what went wrong, and nothing is left behind.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createReferenceRunner } from '../core/reference-runner.ts';
import { resolveRunnerConfig, type RunnerConfigInput } from '../config.ts';
import { nodePorts, JsonLinesLogger } from './node-ports.ts';
import { GitWorktreeHost } from './git-worktree-host.ts';
import { startControlServer } from './control-server.ts';
import { findMarked, signalIfSame } from './proc.ts';
import { gitTestEnv } from './test-support.ts';

const linux = process.platform === 'linux';
const FAKE_AGENT = new URL('../../fixtures/agents/fake-agent.mjs', import.meta.url).pathname;
let dir = '';
let repo = '';
let runId = '';
let logs: string[] = [];
let counter = 0;
const toStop: Array<() => Promise<void>> = [];

function makeRunner(config: RunnerConfigInput, hubUrl?: string) {
  const ports = nodePorts({
    statePath: join(dir, `state-${++counter}.json`),
    extraEnv: { RUNNER_CHAOS_RUN: runId, RUNNER_CHAOS_AGENT_DIR: join(dir, 'agent') },
    logger: new JsonLinesLogger((line) => logs.push(line)),
    ...(hubUrl !== undefined ? { hubUrl } : {}),
  });
  const runner = createReferenceRunner(
    ports,
    resolveRunnerConfig({ webhookTimeoutMs: 3_000, termGraceMs: 200, killGraceMs: 200, ...config }),
  );
  toStop.push(async () => {
    await runner.shutdown();
    ports.clock.clearAll();
  });
  return runner;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'runner-chaos-faults-'));
  runId = `${process.env.RUNNER_CHAOS_RUN_PREFIX ?? 'test'}-faults-${process.pid}-${++counter}`;
  logs = [];
  repo = join(dir, 'repo');
  const env = gitTestEnv();
  execFileSync('git', ['init', '-q', repo], { env });
  writeFileSync(join(repo, 'f'), 'x');
  execFileSync('git', ['-C', repo, 'add', 'f'], { env });
  execFileSync('git', ['-C', repo, 'commit', '-q', '-m', 'i'], { env });
  mkdirSync(join(dir, 'agent', 'claims'), { recursive: true });
  writeFileSync(
    join(dir, 'agent', 'plan.json'),
    JSON.stringify({
      timeScale: 1,
      defaultPlan: {
        bootDelayMs: 200,
        webhook: 'never',
        hubRegistration: 'never',
        hubLeadMs: 0,
        exitCode: 1,
        ignoresSigterm: false,
        dieDelayMs: 5,
        tree: [{}],
      },
      plans: [],
    }),
  );
});

afterEach(async () => {
  for (const stop of toStop.splice(0)) await stop();
  for (const p of findMarked('RUNNER_CHAOS_RUN', runId)) signalIfSame(p.pid, p.starttime, 'SIGKILL');
  // Each runner's shutdown (in toStop) has waited for its last state write: nothing lands after.
  rmSync(dir, { recursive: true, force: true });
});

describe.runIf(linux)('runner faults over the real adapters', { timeout: 30_000 }, () => {
  it('a missing agent command: the spawn fails with ENOENT, and its worktree is removed again', async () => {
    const runner = makeRunner({ agentCommand: join(dir, 'no-such-agent') });
    expect(await runner.spawnSession({ directory: repo })).toMatchObject({
      type: 'error',
      reason: 'spawn-failed',
      message: expect.stringContaining('ENOENT'),
    });
    expect(await runner.spawnSession({ directory: repo, sessionType: 'worktree' })).toMatchObject({
      type: 'error',
      reason: 'spawn-failed',
    });
    for (let i = 0; i < 50 && (await new GitWorktreeHost().list(repo)).length > 0; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(await new GitWorktreeHost().list(repo)).toEqual([]);
  });

  it('an agent command that is not executable: the spawn fails with EACCES', async () => {
    const script = join(dir, 'not-executable.sh');
    writeFileSync(script, '#!/bin/sh\nsleep 100\n');
    chmodSync(script, 0o644);
    const runner = makeRunner({ agentCommand: script });
    expect(await runner.spawnSession({ directory: repo })).toMatchObject({
      type: 'error',
      reason: 'spawn-failed',
      message: expect.stringContaining('EACCES'),
    });
  });

  it('git fails mid-way (something in the way of the worktree): the spawn says why, and nothing starts', async () => {
    const runner = makeRunner({ agentCommand: process.execPath, agentArgs: [FAKE_AGENT] });
    writeFileSync(join(dir, 'repo.worktrees'), 'a file where git wants a directory');
    const answer = await runner.spawnSession({ directory: repo, sessionType: 'worktree' });
    expect(answer).toMatchObject({
      type: 'error',
      reason: 'worktree-failed',
      message: expect.stringMatching(/git worktree add failed: .*git worktree/),
    });
    expect(await new GitWorktreeHost().list(repo)).toEqual([]);
    expect(findMarked('RUNNER_CHAOS_RUN', runId).filter((p) => p.env.has('HAPI_RUNNER_SPAWN_MARKER'))).toEqual([]);
  });

  it('the hub is down: a stop still kills the whole tree and answers "stopped"; the failure is logged', async () => {
    writeFileSync(
      join(dir, 'agent', 'plan.json'),
      JSON.stringify({
        timeScale: 1,
        defaultPlan: {
          bootDelayMs: 100,
          webhook: 'on-time',
          hubRegistration: 'never',
          hubLeadMs: 0,
          exitCode: 1,
          ignoresSigterm: false,
          dieDelayMs: 5,
          tree: [{ escape: 'setsid' }],
        },
        plans: [],
      }),
    );
    // Port 9 (discard) is closed here: every archive call fails to connect.
    const extraEnv: Record<string, string> = { RUNNER_CHAOS_RUN: runId, RUNNER_CHAOS_AGENT_DIR: join(dir, 'agent') };
    const ports = nodePorts({
      statePath: join(dir, 'hub-down.json'),
      hubUrl: 'http://127.0.0.1:9',
      extraEnv,
      logger: new JsonLinesLogger((line) => logs.push(line)),
    });
    const runner = createReferenceRunner(
      ports,
      resolveRunnerConfig({
        agentCommand: process.execPath,
        agentArgs: [FAKE_AGENT],
        webhookTimeoutMs: 5_000,
        termGraceMs: 200,
        killGraceMs: 200,
      }),
    );
    const control = await startControlServer({ runner, token: 'hub-down-token' });
    // As the daemon does: children learn the control server's address once it listens.
    Object.assign(extraEnv, { HAPI_RUNNER_URL: control.url, HAPI_RUNNER_TOKEN: 'hub-down-token' });
    toStop.push(async () => {
      await control.server.close();
      await runner.shutdown();
      ports.clock.clearAll();
    });
    expect(await runner.spawnSession({ directory: repo })).toMatchObject({ type: 'success', sessionId: 'sess-1' });
    expect(await runner.stopSession('sess-1')).toEqual({ status: 'stopped' });
    expect(findMarked('RUNNER_CHAOS_RUN', runId).filter((p) => p.env.has('HAPI_RUNNER_SPAWN_MARKER'))).toEqual([]);
    // The archive runs after the answer: its failure is logged a moment later.
    for (let i = 0; i < 100 && !logs.some((line) => /hub archive failed/.test(line)); i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(logs.some((line) => /hub archive failed/.test(line))).toBe(true);
  });
});
