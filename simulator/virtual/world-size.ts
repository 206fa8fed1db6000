// The virtual world's bounds sized from the scenario, so that a big scenario (100 sessions of 1,000
// processes each) fits, and a runner that never settles is still stopped with a clear message.
import { agentTreeFor, type DescendantPlan, type Scenario } from '../scenario.ts';
import { WorldLimitError } from '../world-limit.ts';

/** The biggest trace any scenario may ask for: about 1 GiB of events. */
export const MAX_TRACE_EVENTS = 5_000_000;
const BASE_TRACE_EVENTS = 200_000;
/** Events a process brings to a trace at most in the normal course: start, signals, exit, logs. */
const EVENTS_PER_PROCESS = 8;
/** Events a request brings: request, answer, the runner's log lines, hub and worktree calls. */
const EVENTS_PER_STEP = 40;

function treeSize(tree: readonly DescendantPlan[]): number {
  let size = 0;
  for (const node of tree) size += 1 + treeSize(node.children ?? []);
  return size;
}

/** How many processes one child of the scenario brings at most: its wrapper and every descendant. */
function processesPerChild(scenario: Scenario): number {
  let most = 1 + treeSize(agentTreeFor(scenario, Number.MAX_SAFE_INTEGER));
  scenario.agents.forEach((_, index) => {
    most = Math.max(most, 1 + treeSize(agentTreeFor(scenario, index)));
  });
  return most;
}

/**
 * Trace capacity for a scenario: room for every process of every spawn it asks for, every step and
 * a margin. A runner that keeps acting past that does not settle, and is told so.
 */
export function traceCapacityFor(scenario: Scenario): number {
  const spawns = Math.max(scenario.steps.filter((s) => s.op === 'spawn').length, scenario.agents.length);
  const perChild = processesPerChild(scenario);
  const wanted = BASE_TRACE_EVENTS + spawns * perChild * EVENTS_PER_PROCESS + scenario.steps.length * EVENTS_PER_STEP;
  if (wanted > MAX_TRACE_EVENTS) {
    throw new WorldLimitError(
      'trace',
      `the scenario needs room for about ${wanted} trace events (${spawns} spawns of up to ${perChild} processes each), more than the ${MAX_TRACE_EVENTS} the world keeps`,
      'use fewer spawns or a smaller agent.tree',
    );
  }
  return wanted;
}
