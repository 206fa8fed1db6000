// Verdict stability of a black-box check (issue #9): the same `check --http` command N times in
// a row, each a fresh process as a CI job runs it; a table of the verdict per scenario per run,
// and the time each run took. A black-box check whose verdict changes from run to run is a
// flaky gate, so any difference is printed loudly and the exit status is 1.
// Run: pnpm bench:http [runs] [command] [profile]
//      (defaults: 5 runs of the registry's tiann/hapi, node_modules/.bin/hapi runner start-sync)
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? 5);
const command = process.argv[3] ?? 'node_modules/.bin/hapi runner start-sync';
const profile = process.argv[4] ?? 'hapi';
const bin = fileURLToPath(new URL('../cli/bin.js', import.meta.url));

interface Report {
  readonly results: Array<{ scenario: string; violations: Array<{ invariant: string }>; harnessErrors: string[] }>;
}

const verdicts = new Map<string, string[]>();
const seconds: number[] = [];
for (let run = 1; run <= runs; run++) {
  const started = performance.now();
  let stdout: string;
  try {
    stdout = execFileSync(
      process.execPath,
      [
        bin,
        'check',
        '--http',
        command,
        '--profile',
        profile,
        '--json',
        '--artifacts',
        `runner-chaos-artifacts/http-stability-${run}`,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 },
    );
  } catch (error) {
    stdout = String((error as { stdout?: string }).stdout ?? '');
  }
  seconds.push((performance.now() - started) / 1000);
  const report = JSON.parse(stdout) as Report;
  for (const r of report.results) {
    const verdict =
      r.harnessErrors.length > 0
        ? 'HARNESS ERROR'
        : r.violations.length === 0
          ? 'held'
          : [...new Set(r.violations.map((v) => v.invariant))].sort().join(' ');
    verdicts.set(r.scenario, [...(verdicts.get(r.scenario) ?? []), verdict]);
  }
  process.stderr.write(`run ${run}/${runs}: ${seconds.at(-1)!.toFixed(1)} s\n`);
}
const stable = [...verdicts.values()].every((v) => v.length === runs && new Set(v).size === 1);
console.log(`| scenario | ${Array.from({ length: runs }, (_, i) => `run ${i + 1}`).join(' | ')} |`);
console.log(`|---|${'---|'.repeat(runs)}`);
for (const [scenario, v] of verdicts) console.log(`| ${scenario} | ${v.join(' | ')} |`);
console.log(
  `\n${command} (${profile}): ${runs} runs, ${seconds.map((s) => s.toFixed(0)).join(' / ')} s each; verdicts ${stable ? 'identical in every run' : 'DIFFER between runs'}`,
);
process.exitCode = stable ? 0 : 1;
