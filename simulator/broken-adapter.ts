// A runner adapter that breaks the contract itself (its create() throws, hangs or returns no
// runner; an operation throws instead of answering, or answers something that is not an
// answer) cannot be judged: the harness stops with exit 2 and says what is wrong, rather than
// passing a runner that was never really driven.
import { SPAWN_ERROR_REASONS, type Runner } from '../runner/contract.ts';

export class BrokenAdapterError extends Error {
  override readonly name = 'BrokenAdapterError';
}

const OPERATIONS = ['spawnSession', 'sessionStarted', 'stopSession', 'listSessions', 'shutdown'] as const;

/** What `create()` returned, checked to be a Runner: an object with the five operations. */
export function asRunner(runnerName: string, created: unknown): Runner {
  if (typeof created !== 'object' || created === null) {
    throw new BrokenAdapterError(
      `runner "${runnerName}": create() returned ${created === null ? 'null' : typeof created}, not a runner (an object with ${OPERATIONS.join(', ')})`,
    );
  }
  const missing = OPERATIONS.filter((op) => typeof (created as Record<string, unknown>)[op] !== 'function');
  if (missing.length > 0) {
    throw new BrokenAdapterError(`runner "${runnerName}": create() returned an object without ${missing.join(', ')}`);
  }
  return created as Runner;
}

/** Why an operation's answer is not one the contract allows, or undefined when it is. */
export function malformedAnswer(op: 'spawn' | 'stop' | 'list' | 'shutdown', answer: unknown): string | undefined {
  const shown = JSON.stringify(answer) ?? String(answer);
  switch (op) {
    case 'spawn': {
      const a = answer as { type?: unknown; sessionId?: unknown; pid?: unknown; reason?: unknown } | null;
      if (a?.type === 'success' && typeof a.sessionId === 'string' && typeof a.pid === 'number') return undefined;
      if (a?.type === 'error' && (SPAWN_ERROR_REASONS as readonly unknown[]).includes(a.reason)) return undefined;
      if (a?.type === 'error')
        return `spawnSession answered ${shown}: its reason is not one of the contract's (${SPAWN_ERROR_REASONS.join(', ')})`;
      return `spawnSession answered ${shown}, not { type: 'success', sessionId, pid } or { type: 'error', reason, message }`;
    }
    case 'stop': {
      const status = (answer as { status?: unknown } | null)?.status;
      if (status === 'stopped' || status === 'already_gone' || status === 'still_alive') return undefined;
      return `stopSession answered ${shown}, not { status: 'stopped' | 'already_gone' | 'still_alive' }`;
    }
    case 'list':
      // Each entry as the contract's SessionInfo has it: a dashboard reads startedBy to tell the
      // runner's own sessions from a terminal's, and the pid to show it.
      return Array.isArray(answer) &&
        answer.every((entry) => {
          const s = entry as { sessionId?: unknown; pid?: unknown; startedBy?: unknown } | null;
          return (
            typeof s?.sessionId === 'string' &&
            typeof s.pid === 'number' &&
            (s.startedBy === 'runner' || s.startedBy === 'terminal')
          );
        })
        ? undefined
        : `listSessions answered ${shown}, not an array of { sessionId: string, pid: number, startedBy: 'runner' | 'terminal' }`;
    case 'shutdown':
      return undefined;
  }
}
