// Benchmark of tree kills (issue #4): 100 sessions of 10 processes each — 4 plain children, one
// that ignores SIGTERM, 2 that setsid, 2 that double-fork away to init — stopped all at once,
// first by the reference runner's kill routine, then by tree-kill (SIGTERM, then SIGKILL after
// the same grace), in one run. Reports the time to stop them all and how many were left alive.
// Every process carries this run's marker; whatever is left is killed (identity checked) at the end.
// Run: pnpm bench:kill
import treeKill from 'tree-kill';
import { NodeProcessHost } from '../runner/node/node-process-host.ts';
import { NodeClock } from '../runner/node/node-ports.ts';
import { findMarked, signalIfSame } from '../runner/node/proc.ts';
import { killTree, SPAWN_MARKER_ENV } from '../runner/core/kill-tree.ts';
import type { ProcessRef } from '../runner/ports.ts';
import { RUN_MARKER_ENV } from '../runner/wire.mjs';

const SESSIONS = 100;
const PER_SESSION = 10;
const TIMING = { termGraceMs: 1_000, killGraceMs: 1_000, pollIntervalMs: 50 };
const runId = `bench-kill-${process.pid}-${Date.now()}`;

// sh is the session's root; `trap '' TERM` is inherited as "ignored" across exec.
const TREE = [
  'sleep 1000 & sleep 1000 & sleep 1000 & sleep 1000 &',
  "(trap '' TERM; exec sleep 1000) &",
  'setsid sleep 1000 & setsid sleep 1000 &',
  '(setsid sleep 1000 &) ; (setsid sleep 1000 &) ;',
  'wait',
].join(' ');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const alive = (marker: string) => findMarked(SPAWN_MARKER_ENV, marker).length;

async function spawnSessions(
  host: NodeProcessHost,
  round: string,
): Promise<Array<{ ref: ProcessRef; marker: string }>> {
  const sessions: Array<{ ref: ProcessRef; marker: string }> = [];
  for (let i = 0; i < SESSIONS; i++) {
    const marker = `${round}-${i}`;
    sessions.push({
      ref: await host.spawnDetached({
        command: 'sh',
        args: ['-c', TREE],
        cwd: '/',
        env: { [SPAWN_MARKER_ENV]: marker },
      }),
      marker,
    });
  }
  const expected = SESSIONS * PER_SESSION;
  for (let i = 0; i < 200 && findMarked(RUN_MARKER_ENV, runId).length < expected; i++) await sleep(50);
  return sessions;
}

function treeKillAsync(pid: number, signal: string): Promise<void> {
  return new Promise((resolve) => treeKill(pid, signal, () => resolve()));
}

/** Whatever stops the benchmark, no process it started may outlive it. */
function killEverythingMarked(): void {
  for (const p of findMarked(RUN_MARKER_ENV, runId)) signalIfSame(p.pid, p.starttime, 'SIGKILL');
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    killEverythingMarked();
    process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGHUP' ? 1 : 15));
  });
}
process.once('exit', killEverythingMarked);

async function main(): Promise<void> {
  const host = new NodeProcessHost({ extraEnv: { [RUN_MARKER_ENV]: runId } });
  const clock = new NodeClock();
  const rows: string[] = [];
  try {
    // Ours: group + marked escapees, SIGTERM then SIGKILL, verified.
    let sessions = await spawnSessions(host, 'ours');
    const started = findMarked(RUN_MARKER_ENV, runId).length;
    let t0 = performance.now();
    const outcomes = await Promise.all(
      sessions.map((s) => killTree(host, clock, { root: s.ref, marker: s.marker }, TIMING)),
    );
    let ms = performance.now() - t0;
    const oursLeft = sessions.reduce((n, s) => n + alive(s.marker), 0);
    rows.push(
      `| reference kill routine (group + marker scan, SIGTERM then SIGKILL, verified) | ${started} | ${Math.round(ms)} | ${oursLeft} | ${outcomes.filter((o) => o.survivors.length > 0).length} |`,
    );
    for (const p of findMarked(RUN_MARKER_ENV, runId)) signalIfSame(p.pid, p.starttime, 'SIGKILL');
    await sleep(300);

    // tree-kill: walks `ps --ppid` from the root; SIGTERM, then SIGKILL after the same grace.
    sessions = await spawnSessions(host, 'treekill');
    const started2 = findMarked(RUN_MARKER_ENV, runId).length;
    t0 = performance.now();
    await Promise.all(sessions.map((s) => treeKillAsync(s.ref.pid, 'SIGTERM')));
    await sleep(TIMING.termGraceMs);
    await Promise.all(sessions.map((s) => treeKillAsync(s.ref.pid, 'SIGKILL')));
    await sleep(TIMING.killGraceMs / 4);
    ms = performance.now() - t0;
    const treeLeft = sessions.reduce((n, s) => n + alive(s.marker), 0);
    rows.push(
      `| tree-kill 1.2 (SIGTERM, grace, SIGKILL) | ${started2} | ${Math.round(ms)} | ${treeLeft} | ${sessions.filter((s) => alive(s.marker) > 0).length} |`,
    );
  } finally {
    clock.clearAll();
    for (let round = 0; round < 10; round++) {
      const left = findMarked(RUN_MARKER_ENV, runId);
      if (left.length === 0) break;
      for (const p of left) signalIfSame(p.pid, p.starttime, 'SIGKILL');
      await sleep(100);
    }
  }
  console.log(
    `# Tree-kill benchmark\n\n${SESSIONS} sessions x ${PER_SESSION} processes (4 plain, 1 ignoring SIGTERM, 2 setsid, 2 double-forked), stopped all at once; grace ${TIMING.termGraceMs} ms after SIGTERM.\n`,
  );
  console.log('| routine | processes started | ms to stop all | processes left alive | sessions not fully stopped |');
  console.log('|---|---|---|---|---|');
  for (const row of rows) console.log(row);
}

await main();
