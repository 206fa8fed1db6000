// The reference runner as a daemon: `pnpm runner`. It serves the HAPI-compatible control
// protocol on 127.0.0.1 (random port), writes {pid, httpPort, token, startedAt} to
// <state dir>/runner.state.json (mode 600; tiann/hapi's name and fields, plus the token), and spawns the agent command it is given. SIGTERM, SIGINT
// or POST /stop shut it down: every session it spawned is stopped, its tree verified dead.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { resolveRunnerConfig } from './config.ts';
import { referenceRunner } from './reference.ts';
import type { RunnerDefinition } from './contract.ts';
import { CLI_EXECUTABLE_ENV, RUNNER_TOKEN_ENV, RUNNER_URL_ENV } from './wire.mjs';
import { startControlServer } from './node/control-server.ts';
import { nodePorts } from './node/node-ports.ts';

/** The state file's name: tiann/hapi's, so `--profile hapi` finds it as it finds hapi's. */
export const STATE_FILE = 'runner.state.json';

export interface DaemonOptions {
  stateDir: string;
  agentCommand?: string;
  agentArg?: string[];
  hubUrl?: string;
  webhookTimeoutMs?: string;
}

/**
 * Serves `definition` (the reference runner by default) over the control protocol until it is
 * told to stop. Which runner to serve is the caller's choice: the `runner-chaos-runner` bin
 * (cli/daemon-bin.ts) can serve a bundled known-bad one, to show the black-box harness catch it.
 */
export async function runDaemon(options: DaemonOptions, definition: RunnerDefinition = referenceRunner): Promise<void> {
  const stateDir = resolve(options.stateDir);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const token = randomBytes(24).toString('hex');
  const config = resolveRunnerConfig(
    {
      ...(options.agentCommand !== undefined ? { agentCommand: options.agentCommand } : {}),
      ...(options.agentArg !== undefined ? { agentArgs: options.agentArg } : {}),
      ...(options.webhookTimeoutMs !== undefined ? { webhookTimeoutMs: Number(options.webhookTimeoutMs) } : {}),
      // One owner id per state directory: a restart with a lost state file still finds its children.
      ownerId: `owner-${createHash('sha256').update(stateDir).digest('hex').slice(0, 16)}`,
    },
    process.env,
  );
  if (options.agentCommand === undefined && process.env[CLI_EXECUTABLE_ENV] !== undefined)
    config.agentCommand = process.env[CLI_EXECUTABLE_ENV];
  const extraEnv: Record<string, string> = {};
  const ports = nodePorts({
    statePath: join(stateDir, 'children.json'),
    ...(options.hubUrl !== undefined ? { hubUrl: options.hubUrl } : {}),
    extraEnv,
  });
  const runner = await definition.create(ports, config);
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await runner.shutdown();
    await control.server.close();
    rmSync(join(stateDir, STATE_FILE), { force: true });
    process.exit(0);
  };
  const control = await startControlServer({ runner, token, onStop: () => void stop() });
  // Children find the control server (and prove who they are) through their environment.
  extraEnv[RUNNER_URL_ENV] = control.url;
  extraEnv[RUNNER_TOKEN_ENV] = token;
  // Written aside and renamed: a reader never sees half a file.
  const stateFile = join(stateDir, STATE_FILE);
  writeFileSync(
    `${stateFile}.tmp`,
    JSON.stringify({ pid: process.pid, httpPort: control.port, token, startTime: new Date().toISOString() }),
    { mode: 0o600 },
  );
  renameSync(`${stateFile}.tmp`, stateFile);
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
  ports.logger.log('info', 'runner listening', { url: control.url, stateDir });
}
