// A trace as a readable text timeline: one line per event, virtual time first.
import { formatMs } from './oracle.ts';
import type { Answer, TraceEvent } from './trace.ts';

export interface TimelineOptions {
  /** Include the runner's own log lines. */
  readonly logs?: boolean;
  /** At most this many lines; the rest is summarised in one line. */
  readonly maxLines?: number;
  /**
   * A real run's time scale (real ms per scenario ms). The clock column is scenario time; the
   * runner's own words (answers, logs) speak its real milliseconds, so each such duration is
   * given in scenario time beside it: one unit per clock, and every number read on one clock.
   */
  readonly realTimeScale?: number;
}

/** "within 300 ms" of a runner at scale 0.02 reads "within 300 ms real (15 s scenario)". */
function inScenarioTime(text: string, timeScale: number): string {
  return text.replace(/\b(\d+(?:\.\d+)?) ?ms\b/g, (all, ms: string) => {
    const scenarioMs = Number(ms) / timeScale;
    return `${all} real (${formatMs(Math.round(scenarioMs))} scenario)`;
  });
}

function describeAnswer(answer: Answer): string {
  if ('failure' in answer) return `failed: ${answer.failure}`;
  switch (answer.op) {
    case 'spawn': {
      const r = answer.result;
      return r.type === 'success'
        ? `success: session ${r.sessionId} (pid ${r.pid})`
        : `error ${r.reason}: ${r.message}`;
    }
    case 'stop':
      return `${answer.result.status}${answer.result.message !== undefined ? ` (${answer.result.message})` : ''}`;
    case 'list':
      return answer.result.length === 0
        ? 'no sessions'
        : answer.result.map((s) => `${s.sessionId}@${s.pid}`).join(', ');
    case 'shutdown':
      return 'done';
  }
}

export function describeEvent(event: TraceEvent): string {
  switch (event.kind) {
    case 'request':
      return `-> #${event.requestId} ${event.detail}`;
    case 'answer':
      return `<- #${event.requestId} ${describeAnswer(event.answer)}`;
    case 'process-start': {
      const of = event.spawnIndex !== undefined ? ` of child #${event.spawnIndex}` : '';
      const seen = event.firstSeen === true ? ', first seen here: it started earlier' : '';
      return `   + pid ${event.pid} ${event.role}${of} (ppid ${event.ppid}, pgid ${event.pgid}${seen})`;
    }
    case 'process-exit': {
      const of = event.spawnIndex !== undefined ? ` of child #${event.spawnIndex}` : '';
      // Seen from outside (a process that is not the harness's child), the status is not known.
      const how =
        event.exit.signal !== null
          ? event.exit.signal
          : event.exit.code !== null
            ? `code ${event.exit.code}`
            : 'status not observable: not our child';
      return `   x pid ${event.pid} ${event.role}${of} exited (${how})`;
    }
    case 'signal':
      return `   ! ${event.from} sends ${event.signal} to ${event.target}${event.delivered ? '' : ' (no such process)'}`;
    case 'webhook':
      return `   ~ ${event.forged ? 'FORGED ' : ''}webhook: session ${event.sessionId}, hostPid ${event.pid}, startedBy ${event.startedBy}${event.inFlightMs !== undefined ? ` (reaches the runner ${event.inFlightMs} ms later)` : ''}`;
    case 'hub':
      return `   # hub: session ${event.sessionId} ${event.op === 'register' ? 'created (active on the dashboard)' : event.op === 'archive' ? 'archived' : 'inactive (its process died)'}`;
    case 'worktree':
      return `   @ git worktree ${event.op} ${event.path}${event.error !== undefined ? ` FAILED: ${event.error}` : ''}`;
    case 'runner':
      return `== runner ${event.op === 'start' ? 'starts' : 'crashes (SIGKILL)'} (pid ${event.pid})`;
    case 'log':
      return `   . [${event.level}] ${event.message}${event.fields !== undefined ? ` ${JSON.stringify(event.fields)}` : ''}`;
    case 'violation':
      return `!! VIOLATION ${event.invariant}: ${event.message}`;
  }
}

export function renderTimeline(events: readonly TraceEvent[], options: TimelineOptions = {}): string {
  const lines: string[] = [];
  const max = options.maxLines ?? Number.POSITIVE_INFINITY;
  let skipped = 0;
  for (const event of events) {
    if (event.kind === 'log' && options.logs !== true) continue;
    const described = describeEvent(event);
    const runnersWords = event.kind === 'answer' || event.kind === 'log';
    const text =
      options.realTimeScale !== undefined && runnersWords
        ? inScenarioTime(described, options.realTimeScale)
        : described;
    if (lines.length >= max) {
      skipped++;
      continue;
    }
    lines.push(`${formatMs(event.atMs).padStart(12)}  ${text}`);
  }
  if (skipped > 0) lines.push(`${''.padStart(12)}  ... ${skipped} more events`);
  return lines.join('\n');
}
