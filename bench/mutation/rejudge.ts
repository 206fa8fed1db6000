// Judges the mutants of the last `pnpm mutation` run again against today's suite, without
// StrykerJS: each mutant's replacement is put into a copy of the project (a sandbox per worker,
// as Stryker makes), `bench/mutation/suite.ts` runs there, and its exit code is the verdict.
// Stryker takes over two hours here (it runs the suite through its own command runner, cold);
// after a new check or fault kind, this says which survivors it now kills in a fraction of that.
//
// Only mutants of sources that have not changed since the report can be judged (their
// locations would point elsewhere): a changed file stops the run with a message. By default the
// survivors only; `--all` judges every mutant again (a suite that changed may also let a mutant
// through that it killed before). The record (bench/mutation/report.json, checked in) is
// rewritten with the new statuses, so classify.ts and the scores follow; git keeps the old ones.
//
// Run: node --import tsx bench/mutation/rejudge.ts [--all] [--concurrency N] [--file runner/core/x.ts [--lines A-B]]
// (`--lines`: only the mutants that start on those lines of the one --file, to judge a new check
// against the survivors it was written for in minutes, before a full rejudge.)
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { offsetOf, RECORD_PATH, readRecord, writeRecord, type Mutant } from './report.ts';

const root = new URL('../../', import.meta.url).pathname;
/** What a sandbox copies (the rest it links): everything the suite imports, and what tsx reads. */
const COPIED = ['runner', 'simulator', 'properties', 'cli', 'bench', 'fixtures', 'package.json', 'tsconfig.json'];
/** A mutant that makes the suite run this much longer than a clean run is killed by time (Stryker's "Timeout": detected). */
const TIMEOUT_FACTOR = 5;
const MIN_TIMEOUT_MS = 60_000;
/** Statuses a judged mutant can have (Stryker's others, CompileError, RuntimeError, Ignored, are not in the score). */
const JUDGED = new Set(['Killed', 'Timeout', 'Survived', 'NoCoverage']);

/** What stops the run, said plainly (exit 2); the sandboxes are removed on the way out. */
class RejudgeError extends Error {}
function fail(message: string): never {
  throw new RejudgeError(message);
}

/**
 * Mutators whose replacement is an expression that may bind looser than what it replaced.
 * Stryker swaps an AST node, so `a && b` in `a && b && c` made `a || b` means `(a || b) && c`;
 * spliced in as text it would read `a || b && c`, another mutant (a rejudge once "killed" one
 * that way). These are put in parentheses; the others (blocks, literals in key position,
 * statements) must not be.
 */
const EXPRESSION_MUTATORS = new Set([
  'ConditionalExpression',
  'LogicalOperator',
  'EqualityOperator',
  'ArithmeticOperator',
  'BooleanLiteral',
  'MethodExpression',
  'UnaryOperator',
  'OptionalChaining',
]);

function mutated(source: string, m: Mutant): string {
  if (m.replacement === undefined) fail(`mutant ${m.id} has no replacement in the report`);
  const start = offsetOf(source, m.location.start.line, m.location.start.column);
  const end = offsetOf(source, m.location.end.line, m.location.end.column);
  const replacement = EXPRESSION_MUTATORS.has(m.mutatorName) ? `(${m.replacement})` : m.replacement;
  return source.slice(0, start) + replacement + source.slice(end);
}

function makeSandbox(): string {
  const dir = mkdtempSync(join(tmpdir(), 'runner-chaos-rejudge-'));
  for (const entry of COPIED) cpSync(join(root, entry), join(dir, entry), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/** The suites running now: ended with the run when it is interrupted. */
const running = new Set<ChildProcess>();

/** SIGKILLs a suite's process group, while its leader is still ours (not yet exited, so its PID not reused). */
function killSuite(child: ChildProcess): void {
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null)
    process.kill(-child.pid, 'SIGKILL');
}

/** Runs the suite in `dir`; resolves with its exit code, or 'timeout' (its process group killed). */
function runSuite(dir: string, timeoutMs: number): Promise<number | 'timeout'> {
  return new Promise((resolve) => {
    // Its own process group, so that a mutant that leaves something running is ended with it.
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/mutation/suite.ts'], {
      cwd: dir,
      stdio: 'ignore',
      detached: true,
    });
    running.add(child);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killSuite(child);
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      running.delete(child);
      resolve(timedOut ? 'timeout' : (code ?? 1));
    });
  });
}

