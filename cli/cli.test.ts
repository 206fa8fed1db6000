import { describe, expect, it, vi, afterEach } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from './main.ts';
import { upperBound } from '../properties/exhaustive/explore.ts';

/** Runs the CLI in-process and returns its exit status and what it printed. */
async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    const code = await main(argv);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = undefined;
  }
}

afterEach(() => {
  process.exitCode = undefined;
});

describe('runner-chaos simulate', () => {
  it('reproduces the seed incident as one JSON document: legacy 4 ghosts, pr440-initial leaks, reference clean', async () => {
    const { code, stdout } = await run('simulate', '--resumes', '4', '--delay', '60m', '--json', '--worktree');
    expect(code).toBe(0);
    const doc = JSON.parse(stdout);
    expect(Object.keys(doc)).toEqual(['scenario', 'runners', 'wallMs']);
    const by = Object.fromEntries(doc.runners.map((r: { runner: string }) => [r.runner, r]));
    expect(by.legacy.counts.ghostSessions).toBe(4);
    expect(by['pr440-initial'].counts).toMatchObject({ leakedProcesses: 4, leakedWorktrees: 4 });
    expect(by.reference).toMatchObject({
      declared: [],
      violations: [],
      verdict: 'as-declared',
      counts: { ghostSessions: 0, leakedProcesses: 0, leakedWorktrees: 0 },
    });
    expect(by.legacy.violations[0]).toEqual({
      invariant: expect.any(String),
      message: expect.any(String),
      atMs: expect.any(Number),
    });
    expect(doc.wallMs).toBeGreaterThan(0);
  });

  it('prints a timeline per runner and a verdict table', async () => {
    const { code, stdout } = await run('simulate', '--resumes', '2', '--delay', '90s');
    expect(code).toBe(0);
    expect(stdout).toMatch(/=== legacy ===/);
    expect(stdout).toMatch(/<- #1 error timeout/);
    expect(stdout).toMatch(/runner\s+declares\s+ghost sessions\s+leaked processes\s+leaked worktrees/);
    expect(stdout).toMatch(/legacy\s+S1 S2\s+2\s+4\s+0/);
  });

  it('exits 1 when a runner does not do what it declares', async () => {
    // With a timeout longer than the boot, legacy never orphans anything: it is not caught.
    const { code, stdout } = await run(
      'simulate',
      '--runner',
      'legacy',
      '--delay',
      '10s',
      '--timeout',
      '60s',
      '--no-timeline',
    );
    expect(code).toBe(1);
    expect(stdout).toMatch(/UNEXPECTED/);
  });

  it('exits 2 with a message naming the bad input', async () => {
    expect(await run('simulate', '--delay', 'soon')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/"soon" is not a duration/),
    });
    expect(await run('simulate', '--resumes', '0')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/out of range/),
    });
    expect(await run('simulate', '--runner', 'nosuch')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/no bundled runner "nosuch"/),
    });
    expect(await run('simulate', '--runner', './nowhere.ts')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/does not exist/),
    });
    expect(await run('simulate', '--frobnicate')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/unknown option/),
    });
    expect(await run('simulate', '--scenario', 'x.json', '--resumes', '3')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/cannot be combined with --resumes/),
    });
  });

  it('prints its version, refuses a zero timeout or a 40-day boot by flag name, and keeps stacks for --debug', async () => {
    const version = await run('--version');
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect(await run('simulate', '--timeout', '0')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--timeout.*too short/),
    });
    expect(await run('simulate', '--delay', '40d')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--delay.*too long \(at most 7 days/),
    });
    const dir = mkdtempSync(join(tmpdir(), 'runner-chaos-cli-'));
    try {
      const module = join(dir, 'throws.mjs');
      writeFileSync(
        module,
        'export default { name: "throws", declares: [], create: () => { throw new Error("create() failed on purpose"); } };',
      );
      const plain = await run('simulate', '--runner', module);
      expect(plain.code).toBe(2);
      expect(plain.stderr).toMatch(
        /broken adapter: runner "throws": create\(\) threw: create\(\) failed on purpose \(run again with --debug for its stack\)/,
      );
      expect(plain.stderr).not.toMatch(/\n\s+at /);
      const debug = await run('--debug', 'simulate', '--runner', module);
      expect(debug.stderr).toMatch(/\n\s+at /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("plays a known-bad runner's recorded counterexample when the seed incident does not show its bug", async () => {
    const shown = await run('simulate', '--runner', 'no-dedupe');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(
      /note: the seed incident does not exercise no-dedupe's bug \(A3\); played its recorded counterexample \S+no-dedupe-A3\.json instead/,
    );
    expect(shown.stdout).toMatch(/=== no-dedupe \(scenario [^)]+\) ===/);
    expect(shown.stdout).toMatch(/no-dedupe\s+A3 .* as declared/);
    // Asked for the seed incident's shape, it plays that, says it missed, and names the command.
    const asked = await run('simulate', '--runner', 'no-dedupe', '--resumes', '4', '--no-timeline');
    expect(asked.code).toBe(1);
    const hint =
      /note: no-dedupe breaks A3, which this scenario does not exercise; its recorded counterexample does: pnpm simulate --runner no-dedupe --scenario (\S+)/.exec(
        asked.stdout,
      );
    expect(hint, asked.stdout).not.toBeNull();
    expect(await run('simulate', '--runner', 'no-dedupe', '--scenario', hint![1]!, '--no-timeline')).toMatchObject({
      code: 0,
    });
  });

  it('names what is wrong in a bad scenario file or runner module', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runner-chaos-cli-'));
    try {
      writeFileSync(join(dir, 'broken.json'), '{ "steps": [ { "op": "spwan" } ] }');
      writeFileSync(join(dir, 'notjson.json'), '{ steps: ');
      writeFileSync(join(dir, 'bad-runner.mjs'), 'export default { name: "x", declares: ["S9"] };');
      expect(await run('simulate', '--scenario', join(dir, 'broken.json'))).toMatchObject({
        code: 2,
        stderr: expect.stringMatching(/steps\[0\]/),
      });
      expect(await run('simulate', '--scenario', join(dir, 'notjson.json'))).toMatchObject({
        code: 2,
        stderr: expect.stringMatching(/is not JSON/),
      });
      expect(await run('simulate', '--scenario', join(dir, 'missing.json'))).toMatchObject({
        code: 2,
        stderr: expect.stringMatching(/ENOENT/),
      });
      const bad = await run('simulate', '--runner', join(dir, 'bad-runner.mjs'));
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/"create" must be a function/);
      expect(bad.stderr).toMatch(/unknown invariants: S9/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("names the world's limit a scenario reaches, and how to raise it, without a stack", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runner-chaos-cli-'));
    try {
      // 16 x 16 x 16 descendants per agent: far more processes than pid_max 400 allows.
      const leaf = {};
      const tree = Array(16).fill({ children: Array(16).fill({ children: Array(16).fill(leaf) }) });
      writeFileSync(
        join(dir, 'pids.json'),
        JSON.stringify({ name: 'pids', agent: { tree }, world: { pidMax: 400 }, steps: [{ op: 'spawn' }] }),
      );
      const pids = await run('simulate', '--runner', 'reference', '--scenario', join(dir, 'pids.json'));
      expect(pids.code).toBe(2);
      expect(pids.stderr).toMatch(/the world's pid_max limit: no free PID below pid_max 400.*raise world\.pidMax/);
      expect(pids.stderr).not.toMatch(/internal error|\n\s+at /);
      // 2,000 spawns of 4,369 processes each: more trace than the world keeps, refused before it runs.
      const steps = Array.from({ length: 2000 }, () => ({ op: 'spawn' }));
      writeFileSync(join(dir, 'trace.json'), JSON.stringify({ name: 'trace', agent: { tree }, steps }));
      const trace = await run('simulate', '--runner', 'reference', '--scenario', join(dir, 'trace.json'));
      expect(trace.code).toBe(2);
      expect(trace.stderr).toMatch(/the world's trace limit: .*use fewer spawns or a smaller agent\.tree/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes the timeline picture of each runner with --html', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runner-chaos-html-'));
    try {
      const { code, stdout } = await run('simulate', '--html', dir, '--no-timeline');
      expect(code).toBe(0);
      for (const runner of ['reference', 'legacy', 'pr440-initial']) {
        expect(stdout).toContain(`timeline picture of ${runner}: ${join(dir, `${runner}.html`)}`);
        const html = readFileSync(join(dir, `${runner}.html`), 'utf8');
        expect(html).toMatch(/^<!doctype html>/);
        expect(html).toContain('class="axis-break"');
      }
      expect(readFileSync(join(dir, 'legacy.html'), 'utf8')).toMatch(
        /<title>legacy breaks A3, S1, S2 in seed-incident<\/title>/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('splits a campaign into shards that a merge joins, and keeps going for --minutes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runner-chaos-shards-'));
    try {
      const shardOf = (i: number, artifacts: string) =>
        run(
          'check',
          '--runner',
          'reference',
          '--runs',
          '90',
          '--seed',
          '5',
          '--shard',
          `${i}/3`,
          '--artifacts',
          join(dir, artifacts),
        );
      const seeds: string[] = [];
      for (const i of [1, 2, 3]) {
        const shard = await shardOf(i, `s${i}`);
        expect(shard.code).toBe(0);
        const said = new RegExp(`shard ${i}/3: 30 of 90 scenarios, fast-check seed (-?\\d+)`).exec(shard.stdout);
        expect(said, shard.stdout).not.toBeNull();
        seeds.push(said![1]!);
      }
      // Each shard plays its own part of the seed space, the same one on a rerun.
      expect(new Set(seeds).size).toBe(3);
      const again = await shardOf(2, 'again');
      expect(again.stdout).toContain(`fast-check seed ${seeds[1]}`);
      const merged = await run(
        'merge',
        join(dir, 's1'),
        join(dir, 's2'),
        join(dir, 's3'),
        '--artifacts',
        join(dir, 'merged'),
      );
      expect(merged.code).toBe(0);
      expect(merged.stdout).toMatch(/^90 scenarios in \d+ ms; verdict: as declared$/m);
      expect(readFileSync(join(dir, 'merged', 'junit.xml'), 'utf8')).toMatch(/failures="0"/);
      // A shard that catches an undeclared runner fails the merge, with its counterexample.
      const caught = await run(
        'check',
        '--runner',
        'legacy',
        '--runs',
        '30',
        '--seed',
        '1',
        '--shard',
        '1/2',
        '--artifacts',
        join(dir, 'bad'),
      );
      expect(caught.code).toBe(0); // legacy declares what it breaks: as declared
      expect((await run('merge', join(dir, 'bad'), join(dir, 's1'))).stderr).toMatch(
        /different runners \(legacy, reference\)/,
      );
      expect(await run('merge', join(dir, 'nothing-here'))).toMatchObject({
        code: 2,
        stderr: expect.stringMatching(/cannot read/),
      });
      expect(await run('check', '--runner', 'reference', '--shard', '4/3')).toMatchObject({
        code: 2,
        stderr: expect.stringMatching(/--shard "4\/3" is not i\/n/),
      });
      const campaign = await run(
        'check',
        '--runner',
        'reference',
        '--runs',
        '20',
        '--seed',
        '9',
        '--minutes',
        '0.01',
        '--artifacts',
        join(dir, 'minutes'),
      );
      expect(campaign.code).toBe(0);
      expect(campaign.stdout).toMatch(
        /campaign: \d+ round\(s\) of up to 20 scenarios, seeds 9 to \d+, \d+ scenarios in [\d.]+ s \(\d+ scenarios\/s\)/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Each thread loads the TypeScript sources through tsx: slow on a loaded machine, hence the bound.
  it('gives the same report on any number of worker threads, for a seed', { timeout: 240_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runner-chaos-workers-'));
    try {
      // Timing and file names aside, the report of one thread and of three is the same document:
      // every outcome, run count, counterexample and fast-check path.
      const stable = (json: string) =>
        JSON.stringify(JSON.parse(json), (key, value) =>
          /^(wallMs|msToFirstFailure|file|htmlFile|replayCommand)$/.test(key) ? undefined : value,
        );
      const reportOn = async (runner: string, workers: number) => {
        const out = await run(
          'check',
          '--runner',
          runner,
          '--runs',
          '200',
          '--seed',
          '5',
          '--all',
          '--workers',
          String(workers),
          '--json',
          '--artifacts',
          join(dir, `${runner}-${workers}`),
        );
        expect(out.code, out.stderr).toBe(0);
        return stable(out.stdout);
      };
      const caught = await reportOn('no-dedupe', 1);
      expect(await reportOn('no-dedupe', 3)).toBe(caught);
      // It was caught: the comparison is not of two empty reports.
      expect(JSON.parse(caught).violated).toContain('A3');
      expect(await reportOn('reference', 2)).toBe(await reportOn('reference', 1));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it(
    'proves within bounds with --exhaustive, and refuses a bound that would not finish',
    { timeout: 240_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'runner-chaos-exhaustive-'));
      try {
        // On two worker threads (each loads the sources through tsx here): the same proof.
        const held = await run(
          'check',
          '--runner',
          'reference',
          '--exhaustive',
          '--depth',
          '1',
          '--workers',
          '2',
          '--artifacts',
          dir,
        );
        expect(held.code, held.stderr).toBe(0);
        expect(held.stdout).toMatch(/2 worker threads/);
        // The start and every move of the alphabet (38 with two session ids), none merged.
        const all = upperBound(1, 2, true) + 1;
        expect(held.stdout).toMatch(
          new RegExp(
            `^${all} distinct scenarios \\(${all} states\\) up to depth 1 with 2 session\\(s\\): every invariant held`,
            'm',
          ),
        );
        const caught = await run('check', '--runner', 'legacy', '--exhaustive', '--workers', '1', '--artifacts', dir);
        expect(caught.code).toBe(0); // legacy declares S1 S2: caught as declared
        expect(caught.stdout).toMatch(
          /shortest counterexample \(1 move\(s\), .*\): S1, S2\n  1\. spawn new \[after-timeout\]/,
        );
        expect(caught.stdout).toMatch(/replay: .*simulate --runner legacy --scenario .*legacy-exhaustive-S1\.json/);
        expect(
          await run('check', '--runner', 'reference', '--exhaustive', '--depth', '5', '--workers', '1'),
        ).toMatchObject({
          code: 2,
          stderr: expect.stringMatching(
            /--depth 5 --sessions 2 is up to [\d,]+ scenarios, about [\d.]+ min .*give --yes/,
          ),
        });
        expect(await run('check', '--runner', 'reference', '--exhaustive', '--runs', '5')).toMatchObject({
          code: 2,
          stderr: expect.stringMatching(/--exhaustive explores every scenario up to --depth: it takes no --runs/),
        });
        // In another world, on two threads: the threads play in it (slow-io alone shows this bug at depth 2).
        const slow = await run(
          'check',
          '--runner',
          'dedupe-after-state-write',
          '--exhaustive',
          '--depth',
          '2',
          '--world',
          'slow-io',
          '--workers',
          '2',
          '--artifacts',
          dir,
        );
        expect(slow.code, slow.stderr).toBe(0); // declares A3: caught as declared
        expect(slow.stdout).toMatch(/world slow-io \(state writes/);
        expect(slow.stdout).toMatch(/shortest counterexample \(2 move\(s\), .*\): A3/);
        expect(await run('check', '--runner', 'reference', '--world', 'slow-io')).toMatchObject({
          code: 2,
          stderr: expect.stringMatching(/--world is for --exhaustive/),
        });
        expect(await run('check', '--runner', 'reference', '--depth', '2')).toMatchObject({
          code: 2,
          stderr: expect.stringMatching(/--depth is for --exhaustive/),
        });
        // Other orders of same-instant events, on two threads: they are told the budget.
        const orders = await run(
          'check',
          '--runner',
          'reference',
          '--exhaustive',
          '--depth',
          '1',
          '--ties',
          '1',
          '--workers',
          '2',
        );
        expect(orders.code, orders.stderr).toBe(0);
        const count = Number(/^([\d,]+) distinct scenarios/m.exec(orders.stdout)?.[1]?.replace(/,/g, ''));
        expect(count).toBeGreaterThan(38);
        expect(orders.stdout).toMatch(
          /up to depth 1 with 2 session\(s\), with up to 1 same-instant event\(s\) out of scheduling order: every invariant held/,
        );
        expect(await run('check', '--runner', 'reference', '--ties', '1')).toMatchObject({
          code: 2,
          stderr: expect.stringMatching(/--ties is for --exhaustive/),
        });
        expect(await run('check', '--runner', 'reference', '--exhaustive', '--ties', 'some')).toMatchObject({
          code: 2,
          stderr: expect.stringMatching(/"some" is not a whole number/),
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('loads a runner from a module path', async () => {
    const { code, stdout } = await run('simulate', '--runner', 'runner/reference.ts', '--json');
    expect(code).toBe(0);
    expect(JSON.parse(stdout).runners.map((r: { runner: string }) => r.runner)).toEqual(['reference']);
  });

  it('exits 2, not 1, when the runner under test leaves an unhandled rejection', () => {
    const dir = mkdtempSync(join(tmpdir(), 'runner-chaos-cli-'));
    try {
      const module = join(dir, 'rejects.mjs');
      writeFileSync(
        module,
        'export default { name: "rejects", declares: [], create: () => ({ spawnSession: async () => { void Promise.reject(new Error("forgotten rejection")); return { type: "error", reason: "spawn-failed", message: "x" }; }, sessionStarted: async () => {}, stopSession: async () => ({ status: "still_alive" }), listSessions: async () => [], shutdown: async () => {} }) };',
      );
      let status = 0;
      let stderr = '';
      try {
        execFileSync(
          process.execPath,
          ['--import', 'tsx', 'cli/bin.ts', 'check', '--runner', module, '--runs', '5', '--artifacts', dir],
          { encoding: 'utf8', timeout: 60_000, stdio: 'pipe' },
        );
      } catch (error) {
        status = (error as { status: number }).status;
        stderr = (error as { stderr: string }).stderr;
      }
      expect(status).toBe(2);
      expect(stderr).toMatch(
        /unhandled promise rejection \(from the runner under test\?\): Error: forgotten rejection/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Through the built bin, as an installed package runs (tsx found beside the module, not on the
  // command line), from a package of npm init's default type: tsx compiles the module's imports to
  // require() calls, and its require('runner-chaos') must reach the package's ES modules.
  it(
    "loads a TypeScript runner module of a CommonJS package (npm init's default) written with import and export",
    { timeout: 120_000 },
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'runner-chaos-cjs-'));
      try {
        writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'a-commonjs-runner', type: 'commonjs' }));
        // The package as the runner's repository would have it installed (a link to this one).
        mkdirSync(join(dir, 'node_modules'));
        symlinkSync(new URL('..', import.meta.url).pathname, join(dir, 'node_modules', 'runner-chaos'));
        // legacy's bug, declared by nobody.
        writeFileSync(
          join(dir, 'undeclared.ts'),
          "import { knownBadRunners } from 'runner-chaos';\n" +
            "const legacy = knownBadRunners.find((r) => r.name === 'legacy')!;\n" +
            "export const runner = { ...legacy, name: 'undeclared-cjs', declares: [] };\n" +
            'export default runner;\n',
        );
        let status = 0;
        let stdout = '';
        let stderr = '';
        try {
          stdout = execFileSync(
            process.execPath,
            ['cli/dev-bin.mjs', 'cli', 'check', '--runner', join(dir, 'undeclared.ts'), '--runs', '200'],
            { encoding: 'utf8', timeout: 110_000, stdio: 'pipe' },
          );
        } catch (error) {
          ({ status, stdout, stderr } = error as { status: number; stdout: string; stderr: string });
        }
        // Loaded, and its runner found (not its whole exports object): judged and caught, exit 1.
        expect(stderr).not.toMatch(/could not import|does not export a valid runner/);
        expect(status, stderr).toBe(1);
        expect(stdout).toMatch(/verdict: NOT as declared/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('works as a real command, with the JSON alone on stdout', () => {
    const stdout = execFileSync(process.execPath, ['--import', 'tsx', 'cli/bin.ts', 'simulate', '--json'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(JSON.parse(stdout).runners).toHaveLength(3);
  });
});

describe('runner-chaos check', () => {
  it('exits 0 for the reference, and as declared for a known-bad runner, with its counterexample written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runner-chaos-check-'));
    try {
      const ok = await run('check', '--runner', 'reference', '--runs', '30', '--json');
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ runner: 'reference', verdict: 'as-declared', violated: [] });
      const bad = await run(
        'check',
        '--runner',
        'legacy',
        '--runs',
        '500',
        '--seed',
        '1',
        '--artifacts',
        dir,
        '--without',
        'forgedWebhooks',
        // Judged on S1 alone: which invariant the first counterexample breaks follows the generators.
        '--invariant',
        'S1',
      );
      expect(bad.code).toBe(0); // legacy declares S1: being caught is its verdict
      expect(bad.stdout).toMatch(/S1 {2}VIOLATED after \d+ scenarios/);
      expect(bad.stdout).toMatch(/replay: pnpm simulate --runner legacy --scenario .*legacy-S1\.json/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 1 when a runner that declares nothing is caught, 2 on bad usage', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runner-chaos-check-'));
    try {
      writeFileSync(
        join(dir, 'undeclared.mjs'),
        'import legacy from "' +
          new URL('../fixtures/runners/legacy.ts', import.meta.url).pathname +
          '"; export default { ...legacy, name: "undeclared", declares: [] };',
      );
      const caught = await run('check', '--runner', join(dir, 'undeclared.mjs'), '--runs', '200', '--artifacts', dir);
      expect(caught.code).toBe(1);
      expect(caught.stdout).toMatch(/verdict: NOT as declared/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(await run('check')).toMatchObject({ code: 2, stderr: expect.stringMatching(/needs --runner/) });
    expect(await run('check', '--runner', 'reference', '--invariant', 'Z9')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/unknown invariant/),
    });
    expect(await run('check', '--runner', 'reference', '--without', 'gremlins')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/unknown fault kind/),
    });
    expect(await run('check', '--runner', 'reference', '--path', '1:2')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/give both/),
    });
  });

  it('exits 2 when the runner adapter itself is broken: hangs, throws, or crashes in a timer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runner-chaos-check-'));
    const adapters = {
      'hangs.mjs': [
        'export default { name: "hangs", declares: [], create: () => new Promise(() => {}) };',
        /create\(\) did not resolve/,
      ],
      'throws.mjs': [
        'export default { name: "throws", declares: [], create: () => { throw new Error("adapter exploded"); } };',
        /adapter exploded/,
      ],
      'crashes.mjs': [
        'export default { name: "crashes", declares: [], create: (ports) => ({ spawnSession: () => new Promise(() => ports.clock.setTimeout(() => { throw new Error("timer blew up"); }, 10)), sessionStarted: async () => {}, stopSession: async () => ({ status: "still_alive" }), listSessions: async () => [], shutdown: async () => {} }) };',
        /timer blew up/,
      ],
    } as const;
    try {
      for (const [file, [source, message]] of Object.entries(adapters)) {
        writeFileSync(join(dir, file), source);
        const broken = await run('check', '--runner', join(dir, file), '--runs', '5', '--artifacts', dir);
        expect(broken.code, file).toBe(2);
        expect(broken.stdout).toMatch(/ERROR: the harness could not run the runner: /);
        expect(broken.stdout).toMatch(message);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
