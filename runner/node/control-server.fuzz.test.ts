// Fuzzing the control server over real HTTP: whatever a peer sends, every answer is a 2xx or a
// clear 4xx, nothing crashes, no ghost appears, and the bystanders it names are never signalled.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startControlServer } from './control-server.ts';
import { nodePorts, JsonLinesLogger } from './node-ports.ts';
import { createReferenceRunner } from '../core/reference-runner.ts';
import { resolveRunnerConfig } from '../config.ts';
import { findMarked, signalIfSame } from './proc.ts';

const linux = process.platform === 'linux';
const RUNS = 1_000;
let dir = '';
let runId = '';
let url = '';
let token = '';
let bystander: ChildProcess | undefined;
let canaryLog = '';
let close: () => Promise<void> = async () => {};
let runner: ReturnType<typeof createReferenceRunner>;

beforeAll(async () => {
  if (!linux) return;
  dir = mkdtempSync(join(tmpdir(), 'runner-chaos-fuzz-'));
  runId = `${process.env.RUNNER_CHAOS_RUN_PREFIX ?? 'test'}-fuzz-${process.pid}`;
  canaryLog = join(dir, 'canary.log');
  const canary = `const fs=require('fs');for(const s of ['SIGTERM','SIGHUP','SIGINT'])process.on(s,()=>fs.appendFileSync(${JSON.stringify(canaryLog)},s+'\\n'));fs.writeFileSync(${JSON.stringify(canaryLog)},'');setInterval(()=>{},1<<30);`;
  bystander = spawn(process.execPath, ['-e', canary], {
    stdio: 'ignore',
    env: { ...process.env, RUNNER_CHAOS_RUN: runId },
  });
  for (let i = 0; i < 100 && !existsSync(canaryLog); i++) await new Promise((r) => setTimeout(r, 20));
  const ports = nodePorts({
    statePath: join(dir, 'state.json'),
    extraEnv: { RUNNER_CHAOS_RUN: runId },
    logger: new JsonLinesLogger(() => {}),
  });
  runner = createReferenceRunner(
    ports,
    resolveRunnerConfig({
      agentCommand: '/nonexistent/agent',
      webhookTimeoutMs: 500,
      termGraceMs: 200,
      killGraceMs: 200,
    }),
  );
  token = 'fuzz-token-0123456789';
  const control = await startControlServer({ runner, token });
  url = control.url;
  close = async () => {
    await control.server.close();
    await runner.shutdown();
    ports.clock.clearAll();
  };
});

afterAll(async () => {
  if (!linux) return;
  await close();
  for (const p of findMarked('RUNNER_CHAOS_RUN', runId)) signalIfSame(p.pid, p.starttime, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const paths = fc.constantFrom(
  '/spawn-session',
  '/session-started',
  '/list',
  '/stop-session',
  '/nope',
  '/spawn-session/../list',
);
const pidArb = () =>
  fc.oneof(
    fc.constant(bystander?.pid ?? 1),
    fc.constant(process.pid),
    fc.constant(1),
    fc.integer({ min: -5, max: 5_000_000 }),
    fc.double(),
  );
const bodyArb = () =>
  fc.oneof(
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 200 }),
    fc
      .record(
        {
          sessionId: fc.oneof(fc.string({ maxLength: 300 }), fc.integer()),
          metadata: fc.record(
            { hostPid: pidArb(), startedBy: fc.oneof(fc.constantFrom('runner', 'terminal', 'daemon'), fc.string()) },
            { requiredKeys: [] },
          ),
          directory: fc.oneof(fc.constantFrom('/nonexistent', '', '/etc/passwd'), fc.string()),
          sessionType: fc.oneof(fc.constantFrom('simple', 'worktree'), fc.string()),
          worktreeName: fc.string({ maxLength: 80 }),
        },
        { requiredKeys: [] },
      )
      .map((v) => JSON.stringify(v)),
    fc.constant('x'.repeat(70_000)),
  );
const contentTypes = fc.constantFrom(
  'application/json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/json; charset=utf-8',
);
const tokens = fc.oneof(
  { weight: 8, arbitrary: fc.constant('good') },
  { weight: 1, arbitrary: fc.constant('none') },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
);

describe.runIf(linux)('control server under fuzzing', { timeout: 120_000 }, () => {
  it(`answers ${RUNS} hostile requests with 2xx or a clear 4xx, and changes nothing it should not`, async () => {
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(paths, bodyArb(), contentTypes, tokens, async (path, body, contentType, which) => {
        const auth =
          which === 'good'
            ? { authorization: `Bearer ${token}` }
            : which === 'none'
              ? {}
              : { authorization: `Bearer ${which}` };
        const response = await request(`${url}${path}`, {
          method: 'POST',
          headers: { 'content-type': contentType, ...auth },
          body,
        });
        const text = await response.body.text();
        seen.set(response.statusCode, (seen.get(response.statusCode) ?? 0) + 1);
        expect([200, 400, 401, 404, 413, 415]).toContain(response.statusCode);
        const json = JSON.parse(text) as { error?: string };
        if (response.statusCode >= 400) expect(json.error?.length ?? 0).toBeGreaterThan(3);
        if (which !== 'good') expect(response.statusCode).toBe(401);
      }),
      { numRuns: RUNS, seed: 77 },
    );
    // Every kind of answer came up, so the fuzzing reached past the token and the parser.
    expect([...seen.keys()].sort()).toEqual(expect.arrayContaining([200, 400, 401, 404, 413, 415]));
    // No ghost: anything listed was declared started from a terminal by a living process.
    for (const s of await runner.listSessions()) expect(s.startedBy).toBe('terminal');
    // The bystander and the harness were named in forged webhooks: never signalled.
    expect(readFileSync(canaryLog, 'utf8')).toBe('');
    expect(bystander?.exitCode).toBeNull();
    expect(findMarked('RUNNER_CHAOS_RUN', runId).filter((p) => p.env.has('HAPI_RUNNER_SPAWN_MARKER'))).toEqual([]);
  });
});
