// A fake agent in the virtual world: the wrapper process the runner started, the descendants
// it forks, and what it does when: register with the hub, post its webhook, exit, crash.
// It follows its AgentPlan and nothing else; all its timing goes through the world's queue.
import { SPAWN_TOKEN_ENV } from '../../runner/wire.mjs';
import type { AgentPlan, DescendantPlan } from '../scenario.ts';
import type { ProcessTable, VProcess } from './process-table.ts';

export interface AgentEnvironment {
  readonly table: ProcessTable;
  later(delayMs: number, run: () => void): void;
  registerWithHub(sessionId: string, process: VProcess): void;
  /**
   * Posts the webhook: false when the runner refuses the connection (it is down). Accepted, it
   * may still be `lost` in flight (the runner crashed before handling it).
   */
  postWebhook(
    from: VProcess,
    body: { sessionId: string; metadata: { hostPid: number; startedBy: 'runner'; spawnToken?: string } },
    lost: () => void,
  ): boolean;
}

const FORK_DELAY_MS = 1;
const SECOND_WEBHOOK_AFTER_MS = 1_000;
/** A refused webhook (the runner is down) is tried again this often, this many times. */
const WEBHOOK_RETRY_MS = 1_000;
const WEBHOOK_RETRIES = 5;

/**
 * Whether the process still runs its own code: alive, and no SIGKILL pending. One that got
 * SIGKILL but has not left the kernel yet (D state) forks, registers and posts nothing more.
 */
export const runsCode = (p: VProcess): boolean => p.alive && p.sigkilledAt === undefined;

export function startFakeAgent(env: AgentEnvironment, wrapper: VProcess, plan: AgentPlan, sessionId: string): void {
  const descendants: VProcess[] = [];
  env.later(FORK_DELAY_MS, () => {
    if (runsCode(wrapper)) forkTree(env, wrapper, plan.tree, descendants);
  });
  if (plan.exitAfterMs !== undefined) {
    env.later(plan.exitAfterMs, () => env.table.terminate(wrapper, { code: plan.exitCode, signal: null }));
  }
  if (plan.hubRegistration === 'before-webhook') {
    env.later(Math.max(0, plan.bootDelayMs - plan.hubLeadMs), () => {
      if (runsCode(wrapper)) env.registerWithHub(sessionId, wrapper);
    });
  }
  if (plan.webhook === 'never') return;
  const post = (retriesLeft = WEBHOOK_RETRIES): void => {
    if (!runsCode(wrapper)) return;
    const hostPid = plan.webhook === 'wrong-pid' ? (descendants[0]?.pid ?? wrapper.pid + 1) : wrapper.pid;
    // Like a cooperating agent CLI, it echoes the spawn token the runner put in its environment.
    const spawnToken = wrapper.env[SPAWN_TOKEN_ENV];
    const retry = (): void => {
      if (retriesLeft > 0) env.later(WEBHOOK_RETRY_MS, () => post(retriesLeft - 1));
    };
    const accepted = env.postWebhook(
      wrapper,
      { sessionId, metadata: { hostPid, startedBy: 'runner', ...(spawnToken !== undefined ? { spawnToken } : {}) } },
      retry,
    );
    if (!accepted) retry();
  };
  env.later(plan.bootDelayMs, post);
  if (plan.webhook === 'twice') env.later(plan.bootDelayMs + SECOND_WEBHOOK_AFTER_MS, post);
}

function forkTree(env: AgentEnvironment, parent: VProcess, plans: readonly DescendantPlan[], all: VProcess[]): void {
  for (const plan of plans) {
    const base = {
      role: 'descendant' as const,
      ...(parent.spawnIndex !== undefined ? { spawnIndex: parent.spawnIndex } : {}),
      ignoresSigterm: plan.ignoresSigterm ?? false,
      dieDelayMs: plan.dieDelayMs ?? 5,
      sigkillDeath: plan.sigkillDeath,
      clearsEnv: plan.clearsEnv === true,
    };
    let child: VProcess;
    switch (plan.escape ?? 'none') {
      case 'none':
        child = env.table.spawn({ ...base, parent });
        break;
      case 'own-group':
        child = env.table.spawn({ ...base, parent, newGroup: true });
        break;
      case 'setsid':
        child = env.table.spawn({ ...base, parent, newSession: true });
        break;
      case 'double-fork': {
        // fork; the intermediate forks again and exits: the grandchild is re-parented to init.
        const intermediate = env.table.spawn({ ...base, parent });
        child = env.table.spawn({ ...base, parent: intermediate, newSession: true });
        env.table.terminate(intermediate, { code: 0, signal: null });
        break;
      }
    }
    all.push(child);
    if (plan.children !== undefined && plan.children.length > 0) forkTree(env, child, plan.children, all);
  }
}
