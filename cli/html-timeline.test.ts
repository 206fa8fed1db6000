// A failing check leaves a counterexample JSON, an HTML timeline and JUnit XML; the timeline is
// loaded in headless Chromium (Debian's package; CI installs it), checked for what it draws, and
// photographed.
import { describe, expect, it, vi } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
      '--seed',
      '1',
      '--artifacts',
      join(dir, 'artifacts'),
      '--without',
      'forgedWebhooks',
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
      expect(junit).toMatch(/<failure message="ghost session sess-1: [^"]*" type="S1">/);
      const html = readFileSync(join(artifacts, 'undeclared-legacy-S1.html'), 'utf8');
      expect(html).toMatch(/<title>undeclared-legacy breaks S1, S2<\/title>/);
      expect(html.match(/data-kind="violation"/g)?.length).toBeGreaterThan(0);
      expect(html).toMatch(/<li class="violation"><b>S1<\/b>/);
      expect(html).not.toMatch(/<script|\ssrc=|\shref=|@import|url\(/); // self-contained: nothing runs, nothing fetched
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
        for (const lane of ['violations', 'requests', 'child #0', 'runner'])
          expect(dom).toContain(`data-lane="${lane}"`);
        expect(dom).toMatch(
          /<g class="event violation" data-kind="violation" data-lane="violations"><title>[^<]*VIOLATION S1: ghost session sess-1/,
        );
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
