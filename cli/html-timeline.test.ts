// A failing check leaves a counterexample JSON, an HTML timeline and JUnit XML; the timeline is
// loaded in headless Chromium (Debian's package; CI installs it), checked for what it draws, and
// photographed.
import { describe, expect, it, vi } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunnerDefinition } from '../runner/contract.ts';
import { main } from './main.ts';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const legacyModule = new URL('../fixtures/runners/legacy.ts', import.meta.url).pathname;

async function failingCheck(dir: string): Promise<{ code: number; stdout: string }> {
  // legacy, declaring nothing: the gate must fail on it.
  writeFileSync(
    join(dir, 'undeclared.mjs'),
    `import legacy from ${JSON.stringify(legacyModule)}; export default { ...legacy, name: 'undeclared-legacy', declares: [] };`,
  );
  let stdout = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  try {
    const code = await main([
      'check',
      '--runner',
      join(dir, 'undeclared.mjs'),
      '--runs',
      '300',
      // A seed whose first failing scenario is the ghost with its leak (seed 1 finds a leak alone).
      '--seed',
      '3',
      '--artifacts',
      join(dir, 'artifacts'),
      '--without',
      'forgedWebhooks',
      // A restart's leak breaks S2 alone: the seed-incident ghost with its leak is wanted here.
      '--without',
      'restarts',
      // The ghost and its leak (legacy breaks A3 and T1 too, in other scenarios).
      '--invariant',
      'S1',
      '--invariant',
      'S2',
    ]);
    return { code, stdout };
  } finally {
    out.mockRestore();
    process.exitCode = undefined;
  }
}

