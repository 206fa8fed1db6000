// Windows anchored to the runner's own events: an `until` step lets time run until the runner
// next does something (sends SIGTERM, fails a git call, answers "timeout"...), so that the step
// after it lands inside that window, whatever the absolute times are. Rare windows, like a
// restart in the back-off after a failed `git worktree remove`, are then hit on purpose.
import type { TraceEvent } from './trace.ts';

export const ANCHORS = [
  'sigterm',
  'sigkill',
  'git-failure',
  'timeout',
  'webhook',
  'reported',
  'granted',
  'child-start',
  'child-exit',
] as const;
export type Anchor = (typeof ANCHORS)[number];

/**
 * The anchors the generators draw. `reported` (an agent reported in: its hub row or its
 * webhook) and `granted` (a spawn answered with a session) are for scenarios paced by observation
 * in the real world, where a black-box runner's webhooks go straight to it and only the hub row
 * is seen; generated windows use `webhook`.
 */
export const GENERATED_ANCHORS: readonly Anchor[] = ANCHORS.filter((a) => a !== 'reported' && a !== 'granted');

/** Whether trace event `e` is the runner event (or world event the runner caused) `anchor` names. */
export function isAnchor(anchor: Anchor, e: TraceEvent): boolean {
  switch (anchor) {
    case 'sigterm':
    case 'sigkill':
      return e.kind === 'signal' && e.from === 'runner' && e.signal === (anchor === 'sigterm' ? 'SIGTERM' : 'SIGKILL');
    case 'git-failure':
      return e.kind === 'worktree' && e.error !== undefined;
    case 'timeout':
      return (
        e.kind === 'answer' &&
        'result' in e.answer &&
        e.answer.op === 'spawn' &&
        e.answer.result.type === 'error' &&
        e.answer.result.reason === 'timeout'
      );
    case 'webhook':
      return e.kind === 'webhook' && !e.forged;
    case 'reported':
      return (e.kind === 'webhook' && !e.forged) || (e.kind === 'hub' && e.op === 'register');
    case 'granted':
      return (
        e.kind === 'answer' && 'result' in e.answer && e.answer.op === 'spawn' && e.answer.result.type === 'success'
      );
    case 'child-start':
      return e.kind === 'process-start' && e.role === 'wrapper';
    case 'child-exit':
      return e.kind === 'process-exit' && e.role === 'wrapper';
  }
}
