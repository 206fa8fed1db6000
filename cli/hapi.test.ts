// tiann/hapi's real runner, unmodified, from the registry (@twsxtd/hapi, pinned exactly as a
// devDependency), under `check --http --profile hapi` with no wrapper: the profile sets its home,
// hub and switches, the harness's msw hub answers its machine registration, a stub `claude`
// passes its preflight, and the fake agent is what it spawns. What 0.30.7 shows (README,
// "tiann/hapi under runner-chaos"): the seed incident and rapid resumes hold; forged webhooks
// hijack a booting child's spawn (T1), get the bystander signalled (A2), and make the runner kill
// itself (A2). Never is a PID the run does not own named: PID 1 least of all.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { check } from './check.ts';
import { sandboxAvailability } from '../simulator/real/sandbox.ts';
import { fileRunPrefix } from '../simulator/test-support.ts';

// This file's processes carry a marker of its own (files run in parallel).
fileRunPrefix('hapi');

const root = fileURLToPath(new URL('..', import.meta.url));
const hapi = join(root, 'node_modules', '.bin', 'hapi');
const linuxX64 = process.platform === 'linux' && process.arch === 'x64';

interface HttpReport {
  readonly exitCode: number;
  readonly sandbox: boolean;
  readonly results: Array<{
    scenario: string;
    violations: Array<{ invariant: string; message: string }>;
    harnessErrors: string[];
    forged: Array<{ names: string; pid: number }>;
  }>;
}

describe.runIf(linuxX64)('tiann/hapi 0.30.7 from the registry, as a black box', () => {
  it('is installed (a pinned devDependency): this test never skips quietly on Linux x64', () => {
    expect(existsSync(hapi), `${hapi} is missing: run pnpm install`).toBe(true);
  });

  it(
    'holds the seed incident and rapid resumes, and is caught by forged webhooks (A2, T1), naming only processes of the run',
    { timeout: 240_000 },
    async () => {
      const outcome = await check({
        http: `${JSON.stringify(hapi)} runner start-sync`,
        profile: 'hapi',
        only: ['seed-incident', 'rapid-resume', 'forged-webhooks'],
        json: true,
        artifacts: join(root, 'runner-chaos-artifacts', 'hapi'),
      });
      const report = JSON.parse(outcome.output) as HttpReport;
      const by = (name: string) => report.results.find((r) => r.scenario === name)!;
      for (const r of report.results) expect(r.harnessErrors, r.scenario).toEqual([]);
      expect(by('seed-incident').violations).toEqual([]);
      expect(by('rapid-resume').violations).toEqual([]);
      const forged = by('forged-webhooks').violations;
      expect(forged.filter((v) => v.invariant === 'A2').map((v) => v.message)).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/bystanders received \d+ signal/),
          expect.stringMatching(/died .* after a forged webhook named its own PID/),
        ]),
      );
      expect(
        forged.some(
          (v) => v.invariant === 'T1' && /session hijack, which no child of the runner reported/.test(v.message),
        ),
      ).toBe(true);
      // Every forged webhook named a process of the run (the bystander canary, the runner, a child), never PID 1.
      const named = report.results.flatMap((r) => r.forged);
      // (The child twice: while it boots, and once more later, if it is still there to be named.)
      expect([...new Set(named.map((f) => f.names))].sort()).toEqual(['bystander', 'runner', 'spawn']);
      expect(named.length).toBeLessThanOrEqual(4);
      for (const f of named) expect(f.pid).toBeGreaterThan(1);
      // The sandbox's PID 1 is a canary: nothing signalled it.
      expect(report.results.flatMap((r) => r.violations).filter((v) => /PID 1/.test(v.message))).toEqual([]);
      expect(report.sandbox).toBe(sandboxAvailability().ok);
      expect(outcome.exitCode).toBe(1);
    },
  );
});
