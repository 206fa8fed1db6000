// The scenarios `check --http` plays against a runner command in the real world: the seed
// incident and the bug classes a black box can show (each one a few seconds of real time).
import { parseScenario, type Scenario } from '../scenario.ts';
import { seedIncidentScenario } from '../seed-incident.ts';
import type { Exercise } from './coverage.ts';

/**
 * What each scenario is for: the states it must reach for its verdict to mean anything. A run
 * that did not reach one says so ("not exercised", and why), never "held".
 */
export const EXERCISES: Readonly<Record<string, readonly Exercise[]>> = {
  'seed-incident': ['booting-at-timeout'],
  'rapid-resume': ['second-spawn-while-first-lives', 'stop-of-live-session'],
  'escapees-and-sigterm-ignorers': ['stop-after-tree-up', 'booting-at-timeout'],
  'forged-webhooks': ['forged-webhooks-delivered'],
  'restart-mid-spawn': ['restart-with-live-child', 'stop-of-live-session'],
  'exit-before-webhook': ['exit-before-report', 'list-during-boot'],
  'wrapper-crash': ['wrapper-died-agent-lives'],
  'stop-during-boot': ['stop-during-boot'],
};

export function blackBoxScenarios(): Scenario[] {
  return [
    {
      ...seedIncidentScenario({ resumes: 4, delayMs: 60_000, timeoutMs: 15_000, worktree: true, seed: 1 }),
      name: 'seed-incident',
    },
    // Paced by observation, not by fixed delays: a real process takes its own time to start and
    // report in, and a step meant for a live session waits until there is one.
    parseScenario({
      name: 'rapid-resume',
      description: "three resume clicks on one session while the first click's child boots, then a stop of the session",
      steps: [
        { op: 'spawn', resume: 'conv' },
        { op: 'until', event: 'child-start', withinMs: 60_000 },
        { op: 'spawn', resume: 'conv' },
        { op: 'spawn', resume: 'conv' },
        { op: 'until', event: 'reported', withinMs: 60_000 },
        { op: 'advance', ms: 1_000 },
        { op: 'stop', session: { spawn: 0 } },
        { op: 'advance', ms: 5_000 },
      ],
    }),
    parseScenario({
      name: 'escapees-and-sigterm-ignorers',
      description:
        'a session whose agent ignores SIGTERM and has setsid and double-forked descendants, stopped; another timed out',
      agent: { ignoresSigterm: true, tree: [{ escape: 'setsid', ignoresSigterm: true }, { escape: 'double-fork' }] },
      agents: [null, { bootDelayMs: 60_000 }],
      steps: [
        { op: 'spawn', worktree: true },
        { op: 'until', event: 'reported', withinMs: 60_000 },
        { op: 'advance', ms: 1_000 },
        { op: 'stop', session: { spawn: 0 } },
        { op: 'spawn' },
        { op: 'advance', ms: 20_000 },
      ],
    }),
    parseScenario({
      name: 'forged-webhooks',
      description:
        'webhooks naming a bystander, the runner itself, and a child (while it boots, and after it reported in)',
      // Booting for 8 s (0.8 real s at the default scale): the forged webhook naming the child
      // lands while it boots, on a loaded machine too (seen late, a fast agent had already reported).
      agent: { bootDelayMs: 8_000 },
      steps: [
        { op: 'forge-webhook', pid: { bystander: true }, sessionId: 'forged', startedBy: 'runner' },
        { op: 'forge-webhook', pid: { runner: true }, sessionId: 'forged-2', startedBy: 'runner' },
        { op: 'spawn' },
        { op: 'forge-webhook', pid: { spawn: 0 }, sessionId: 'hijack', startedBy: 'runner' },
        // Once more after the child reported in: a runner that lets a reporting PID rename its
        // session (a "reconnect") gives the session away to whoever names the PID.
        { op: 'until', event: 'reported', withinMs: 60_000 },
        { op: 'advance', ms: 1_000 },
        { op: 'forge-webhook', pid: { spawn: 0 }, sessionId: 'hijack-late', startedBy: 'runner' },
        { op: 'advance', ms: 5_000 },
      ],
    }),
    parseScenario({
      name: 'restart-mid-spawn',
      description: 'the runner is SIGKILLed while one child boots and another is a session, then restarted',
      agents: [null, { bootDelayMs: 60_000 }],
      steps: [
        { op: 'spawn', worktree: true },
        // Granted, and then time for the runner to write it down: a restart before that may
        // rightly sweep the child instead of adopting it, and the stop below would hit nothing.
        { op: 'until', event: 'granted', withinMs: 60_000 },
        // Generous: on a loaded machine (two cores, a test suite beside it) a write can take a
        // real second; 20 s of scenario time is 2 real seconds at the default time scale.
        { op: 'advance', ms: 20_000 },
        { op: 'spawn', worktree: true },
        { op: 'until', event: 'child-start', withinMs: 60_000 },
        { op: 'restart' },
        { op: 'advance', ms: 5_000 },
        { op: 'stop', session: { spawn: 0 } },
      ],
    }),
    parseScenario({
      name: 'exit-before-webhook',
      description:
        'an agent that exits four seconds after it starts, long before its webhook: its spawn must be answered soon after; a list while it boots',
      // Four seconds (400 real ms at the default scale): the list must be answered while the
      // child still lives, on a loaded machine too (one second was missed under load).
      agent: { bootDelayMs: 10_000, exitAfterMs: 4_000 },
      steps: [
        { op: 'spawn' },
        { op: 'until', event: 'child-start', withinMs: 60_000 },
        { op: 'list' },
        { op: 'advance', ms: 15_000 },
      ],
    }),
    parseScenario({
      name: 'wrapper-crash',
      description:
        'a worktree session whose wrapper is killed from outside while its agent runs on: its worktree must outlive the agent (A1), its tree must not leak (S2), and a stop of it must still stop it',
      steps: [
        { op: 'spawn', worktree: true },
        { op: 'until', event: 'granted', withinMs: 60_000 },
        { op: 'advance', ms: 1_000 },
        { op: 'crash', spawn: 0, tree: false },
        { op: 'advance', ms: 2_000 },
        { op: 'stop', session: { spawn: 0 } },
        { op: 'advance', ms: 10_000 },
      ],
    }),
    parseScenario({
      name: 'stop-during-boot',
      description:
        'a stop naming a session while its resume still boots: the answer must be true of the booting child (it is not gone), and nothing may leak or be left open',
      agent: { bootDelayMs: 8_000 },
      steps: [
        { op: 'spawn', resume: 'conv-b' },
        { op: 'until', event: 'child-start', withinMs: 60_000 },
        { op: 'stop', session: { id: 'conv-b' } },
        { op: 'advance', ms: 15_000 },
        { op: 'list' },
      ],
    }),
  ];
}