/** `--lines 306` or `--lines 306-346`, of exactly one --file. */
function parseLines(text: string, file: readonly string[] | undefined): { from: number; to: number } {
  if (file?.length !== 1) fail('--lines needs exactly one --file: the lines of which file?');
  const match = /^(\d+)(?:-(\d+))?$/.exec(text);
  const from = Number(match?.[1]);
  const to = Number(match?.[2] ?? match?.[1]);
  if (match === null || from < 1 || to < from) fail(`--lines ${text}: give a line or a range, e.g. 306 or 306-346`);
  return { from, to };
}

async function main(): Promise<void> {
  let values: { all?: boolean; concurrency?: string; file?: string[]; lines?: string };
  try {
    ({ values } = parseArgs({
      options: {
        all: { type: 'boolean', default: false },
        concurrency: { type: 'string', default: '2' },
        file: { type: 'string', multiple: true },
        lines: { type: 'string' },
      },
    }));
  } catch (error) {
    fail(`${(error as Error).message} (flags: --all, --concurrency N, --file runner/core/x.ts, --lines A-B)`);
  }
  const lines = values.lines !== undefined ? parseLines(values.lines, values.file) : undefined;
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 16) fail('--concurrency: give 1 to 16');
  const report = readRecord();
  const files = Object.keys(report.files).filter((f) => values.file === undefined || values.file.includes(f));
  if (files.length === 0) fail(`none of ${values.file?.join(', ')} is in the report`);
  for (const file of files)
    if (readFileSync(join(root, file), 'utf8') !== report.files[file]!.source)
      fail(`${file} changed since the report was made: its mutants' places are stale; run \`pnpm mutation\``);

  const todo = files.flatMap((file) =>
    report.files[file]!.mutants.filter(
      (m) =>
        JUDGED.has(m.status) &&
        (values.all || m.status === 'Survived' || m.status === 'NoCoverage') &&
        (lines === undefined || (m.location.start.line >= lines.from && m.location.start.line <= lines.to)),
    ).map((m) => ({ file, mutant: m })),
  );
  const sandboxes = Array.from({ length: concurrency }, makeSandbox);
  // Interrupted (Ctrl-C, a CI timeout): the suites running now end, the sandboxes go, the report stays as it was.
  const interrupted = (signal: NodeJS.Signals): void => {
    for (const child of running) killSuite(child);
    for (const dir of sandboxes) rmSync(dir, { recursive: true, force: true });
    process.stderr.write(`rejudge: ${signal}: stopped; the report is unchanged\n`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    // A clean run first, in a sandbox as the mutants will run: it must pass, and it sets the time bound.
    const started = performance.now();
    const clean = await runSuite(sandboxes[0]!, 10 * 60_000);
    if (clean !== 0) fail(`the suite fails with no mutant at all (exit ${clean}): fix that first`);
    const timeoutMs = Math.max(MIN_TIMEOUT_MS, TIMEOUT_FACTOR * (performance.now() - started));
    process.stderr.write(
      `rejudge: ${todo.length} mutant(s) of ${files.length} file(s), ${concurrency} at a time, ${Math.round(timeoutMs / 1000)} s each at most\n`,
    );
    let next = 0;
    let done = 0;
    let killed = 0;
    // Bounded: each worker takes the next mutant until none is left.
    await Promise.all(
      sandboxes.map(async (dir) => {
        while (next < todo.length) {
          const { file, mutant } = todo[next++]!;
          const source = report.files[file]!.source;
          writeFileSync(join(dir, file), mutated(source, mutant));
          const verdict = await runSuite(dir, timeoutMs);
          writeFileSync(join(dir, file), source);
          mutant.status = verdict === 'timeout' ? 'Timeout' : verdict === 0 ? 'Survived' : 'Killed';
          if (mutant.status !== 'Survived') killed++;
          done++;
          if (done % 10 === 0 || done === todo.length)
            process.stderr.write(`rejudge: ${done}/${todo.length} judged, ${killed} killed\n`);
        }
      }),
    );
    // The record is checked in: what it said before is in git (`git diff bench/mutation/report.json`).
    report.rejudged = { at: new Date().toISOString(), mutants: todo.length, killed, all: values.all === true };
    writeRecord(report);
    process.stdout.write(`rejudge: ${killed} of ${todo.length} judged mutant(s) killed; ${RECORD_PATH} updated\n`);
  } finally {
    for (const dir of sandboxes) rmSync(dir, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (error) {
  if (!(error instanceof RejudgeError)) throw error;
  process.stderr.write(`rejudge: ${error.message}\n`);
  process.exitCode = 2;
}
