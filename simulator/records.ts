// A world's ground truth about requests and the children the runner started: what the oracle
// judges. Nothing here is read from the runner; it is what the world (virtual or real) saw.
import type { AgentPlan } from './scenario.ts';
import type { Answer, ProcessRole, RequestOp } from './trace.ts';

/** What the oracle needs to know of a process; the virtual world's VProcess is one. */
export interface ProcessView {
  readonly pid: number;
  readonly role: ProcessRole;
  /** Which runner-spawned child's tree the process belongs to (survives re-parenting). */
  readonly spawnIndex?: number;
  readonly cwd: string;
  readonly alive: boolean;
  readonly exitedAt?: number;
  /** The runner signalled it: its death is then the runner's doing. */
  readonly signalledByRunner?: boolean;
  /**
   * When the runner first sent it SIGKILL, where the world can see signals (absent in a
   * black-box run): a process alive after that survived SIGKILL.
   */
  readonly sigkilledAt?: number;
  /**
   * When the runner hears of the exit through onExit (after the world's exit-notice latency),
   * where the world can tell: before then, the runner cannot have known the process exited.
   */
  readonly exitNoticeAt?: number;
}

export interface ChildRecord<P extends ProcessView = ProcessView> {
  /** 0 for the first child any runner instance started in this run, 1 for the next... */
  readonly index: number;
  readonly root: P;
  /**
   * When the runner's spawn call completed and it had the child's PID, where the world can tell:
   * before then it cannot have known anything of the child, its exit included.
   */
  readonly pidKnownAt?: number;
  readonly plan: AgentPlan;
  /**
   * The session this child resumes, as the runner told the port (SpawnSpec.resumeSessionId);
   * in a black-box run, as read from the child's command line. Absent: a new conversation.
   */
  readonly resumeKey?: string;
  /**
   * The session the runner named in SpawnSpec.resumeSessionId but passed in neither the child's
   * arguments nor its environment: the agent cannot resume it, so the child is a new conversation.
   */
  readonly resumeKeyNotPassed?: string;
  /**
   * True when the world could not tell which session the child resumes (a black-box run whose
   * agent's command line names none it can read): T1's resume check cannot judge it.
   */
  readonly resumeKeyUnknown?: boolean;
  /** The session id this child's agent reports (on the hub and in its webhook). */
  readonly sessionId: string;
  readonly spawnedAt: number;
  /** When the agent told anyone its session id (hub row or webhook). */
  reportedAt?: number;
  /**
   * When the child's own webhook first reached the runner while the child's root ran (one that
   * lands after the root exited, with a webhook latency, does not count: L3 leaves it open).
   */
  webhookAt?: number;
}

export interface RequestRecord {
  readonly id: number;
  readonly op: RequestOp;
  readonly issuedAt: number;
  readonly resumeKey?: string;
  /** For spawn: whether a worktree session was asked for, and the worktree name given. */
  readonly worktree?: boolean;
  readonly worktreeName?: string;
  /** For spawn: the repository directory the request named (a worktree session must not run in it). */
  readonly directory?: string;
  /** For stop: the session id asked for. */
  readonly sessionId?: string;
  /** For spawn: the child started for this request, when the world could tell which. */
  child?: ChildRecord;
  /** For spawn: every child started for it (a runner may retry a boot): L1 charges each. */
  children?: ChildRecord[];
  answeredAt?: number;
  answer?: Answer;
}

/** A session as a user names it: by id, or as the one the n-th child reported (if they saw it). */
export function sessionNamed(
  ref: { id: string } | { spawn: number },
  children: ReadonlyArray<ChildRecord | undefined>,
): string {
  if ('id' in ref) return ref.id;
  const child = children[ref.spawn];
  // A user can only name a session they have seen (on the dashboard or in an answer).
  return child?.reportedAt !== undefined ? child.sessionId : `unseen-session-${ref.spawn}`;
}
