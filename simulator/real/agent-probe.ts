// The canary of a black-box check: before any scenario, the harness starts one fake agent
// itself and proves that it can see it (in /proc, by the run's marker) and that it comes up
// (its `.up` file), and measures how long a start takes on this machine now. A harness that
// cannot see its own agents would report "held" for trees it never saw; one whose agents start
// slower than the runner's timeout would judge children that never ran. Both are refused.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findMarked, readStat, signalIfSame } from '../../runner/node/proc.ts';
import { fakeAgentPath } from './fake-agent-path.ts';
import { HarnessError } from './harness-error.ts';
import { AGENT_DIR_ENV, RUN_MARKER_ENV, RUN_PREFIX_ENV, SPAWN_INDEX_ENV } from '../../runner/wire.mjs';

/** How long the canary may take to come up before the machine is called unusable. */
const PROBE_TIMEOUT_MS = 20_000;

export interface AgentProbe {
  /** Real ms from spawn to the agent's `.up` (its tree forked, its plan running). */
  readonly startMs: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Starts one fake agent, waits for it to be up and visible by its marker, then kills it (identity checked). */
export async function probeAgent(): Promise<AgentProbe> {
  const dir = mkdtempSync(join(tmpdir(), 'runner-chaos-probe-'));
  const runId = `${process.env[RUN_PREFIX_ENV] ?? 'probe'}-probe-${process.pid}-${Date.now()}`;
  mkdirSync(join(dir, 'claims'));
  // A plan with no tree, no webhook and no hub: it only comes up and waits.
  const plan = {
    bootDelayMs: 3_600_000,
    webhook: 'never',
    hubRegistration: 'never',
    hubLeadMs: 0,
    exitCode: 1,
    ignoresSigterm: false,
    dieDelayMs: 0,
    tree: [],
  };
  writeFileSync(join(dir, 'plan.json'), JSON.stringify({ timeScale: 1, plans: [plan], defaultPlan: plan }));
  const started = performance.now();
  const child = spawn(process.execPath, [fakeAgentPath(), 'canary'], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, [RUN_MARKER_ENV]: runId, [AGENT_DIR_ENV]: dir, [SPAWN_INDEX_ENV]: '0' },
  });
  child.unref();
  const pid = child.pid ?? 0;
  const starttime = readStat(pid)?.starttime;
  try {
    while (!existsSync(join(dir, 'claims', '0.up'))) {
      const error = join(dir, 'claims', '0.error');
      if (existsSync(error))
        throw new HarnessError(`the fake agent cannot run here: ${readFileSync(error, 'utf8').split('\n')[0]}`);
      if (readStat(pid)?.starttime !== starttime)
        throw new HarnessError(
          `the fake agent (${fakeAgentPath()}) exited at once with ${process.execPath}: it cannot run here`,
        );
      if (performance.now() - started > PROBE_TIMEOUT_MS)
        throw new HarnessError(
          `the fake agent did not come up within ${PROBE_TIMEOUT_MS / 1000} s: this machine is too loaded to check a runner now`,
        );
      await sleep(10);
    }
    const startMs = Math.round(performance.now() - started);
    if (!findMarked(RUN_MARKER_ENV, runId).some((p) => p.pid === pid)) {
      throw new HarnessError(
        `the harness cannot see its own agent (pid ${pid}) in /proc by its marker ${RUN_MARKER_ENV}: children could not be found; is /proc mounted with hidepid, or the harness in another PID namespace?`,
      );
    }
    return { startMs };
  } finally {
    if (starttime !== undefined) signalIfSame(pid, starttime, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
