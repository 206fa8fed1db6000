// The reference runner as a daemon: `pnpm runner`. It serves the HAPI-compatible control
// protocol on 127.0.0.1 (random port), writes {pid, httpPort, token, startedAt} to
// <state dir>/runner.state.json (mode 600; tiann/hapi's name and fields, plus the token), and spawns the agent command it is given. SIGTERM, SIGINT
// or POST /stop shut it down: every session it spawned is stopped, its tree verified dead.
import { Command, CommanderError } from 'commander';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { resolveRunnerConfig } from './config.ts';
import { referenceRunner } from './reference.ts';
import { findBundledRunner } from '../fixtures/runners/index.ts';
import { startControlServer } from './node/control-server.ts';
import { nodePorts } from './node/node-ports.ts';

/** The state file's name: tiann/hapi's, so `--profile hapi` finds it as it finds hapi's. */
export const STATE_FILE = 'runner.state.json';

interface DaemonOptions {
  stateDir: string;
  agentCommand?: string;
  agentArg?: string[];
  hubUrl?: string;
  webhookTimeoutMs?: string;
  runner?: string;
}

export async function runDaemon(options: DaemonOptions): Promise<void> {
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
  if (options.agentCommand === undefined && process.env.HAPI_CLI_EXECUTABLE !== undefined) config.agentCommand = process.env.HAPI_CLI_EXECUTABLE;
  const extraEnv: Record<string, string> = {};
  const ports = nodePorts({ statePath: join(stateDir, 'children.json'), ...(options.hubUrl !== undefined ? { hubUrl: options.hubUrl } : {}), extraEnv });
  // Any bundled runner can be served, so the black-box harness can be shown the known-bad ones.
  const definition = options.runner === undefined ? referenceRunner : findBundledRunner(options.runner);
  if (definition === undefined) throw new Error(`no bundled runner "${options.runner}"`);
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
  extraEnv.HAPI_RUNNER_URL = control.url;
  extraEnv.HAPI_RUNNER_TOKEN = token;
  // Written aside and renamed: a reader never sees half a file.
  const stateFile = join(stateDir, STATE_FILE);
  writeFileSync(`${stateFile}.tmp`, JSON.stringify({ pid: process.pid, httpPort: control.port, token, startTime: new Date().toISOString() }), { mode: 0o600 });
  renameSync(`${stateFile}.tmp`, stateFile);
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
  ports.logger.log('info', 'runner listening', { url: control.url, stateDir });
}

/** The daemon's command line: parses `argv` (without node and the script) and starts it. */
export async function daemonMain(argv: readonly string[]): Promise<void> {
  const program = new Command('runner-chaos-runner')
    .description('the reference runner as a daemon, speaking the HAPI-compatible control protocol on 127.0.0.1')
    .option('--state-dir <dir>', 'where runner.state.json (pid, port, token) and the children file go (default $HAPI_HOME, else ~/.local/state/runner-chaos)', process.env.HAPI_HOME ?? join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'runner-chaos'))
    .option('--agent-command <path>', 'the agent CLI to spawn (default: $HAPI_CLI_EXECUTABLE, else hapi)')
    .option('--agent-arg <arg>', 'an argument put before the runner\'s own; repeatable', (v: string, p: string[] = []) => [...p, v])
    .option('--hub-url <url>', 'the hub to archive stopped sessions on')
    .option('--webhook-timeout-ms <ms>', 'webhook timeout (default 15000, or $HAPI_RUNNER_WEBHOOK_TIMEOUT_MS)')
    .option('--runner <name>', 'serve a bundled runner other than the reference (e.g. legacy), to show the harness catching it')
    .exitOverride();
  try {
    program.parse([...argv], { from: 'user' });
    await runDaemon(program.opts<DaemonOptions>());
  } catch (error) {
    if (!(error instanceof CommanderError)) process.stderr.write(`runner-chaos-runner: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof CommanderError && error.exitCode === 0 ? 0 : 2);
  }
}
