#!/usr/bin/env node
// The `runner-chaos-runner` bin (`pnpm runner`): the reference runner as a daemon (or, with
// --runner, a bundled known-bad one). Always runs; see cli/bin.ts for why there is no
// entry-point test.
import { Command, CommanderError } from 'commander';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { runDaemon, type DaemonOptions } from '../runner/daemon.ts';
import { referenceRunner } from '../runner/reference.ts';
import { bundledRunners, findBundledRunner } from '../fixtures/runners/index.ts';

const program = new Command('runner-chaos-runner')
  .description('the reference runner as a daemon, speaking the HAPI-compatible control protocol on 127.0.0.1')
  .option(
    '--state-dir <dir>',
    'where runner.state.json (pid, port, token) and the children file go (default $HAPI_HOME, else ~/.local/state/runner-chaos)',
    process.env.HAPI_HOME ?? join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'runner-chaos'),
  )
  .option('--agent-command <path>', 'the agent CLI to spawn (default: $HAPI_CLI_EXECUTABLE, else hapi)')
  .option('--agent-arg <arg>', "an argument put before the runner's own; repeatable", (v: string, p: string[] = []) => [
    ...p,
    v,
  ])
  .option('--hub-url <url>', 'the hub to archive stopped sessions on')
  .option('--webhook-timeout-ms <ms>', 'webhook timeout (default 15000, or $HAPI_RUNNER_WEBHOOK_TIMEOUT_MS)')
  .option(
    '--runner <name>',
    'serve a bundled runner other than the reference (e.g. legacy), to show the harness catching it',
  )
  .exitOverride();
try {
  program.parse(process.argv.slice(2), { from: 'user' });
  const options = program.opts<DaemonOptions & { runner?: string }>();
  const definition = options.runner === undefined ? referenceRunner : findBundledRunner(options.runner);
  if (definition === undefined)
    throw new Error(`no bundled runner "${options.runner}" (bundled: ${bundledRunners.map((r) => r.name).join(', ')})`);
  await runDaemon(options, definition);
} catch (error) {
  if (!(error instanceof CommanderError))
    process.stderr.write(`runner-chaos-runner: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(error instanceof CommanderError && error.exitCode === 0 ? 0 : 2);
}
