#!/usr/bin/env node
// `pnpm test` in this repository: build, then the type check, the lint and vitest side by side.
// Most of vitest's time is spent waiting on real processes (a runner's timeout, an agent's
// boot), so the checks that only compute fit in beside it instead of adding their 15 s in front
// of it on a two-core machine. vitest's output streams as it comes; the checks' output is held
// and printed after it, each under its own heading. The exit status is the first failure's
// (vitest, then the types, then the lint), or 0. Arguments go to vitest (`pnpm test cli/`).
// Plain JavaScript: it must run before anything is built.
import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = (name) => `${root}/node_modules/.bin/${name}`;

/** Runs one command from the repository root; with `hold`, its output is collected, not shown. */
function run(command, args, { hold = false } = {}) {
  const child = spawn(command, args, { cwd: root, stdio: hold ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
  let output = '';
  if (hold) {
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
  }
  const done = new Promise((resolve) => {
    child.on('error', (error) => resolve({ code: 2, output: `${output}could not run ${command}: ${error.message}\n` }));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal !== null ? 1 : 0), output }));
  });
  return { child, done };
}

// Ours, by PID, started just now: a Ctrl-C reaches them through the terminal, a SIGTERM to this
// script is passed on (vitest's own teardown then kills what the tests started).
const started = [];
for (const signal of ['SIGTERM', 'SIGHUP'])
  process.on(signal, () => {
    for (const child of started) if (child.exitCode === null) child.kill(signal);
  });

const build = run(bin('tsc'), ['-p', 'tsconfig.build.json']);
started.push(build.child);
const built = await build.done;
if (built.code !== 0) {
  process.stderr.write(`pnpm test: the build failed (exit ${built.code}); nothing else was run\n`);
  process.exit(built.code);
}
const checks = [
  { name: 'types (tsc --noEmit)', ...run(bin('tsc'), ['--noEmit'], { hold: true }) },
  { name: 'lint (prettier, layer rules)', ...run('pnpm', ['-s', 'lint'], { hold: true }) },
];
const tests = run(bin('vitest'), ['run', ...process.argv.slice(2)]);
started.push(tests.child, ...checks.map((c) => c.child));
const vitest = await tests.done;
let exitCode = vitest.code;
for (const check of checks) {
  const { code, output } = await check.done;
  process.stdout.write(`\n${check.name}: ${code === 0 ? 'passed' : `FAILED (exit ${code})`}\n`);
  if (code !== 0) {
    process.stdout.write(output);
    if (exitCode === 0) exitCode = code;
  }
}
process.exit(exitCode);
