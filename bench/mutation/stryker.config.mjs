// StrykerJS (9.x: 10 needs Node 22) over the reference runner's core: `pnpm mutation`.
// Each mutant is judged by bench/mutation/suite.ts (regressions, recorded counterexamples, the
// seed incident and a fixed-seed property run). Stryker's results: reports/mutation/ (not checked
// in); `pnpm mutation` then keeps them as the record of the run, bench/mutation/report.json
// (checked in: keep.ts), from which the per-file scores go into bench/RESULTS.md and every
// surviving mutant is classified in bench/mutation/SURVIVORS.md.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: ['runner/core/*.ts', '!runner/core/*.test.ts'],
  testRunner: 'command',
  commandRunner: { command: 'node --import tsx bench/mutation/suite.ts' },
  // The command runner cannot tell which test covers which mutant: every mutant runs the suite.
  coverageAnalysis: 'off',
  // TypeScript 7 has no JS API, and Stryker's tsconfig rewriting step needs it. tsx does not
  // read the tsconfig's references, so there is nothing to rewrite: point it at no file at all.
  tsconfigFile: 'bench/mutation/no-such-tsconfig.json',
  ignorePatterns: ['dist', 'reports', 'runner-chaos-artifacts', 'runner-chaos-report*.json', '.stryker-tmp'],
  concurrency: 2,
  // A mutant that loops for ever is killed by time: generous, the machine is shared.
  timeoutMS: 60_000,
  timeoutFactor: 3,
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
