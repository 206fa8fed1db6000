// Around the whole test run: every real process a test starts carries RUNNER_CHAOS_RUN with this
// run's prefix. After the last test, any such process still alive is a leak of ours: it is
// reported as a failure, and killed (after its start time was checked). Nothing else is touched.
import { randomBytes } from 'node:crypto';
import { findMarkedByPrefix, signalIfSame } from './runner/node/proc.ts';
import { BYSTANDER_MARKER_ENV, RUN_MARKER_ENV } from './runner/wire.mjs';
import { withOutsideGates } from './vitest.config.ts';

const prefix = `test-${randomBytes(6).toString('hex')}`;

export function setup(): void {
  process.env.RUNNER_CHAOS_RUN_PREFIX = prefix;
  if (!withOutsideGates)
    console.log(
      "outside gates not run (the packed tarball installed with npm and pnpm, the registry's tiann/hapi): `pnpm test:outside`, or CI=true, runs them",
    );
}

export async function teardown(): Promise<void> {
  if (process.platform !== 'linux') return;
  const left = [...findMarkedByPrefix(RUN_MARKER_ENV, prefix), ...findMarkedByPrefix(BYSTANDER_MARKER_ENV, prefix)];
  for (const p of left) signalIfSame(p.pid, p.starttime, 'SIGKILL');
  if (left.length > 0) {
    throw new Error(
      `the tests leaked ${left.length} process(es) carrying this run's marker: ${left.map((p) => p.pid).join(', ')} (now killed)`,
    );
  }
  console.log(`leak check: no process carrying ${RUN_MARKER_ENV}=${prefix}-* is alive after the tests`);
}
