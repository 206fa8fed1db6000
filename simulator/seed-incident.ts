// The incident this project exists for (DESIGN.md §1), as a scenario: N resume clicks on one
// session, each after the previous one answered its timeout error, with a child that takes
// `delay` to boot.
import { parseScenario, type Scenario } from './scenario.ts';
import { humanDuration } from './time-axis.ts';

export interface SeedIncidentOptions {
  readonly resumes: number;
  readonly delayMs: number;
  readonly timeoutMs: number;
  readonly worktree: boolean;
  readonly seed: number;
}

/** The user sees the error, reads it, and clicks resume again. */
const CLICK_AGAIN_AFTER_ERROR_MS = 5_000;

export function seedIncidentScenario(options: SeedIncidentOptions): Scenario {
  const steps = [];
  for (let click = 0; click < options.resumes; click++) {
    steps.push({ op: 'spawn' as const, resume: 'conversation-1', ...(options.worktree ? { worktree: true } : {}) });
    steps.push({ op: 'advance' as const, ms: options.timeoutMs + CLICK_AGAIN_AFTER_ERROR_MS });
  }
  return parseScenario({
    name: 'seed-incident',
    description: `${options.resumes} resume clicks on one session; the agent boots in ${humanDuration(options.delayMs)}; webhook timeout ${humanDuration(options.timeoutMs)}`,
    seed: options.seed,
    runnerConfig: { webhookTimeoutMs: options.timeoutMs },
    agent: { bootDelayMs: options.delayMs },
    steps,
  });
}