describe('CI artifacts of a failing check', () => {
  it('writes the counterexample JSON, its HTML timeline and JUnit XML', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runner-chaos-artifacts-'));
    try {
      const { code, stdout } = await failingCheck(dir);
      expect(code).toBe(1);
      const artifacts = join(dir, 'artifacts');
      const json = JSON.parse(readFileSync(join(artifacts, 'undeclared-legacy-S1.json'), 'utf8')) as {
        steps: unknown[];
      };
      expect(json.steps.length).toBeGreaterThan(0);
      const junit = readFileSync(join(artifacts, 'junit.xml'), 'utf8');
      // One scenario broke S1 and S2 (judged together): a test case each, each with its own message.
      expect(junit).toMatch(/<testsuite name="runner-chaos: undeclared-legacy" tests="2" failures="2"/);
      expect(junit).toMatch(/<failure message="leaked process tree [^"]*" type="S2">/);
      expect(junit).toMatch(/<failure message="ghost session sess-\d+: [^"]*" type="S1">/);
      const html = readFileSync(join(artifacts, 'undeclared-legacy-S1.html'), 'utf8');
      expect(html).toMatch(/<title>undeclared-legacy breaks S1, S2<\/title>/);
      // Correct counts: every violation drawn is listed, and the heading counts them by invariant.
      const drawn = html.match(/data-kind="violation"/g)?.length ?? 0;
      expect(drawn).toBeGreaterThan(1);
      expect(html.match(/<li class="violation"/g)?.length).toBe(drawn);
      const heading = new RegExp(`<h2>${drawn} violations \\(([^)]+)\\)</h2>`).exec(html)?.[1] ?? '';
      const counts = [...heading.matchAll(/([A-Z]\d) ×(\d+)/g)];
      expect(counts.map((m) => m[1])).toEqual(expect.arrayContaining(['S1', 'S2']));
      expect(counts.reduce((sum, m) => sum + Number(m[2]), 0)).toBe(drawn);
      expect(html).toMatch(/<li class="violation" value="\d+"><b>S1<\/b>/);
      expect(html).not.toMatch(/<script|\ssrc=|\shref=|@import|url\((?!#)/); // self-contained: nothing runs, nothing fetched
      expect(stdout).toMatch(/timeline: .*undeclared-legacy-S1\.html/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.runIf(CHROMIUM !== undefined)(
    'draws the violation where it happened, in headless Chromium, and takes a screenshot',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'runner-chaos-chromium-'));
      try {
        await failingCheck(dir);
        const page = `file://${join(dir, 'artifacts', 'undeclared-legacy-S1.html')}`;
        const flags = [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--hide-scrollbars',
          `--user-data-dir=${join(dir, 'profile')}`,
        ];
        const dom = execFileSync(CHROMIUM!, [...flags, '--dump-dom', page], {
          encoding: 'utf8',
          timeout: 60_000,
          stdio: ['ignore', 'pipe', 'ignore'],
        });
        // What the browser parsed: the lanes, the events, and the violation marked in its lane.
        for (const lane of ['requests', 'child #0', 'runner']) expect(dom).toContain(`data-lane="${lane}"`);
        // The ghost's violation sits in its own tree's lane (a tree alive at the end: the ghost's
        // leak), numbered, with its line on hover. Which child it is depends on the seed's scenario.
        const ghost =
          /<g class="event violation" data-kind="violation" data-lane="(child #\d+)"><title>[^<]*VIOLATION S1: ghost session sess-\d+/.exec(
            dom,
          );
        expect(ghost, 'the ghost violation in a child lane').not.toBeNull();
        expect(dom).toContain(`<g class="life" data-ending="alive" data-lane="${ghost![1]}">`);
        expect(dom).toMatch(/class="violation-band"/);
        const shot = join(dir, 'timeline.png');
        execFileSync(CHROMIUM!, [...flags, '--window-size=1400,900', `--screenshot=${shot}`, page], {
          timeout: 60_000,
          stdio: 'ignore',
        });
        const png = readFileSync(shot);
        expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
        expect(statSync(shot).size).toBeGreaterThan(20_000);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe('the timeline picture of the seed incident', () => {
  it('cuts the 58 quiet minutes, draws each tree as a life coloured by its end, and marks each violation in its lane', async () => {
    const { runScenario } = await import('../simulator/run-scenario.ts');
    const { seedIncidentScenario } = await import('../simulator/seed-incident.ts');
    const { renderHtmlTimeline } = await import('../simulator/html-timeline.ts');
    const { seedIncidentRunners } = await import('../fixtures/runners/index.ts');
    const [referenceRunner, legacyRunner] = seedIncidentRunners as [RunnerDefinition, RunnerDefinition];
    const scenario = seedIncidentScenario({
      resumes: 4,
      delayMs: 3_600_000,
      timeoutMs: 15_000,
      worktree: false,
      seed: 1,
    });
    const legacy = await runScenario(legacyRunner, scenario);
    const html = renderHtmlTimeline({ title: 'legacy', trace: legacy.trace, violations: legacy.violations });
    // The boot is cut, and the cut says how long it is.
    const cuts = [...html.matchAll(/class="axis-break" data-hidden-ms="(\d+)"/g)].map((m) => Number(m[1]));
    expect(Math.max(...cuts)).toBeGreaterThan(50 * 60_000);
    expect(html).toMatch(/class="break-label"[^>]*>58 min 45 s</);
    // Four trees, every one still alive at the end; four timeouts drawn as arrows to their trees.
    expect(html.match(/<g class="life" data-ending="alive"/g)?.length).toBe(4);
    expect(html.match(/<g class="arrow"><title>[^<]*error timeout/g)?.length).toBe(4);
    // Violations where they happened: the A3s at the later spawns, the ghosts and leaks in their trees.
    const lanes = [...html.matchAll(/data-kind="violation" data-lane="([^"]+)"/g)].map((m) => m[1]);
    expect(lanes.length).toBe(legacy.trace.filter((e) => e.kind === 'violation').length);
    expect(new Set(lanes)).toEqual(new Set(['child #0', 'child #1', 'child #2', 'child #3']));
    // The reference: four trees killed by the runner, no violation.
    const reference = await runScenario(referenceRunner, scenario);
    const clean = renderHtmlTimeline({ title: 'reference', trace: reference.trace, violations: [] });
    expect(clean.match(/<g class="life" data-ending="runner"/g)?.length).toBe(4);
    expect(clean).toContain('<h2>No violations</h2>');
  });
});
