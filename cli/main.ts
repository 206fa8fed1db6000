// runner-chaos command line. Exit status: 0 every verdict as declared, 1 a verdict is not,
// 2 bad usage (a flag, a scenario file or a runner module that is wrong).
import { BrokenAdapterError } from '../simulator/broken-adapter.ts';
import { Command, CommanderError, Option } from 'commander';
import type { SimulateOptions } from './simulate.ts';
import type { CheckCliOptions } from './check-options.ts';
import { FAULT_KINDS } from '../properties/fault-kinds.ts';
import { EXPLORED_WORLD_NAMES } from '../properties/exhaustive/alphabet.ts';
import {
  collect,
  parseCount,
  parseTies,
  parseDuration,
  parseDurationIn,
  parseMinutes,
  parseScale,
  parseSeed,
} from './parse-options.ts';
import { packageVersion } from './package-version.ts';
import { UsageError } from './usage-error.ts';
import { WorldLimitError } from '../simulator/world-limit.ts';

export function buildProgram(): Command {
  const program = new Command('runner-chaos')
    .description('Reliability harness and deterministic chaos simulator for runners of detached agent processes')
    .version(packageVersion(), '--version', 'print the version of runner-chaos')
    .option('--debug', 'on an internal error, print its stack too')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command('simulate')
    .description('play a scenario (the seed incident by default) against runners in virtual time, side by side')
    .option(
      '--resumes <n>',
      'resume clicks on one session, each after the previous error (default 4)',
      parseCount(1, 100_000),
    )
    .option(
      '--delay <duration>',
      'how long the agent takes to boot, e.g. 60m, 90s, 1h; up to 7d (default 60m)',
      parseDurationIn(0),
    )
    .option('--timeout <duration>', "the runner's webhook timeout, 1 ms to 7d (default 15s)", parseDurationIn(1))
    .option('--worktree', 'spawn worktree sessions')
    .option(
      '--runner <name|path>',
      'a bundled runner name or a module path; repeatable (default: reference, legacy, pr440-initial)',
      collect,
    )
    .option('--scenario <file>', 'play this scenario JSON instead of the seed incident')
    .option('--seed <n>', "seed of the world (default 1, or the scenario's)", parseSeed)
    .option('--json', 'print one JSON document instead of the text report')
    .option('--logs', "include the runner's log lines in the timelines")
    .option('--real', 'play with real processes, git worktrees and a loopback hub (Linux)')
    .option('--time-scale <factor>', 'with --real: real ms per scenario ms (default 0.02)', parseScale)
    .addOption(new Option('--no-timeline', 'print only the verdict table'))
    .option('--html <dir>', "write each runner's timeline as a self-contained HTML picture into this directory")
    .action(async (options: SimulateOptions) => {
      // Loaded when used: a command starts without loading the other's dependencies.
      const { simulate } = await import('./simulate.ts');
      const outcome = await simulate(options);
      process.stdout.write(`${outcome.output}\n`);
      process.exitCode = outcome.exitCode;
    });
  program
    .command('check')
    .description(
      'run the property suite against a runner (exit 0 holds as declared, 1 a violation, 2 bad usage or a broken adapter)',
    )
    .option('--runner <name|path>', 'a bundled runner name or a module path')
    .option('--runs <n>', 'generated scenarios per invariant (default 1000)', parseCount(1, 10_000_000))
    .option('--seed <n>', 'fast-check seed', parseSeed)
    .option('--path <path>', 'fast-check path: with --seed, replays one exact run')
    .option('--invariant <id>', 'check only this invariant; repeatable', collect)
    .option('--artifacts <dir>', 'where minimal counterexamples are written (default runner-chaos-artifacts)')
    .option(
      '--http <command>',
      'a black-box runner: this command speaks the control protocol (real world, Linux); $RUNNER_CHAOS_STATE_DIR is its state dir',
    )
    .option('--profile <name>', 'with --http: hapi (default) or happy')
    .option(
      '--time-scale <factor>',
      'with --http: real ms per scenario ms (default 0.1: the 15 s timeout takes 1.5 s)',
      parseScale,
    )
    .option(
      '--only <scenario>',
      'with --http: play only this built-in scenario; repeatable (seed-incident rapid-resume escapees-and-sigterm-ignorers forged-webhooks restart-mid-spawn exit-before-webhook wrapper-crash)',
      collect,
    )
    .option(
      '--sandbox',
      'with --http: run the runner in a PID namespace of its own, or fail (default: do so where one can be made)',
    )
    .option('--no-sandbox', 'with --http: run the runner unconfined')
    .option('--scenario <file>', 'with --http: play this scenario JSON instead of the built-in ones')
    .option(
      '--accept-unexercised',
      'with --http: a scenario that did not reach what it tests is reported, but does not make the run exit 2',
    )
    .option(
      '--kill-grace <duration>',
      "with --http: the runner's own kill grace per process, in real time (default: the profile's; hapi 3s)",
      parseDuration,
    )
    .option('--without <fault>', `a fault kind never to generate; repeatable (${FAULT_KINDS.join(', ')})`, collect)
    .option('--all', 'keep checking the other invariants after the first violation')
    .option(
      '--shard <i/n>',
      "play the i-th of n deterministic parts of the campaign (--runs split between them, seeds mixed from --seed, default 0); join the parts' artifacts with merge",
    )
    .option('--minutes <m>', 'keep playing rounds of --runs scenarios, seed after seed, for this long', parseMinutes)
    .option(
      '--workers <n>',
      'worker threads to play scenarios on; the report is the same for any number (default: the cores, one per 500 runs)',
      parseCount(1, 256),
    )
    .option('--exhaustive', 'explore every scenario up to --depth moves (a bounded proof) instead of sampling')
    .option('--depth <k>', 'with --exhaustive: moves per scenario, at most (default 3)', parseCount(1, 8))
    .option('--sessions <s>', 'with --exhaustive: session ids a spawn may resume (default 2)', parseCount(1, 4))
    .addOption(
      new Option(
        '--world <name>',
        'with --exhaustive: the world every scenario plays in (default plain; see the README)',
      ).choices(EXPLORED_WORLD_NAMES),
    )
    .option('--yes', 'with --exhaustive: run a bound estimated to take over 10 minutes')
    .option(
      '--max-states <n>',
      'with --exhaustive: distinct states kept in memory, at most (default 4000000)',
      parseCount(1, 100_000_000),
    )
    .option(
      '--ties <n|all>',
      'with --exhaustive: also play each scenario with up to n of its same-instant events out of scheduling order (all: every order; default 0)',
      parseTies,
    )
    .option(
      '--max-orders <n>',
      'with --exhaustive --ties: orders of one scenario played, at most (default 10000)',
      parseCount(1, 10_000_000),
    )
    .option('--no-hashing', 'with --exhaustive: extend every scenario, even one reaching a state seen before')
    .option('--no-symmetry', 'with --exhaustive: do not treat session ids as interchangeable names')
    .option('--progress', 'report progress on stderr even when it is not a terminal (line by line)')
    .option('--json', 'print the report as one JSON document')
    .action(async (options: CheckCliOptions) => {
      const { check } = await import('./check.ts');
      const outcome = await check(options);
      process.stdout.write(`${outcome.output}\n`);
      process.exitCode = outcome.exitCode;
    });
  program
    .command('merge')
    .description(
      'join the reports of check --shard runs (their artifacts directories, or report files) into one verdict',
    )
    .argument('<paths...>', 'artifacts directories holding runner-chaos-report*.json, or those files')
    .option('--artifacts <dir>', 'where the merged JUnit and report are written (default runner-chaos-artifacts)')
    .option('--json', 'print the merged report as one JSON document')
    .action(async (paths: string[], options: { artifacts?: string; json?: boolean }) => {
      const { merge } = await import('./check.ts');
      const outcome = await merge(paths, options);
      process.stdout.write(`${outcome.output}\n`);
      process.exitCode = outcome.exitCode;
    });
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed its message; help and version are not errors.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`runner-chaos: ${error.message}\n`);
      return 2;
    }
    if (error instanceof BrokenAdapterError) {
      // The runner's own error: its stack (the adapter's code) only when asked for.
      const cause = error.cause instanceof Error ? error.cause : undefined;
      const stack = argv.includes('--debug') && cause?.stack !== undefined ? `\n${cause.stack}` : '';
      const hint = cause !== undefined && stack === '' ? ' (run again with --debug for its stack)' : '';
      process.stderr.write(`runner-chaos: broken adapter: ${error.message}${hint}${stack}\n`);
      return 2;
    }
    if (error instanceof WorldLimitError) {
      process.stderr.write(`runner-chaos: the world's ${error.limit} limit: ${error.message}\n`);
      return 2;
    }
    // One message; the stack only when asked for (it is ours, not the user's, to read).
    const debug = argv.includes('--debug');
    const text = error instanceof Error ? (debug ? (error.stack ?? error.message) : error.message) : String(error);
    process.stderr.write(
      `runner-chaos: internal error: ${text}${debug ? '' : ' (run again with --debug for the stack)'}\n`,
    );
    return 2;
  }
}
