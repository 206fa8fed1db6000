// The scenario language: what the world does to a runner, step by step, as plain JSON.
// Everything a generated or hand-written scenario can say is in these schemas, and every
// scenario file is checked against them before it runs.
import { z } from 'zod';
import { RunnerConfigOverridesSchema, definedOnly } from '../runner/config.ts';
import { ANCHORS } from './anchors.ts';

const Millis = z
  .number()
  .int()
  .nonnegative()
  .max(30 * 24 * 3_600_000);

/**
 * How long a process takes to die once SIGKILLed: a number of ms, or `never` for a process
 * stuck in uninterruptible sleep (D state) for good. Absent: the world's `latency.sigkillDeath`.
 */
export const SigkillDeathSchema = z.union([Millis, z.literal('never')]);
export type SigkillDeath = z.infer<typeof SigkillDeathSchema>;

export interface DescendantPlan {
  /** none: stays in the wrapper's group; own-group: setpgid; setsid: new session; double-fork: daemonises (re-parented to init, new session). */
  escape?: 'none' | 'own-group' | 'setsid' | 'double-fork' | undefined;
  ignoresSigterm?: boolean | undefined;
  dieDelayMs?: number | undefined;
  /** D state: survives SIGKILL this long (or for ever). */
  sigkillDeath?: SigkillDeath | undefined;
  /**
   * Execs with a clean environment (`env -i`, a sandbox): it keeps only the harness's own
   * variables, so the runner's markers are gone from it and from what it starts. A runner finds
   * it only through its process group (or its parent), never by a scan for its marker.
   */
  clearsEnv?: boolean | undefined;
  children?: DescendantPlan[] | undefined;
}

export const DescendantPlanSchema: z.ZodType<DescendantPlan, DescendantPlan> = z.lazy(() =>
  z.strictObject({
    escape: z.enum(['none', 'own-group', 'setsid', 'double-fork']).optional(),
    ignoresSigterm: z.boolean().optional(),
    dieDelayMs: Millis.optional(),
    sigkillDeath: SigkillDeathSchema.optional(),
    clearsEnv: z.boolean().optional(),
    children: z.array(DescendantPlanSchema).max(16).optional(),
  }),
);

/** How one fake agent behaves: the knobs of DESIGN.md section 3. Every field optional. */
export const AgentOverridesSchema = z.strictObject({
  /** From start to the moment the agent is ready (registers with the hub, posts its webhook). */
  bootDelayMs: Millis.optional(),
  /** on-time: once, when booted; twice: a second one a second later; wrong-pid: names another PID; never. */
  webhook: z.enum(['on-time', 'twice', 'wrong-pid', 'never']).optional(),
  /** Whether the agent creates its hub row before its webhook (hapi does), and how long before. */
  hubRegistration: z.enum(['before-webhook', 'never']).optional(),
  hubLeadMs: Millis.optional(),
  /** The wrapper exits by itself this long after its start (before or after its webhook). */
  exitAfterMs: Millis.optional(),
  exitCode: z.number().int().min(0).max(255).optional(),
  /** The wrapper ignores SIGTERM (it takes SIGKILL). */
  ignoresSigterm: z.boolean().optional(),
  /** How long the wrapper takes to die after SIGTERM. */
  dieDelayMs: Millis.optional(),
  /** D state: the wrapper survives SIGKILL this long (or for ever); absent, the world's latency. */
  sigkillDeath: SigkillDeathSchema.optional(),
  /**
   * No scan can read the wrapper's environment, ever (it made itself undumpable, or runs setuid:
   * /proc/PID/environ belongs to root), so no search for the runner's markers finds it; its PID
   * and its process group still reach it, and its descendants are seen as usual. Virtual world
   * only: a Node agent cannot do it, and the real world plays it as an ordinary wrapper (and says
   * so). A runner knows such a root only by the PID it was handed: after a restart that lost it
   * (or a crash mid-spawn) no runner can find it, so the generators never combine it with restarts.
   */
  unreadableEnviron: z.boolean().optional(),
  /** The agent's descendants; the default is one grandchild, the real agent under its wrapper. */
  tree: z.array(DescendantPlanSchema).max(16).optional(),
});
export type AgentOverrides = z.input<typeof AgentOverridesSchema>;

export const AGENT_DEFAULTS = {
  bootDelayMs: 2_000,
  webhook: 'on-time' as 'on-time' | 'twice' | 'wrong-pid' | 'never',
  hubRegistration: 'before-webhook' as 'before-webhook' | 'never',
  hubLeadMs: 50,
  exitCode: 1,
  ignoresSigterm: false,
  dieDelayMs: 5,
  unreadableEnviron: false,
  tree: [{}] as DescendantPlan[],
};

export type AgentPlan = typeof AGENT_DEFAULTS & { exitAfterMs?: number; sigkillDeath?: SigkillDeath };

function withAgentDefaults(...layers: ReadonlyArray<AgentOverrides | null | undefined>): AgentPlan {
  let plan: AgentPlan = { ...AGENT_DEFAULTS };
  for (const layer of layers) if (layer) plan = { ...plan, ...(definedOnly(layer) as Partial<AgentPlan>) };
  return plan;
}

/** Names a session the way a user would find it: by the child that reported it, or by id. */
export const SessionRefSchema = z.union([
  z.strictObject({ spawn: z.number().int().nonnegative() }),
  z.strictObject({ id: z.string().min(1) }),
]);
export type SessionRef = z.infer<typeof SessionRefSchema>;

/** Names a process for a forged webhook or a kill. */
export const PidRefSchema = z.union([
  z.strictObject({ spawn: z.number().int().nonnegative() }),
  z.strictObject({ bystander: z.literal(true) }),
  z.strictObject({ runner: z.literal(true) }),
  z.strictObject({ pid: z.number().int().positive() }),
]);
export type PidRef = z.infer<typeof PidRefSchema>;

/** What a restart leaves of the runner's state store (see the restart step). */
export const RESTART_STATES = ['kept', 'corrupt', 'foreign', 'lost'] as const;
/** What a restart leaves of the runner's state store: kept, corrupt, foreign or lost. */
export type RestartState = (typeof RESTART_STATES)[number];
/** The restart states that damage the store: what a restart with the state file corrupt, foreign or lost leaves. */
export const DAMAGED_STATES = RESTART_STATES.filter((s): s is Exclude<RestartState, 'kept'> => s !== 'kept');

/** A torn write: the start of a state file, cut off mid-value (not JSON). */
const CORRUPT_STATE_FILE = '{"version": 1, "children": [tru';
/**
 * JSON of another shape: what a newer version of a runner might have written before a downgrade.
 * It names no PID, so a runner that trusts it signals nothing the run does not own.
 */
const FOREIGN_STATE_FILE = '{"version": 2, "boots": 3, "children": {"format": "by-session"}}';

/**
 * What a restart leaves in the runner's state store, for both worlds: `undefined` for what the
 * runner last wrote (kept), `null` for no file (lost), or the damaged contents.
 */
export function stateAfterRestart(state: RestartState): string | null | undefined {
  if (state === 'corrupt') return CORRUPT_STATE_FILE;
  if (state === 'foreign') return FOREIGN_STATE_FILE;
  return state === 'lost' ? null : undefined;
}

export const StepSchema = z.discriminatedUnion('op', [
  z.strictObject({
    op: z.literal('spawn'),
    resume: z.string().min(1).optional(),
    worktree: z.boolean().optional(),
    /** The request's worktreeName, as a user typed it: may be shared, long, or hold `/` and `..`. */
    worktreeName: z.string().min(1).max(300).optional(),
  }),
  z.strictObject({ op: z.literal('stop'), session: SessionRefSchema }),
  z.strictObject({ op: z.literal('list') }),
  z.strictObject({ op: z.literal('advance'), ms: Millis }),
  /** Something outside the runner kills a child (OOM killer, the user): the wrapper or its whole tree. */
  z.strictObject({ op: z.literal('crash'), spawn: z.number().int().nonnegative(), tree: z.boolean().default(false) }),
  /** A webhook posted by someone other than the child: any PID, any startedBy. */
  z.strictObject({
    op: z.literal('forge-webhook'),
    pid: PidRefSchema,
    sessionId: z.string().min(1),
    startedBy: z.enum(['runner', 'terminal']),
  }),
  /** A process not of the run starts; with reusePidOf it takes that dead child's PID (PID reuse). */
  z.strictObject({ op: z.literal('bystander'), reusePidOf: z.number().int().nonnegative().optional() }),
  /**
   * The runner process dies (SIGKILL) and a new one starts over its state store: kept, corrupt (a
   * torn write: not JSON), foreign (JSON of another shape: a state file another version of the
   * runner wrote, as after a downgrade), or lost.
   */
  /** With `downMs`, the runner stays down that long first: the world goes on, webhooks are refused (agents retry). */
  z.strictObject({
    op: z.literal('restart'),
    state: z.enum(RESTART_STATES).optional(),
    downMs: Millis.optional(),
  }),
  z.strictObject({ op: z.literal('shutdown') }),
  /**
   * Time runs until the runner's next `event` (at most `withinMs`), then `plusMs` more: the next
   * step lands in the window that event opens (simulator/anchors.ts).
   */
  z.strictObject({
    op: z.literal('until'),
    event: z.enum(ANCHORS),
    plusMs: Millis.default(0),
    withinMs: Millis.default(10 * 60_000),
  }),
]);
export type Step = z.input<typeof StepSchema>;
export type ParsedStep = z.output<typeof StepSchema>;

export const GitFaultSchema = z.strictObject({
  op: z.enum(['add', 'remove']),
  /** Which call of that op fails first (1 = the first). */
  nth: z.number().int().positive().default(1),
  /** How many calls in a row fail. */
  times: z.number().int().positive().max(100).default(1),
  code: z.enum(['EEXIST', 'ENOSPC', 'EBUSY', 'ELOCKED', 'EDANGLING']),
  /**
   * A refusal that lasts in time instead (a lock held, a busy index): from the nth call on, every
   * call of `op` fails until this many virtual ms have passed since the nth; `times` is then not
   * used. A runner that retries at once uses up a count of refusals; only one that waits gets
   * past this.
   */
  forMs: Millis.optional(),
});
export type GitFault = z.output<typeof GitFaultSchema>;

/**
 * A fault planned by call count (counted over the whole run): the n-th call of one operation
 * fails with one of `codes`, and the `times - 1` calls after it (at most `maxTimes` in a row).
 */
function countedFaultSchema<const Codes extends readonly [string, ...string[]]>(codes: Codes, maxTimes: number) {
  return z.strictObject({
    /** Which call fails first (1 = the first). */
    nth: z.number().int().positive().default(1),
    /** How many calls in a row fail. */
    times: z.number().int().positive().max(maxTimes).default(1),
    code: z.enum(codes),
  });
}

/**
 * The OS refuses the runner's n-th spawn, and `times - 1` after it: fork's EAGAIN (a process
 * limit), ENOMEM, or EMFILE (no descriptor for the pipes).
 */
export const SpawnFaultSchema = countedFaultSchema(['EAGAIN', 'ENOMEM', 'EMFILE'], 100);
export type SpawnFault = z.output<typeof SpawnFaultSchema>;

/**
 * The runner's n-th state write fails, and `times - 1` after it: a full disk (ENOSPC), an I/O
 * error (EIO), a filesystem remounted read-only (EROFS).
 */
export const SaveFaultSchema = countedFaultSchema(['ENOSPC', 'EIO', 'EROFS'], 100);
export type SaveFault = z.output<typeof SaveFaultSchema>;

/**
 * The runner's n-th process scan (findByEnv or childrenOf) fails, and `times - 1` after it:
 * /proc could not be read, no descriptor left for this process (EMFILE) or the system (ENFILE),
 * or no memory (ENOMEM). Transient by design (at most 5 in a row): a runner that looks again
 * gets through, so nothing it leaves behind is excused.
 */
export const ScanFaultSchema = countedFaultSchema(['EMFILE', 'ENFILE', 'ENOMEM'], 5);
export type ScanFault = z.output<typeof ScanFaultSchema>;

/**
 * A virtual latency: exactly `ms`, or drawn per operation, uniformly and inclusively, from
 * [min, max] by the world's seeded latency stream (so equal latencies, and every order of
 * completion, come up).
 */
export const LatencySchema = z.union([
  Millis,
  z
    .strictObject({ min: Millis, max: Millis })
    .refine((range) => range.min <= range.max, 'latency range: min must not exceed max'),
]);
export type Latency = z.infer<typeof LatencySchema>;

/**
 * How long the I/O behind each port takes. An operation left out of `stateSave`, `stateLoad`
 * and `spawn` completes within the step that started it, without yielding to the world (the
 * behaviour before latencies were drawn); given a latency, even 0, it completes as a world
 * event of its own, so other requests, timers and exits can run while the runner awaits it.
 */
export const LatencyTableSchema = z.strictObject({
  /** StateStore.save: the write lands (and survives a crash) only when it completes. */
  stateSave: LatencySchema.optional(),
  stateLoad: LatencySchema.optional(),
  /** ProcessHost.spawnDetached: the child exists from the call; the promise resolves later. */
  spawn: LatencySchema.optional(),
  /** From a child's exit to the runner's onExit callback. */
  exitNotice: LatencySchema.default(0),
  /** From SIGKILL to death, for processes whose plan does not say (D state is the plan's). */
  sigkillDeath: LatencySchema.default(1),
  /** WorktreeHost.list. */
  gitList: LatencySchema.default(5),
  /** ProcessHost.findByEnv and childrenOf: a /proc scan that takes time, so its answer is stale. */
  scan: LatencySchema.optional(),
  /**
   * From an agent's webhook post to the runner handling it (an HTTP request in flight): the
   * agent may exit meanwhile, and the runner hear of that exit first. Left out, the runner
   * handles it at the instant it is posted.
   */
  webhook: LatencySchema.optional(),
});
export type LatencyTable = z.output<typeof LatencyTableSchema>;

export const WorldSchema = z.strictObject({
  /** The kernel's pid_max: PIDs wrap round at it (DESIGN.md §7: 32768 here). */
  pidMax: z.number().int().min(400).max(4_194_304).default(32_768),
  /** PID reuse right after an exit: whenever a process of the run exits, a stranger takes its PID at once. */
  reusePids: z.boolean().default(false),
  /** A bystander process exists from the start. */
  bystander: z.boolean().default(true),
  /** Events at one instant run in a seeded order instead of the order they were scheduled. */
  shuffleTies: z.boolean().default(false),
  /**
   * Events at one instant run in this order (virtual world only; `check --exhaustive --ties`
   * writes it into a counterexample): at the n-th instant where two or more events are due
   * together, the `tieOrder[n]`-th of them (0: the first scheduled) runs first; past the list's
   * end, scheduling order. A choice beyond the events due there is an error, not a guess: the
   * scenario was made for another runner or version.
   */
  tieOrder: z.array(z.number().int().nonnegative().max(1_000)).max(100_000).optional(),
  gitFaults: z.array(GitFaultSchema).max(32).default([]),
  /** Spawns the OS refuses (virtual world only): the runner must answer them, and leave nothing behind. */
  spawnFaults: z.array(SpawnFaultSchema).max(32).default([]),
  /**
   * State writes that fail (virtual world only): the runner must go on serving. A restart after a
   * failed write is not held to adopt what that write would have kept.
   */
  saveFaults: z.array(SaveFaultSchema).max(32).default([]),
  /**
   * Process scans that fail (virtual world only): a stop must still answer (never throw), and
   * "stopped" still means the tree is gone, which an unread /proc cannot show.
   */
  scanFaults: z.array(ScanFaultSchema).max(32).default([]),
  /** Milliseconds git takes per worktree add / remove. */
  gitLatencyMs: LatencySchema.default(30),
  /** The hub: how long it takes to answer, and whether it is down (archive calls fail, agents cannot register). */
  hubLatencyMs: LatencySchema.default(5),
  hubDown: z.boolean().default(false),
  /** The other ports' I/O latencies (see LatencyTableSchema). */
  latency: LatencyTableSchema.default(() => LatencyTableSchema.parse({})),
  /**
   * The chance (0 to 1) that a /proc scan leaves out a child's root process in its first 50 ms
   * (its environ is unreadable while it execs the agent): a runner must not take "not found"
   * for "dead", nor for "none there".
   */
  scanMisses: z.number().min(0).max(1).default(0),
  /**
   * The runner's owner id (config.ownerId) unless runnerConfig sets one; null: none, so a runner
   * that lost its state file cannot find its orphans by it.
   */
  ownerId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,100}$/)
    .nullable()
    .default('virtual-runner'),
});

export const ScenarioSchema = z.strictObject({
  name: z.string().default('unnamed'),
  description: z.string().optional(),
  seed: z.number().int().default(1),
  runnerConfig: RunnerConfigOverridesSchema.default({}),
  world: WorldSchema.default(() => WorldSchema.parse({})),
  /** Every child's behaviour, over the defaults. */
  agent: AgentOverridesSchema.default({}),
  /** Per-child overrides over `agent`, by spawn order (0 = the first child the runner starts). */
  agents: z.array(AgentOverridesSchema.nullable()).max(1_000).default([]),
  steps: z.array(StepSchema).max(200_000),
});
export type Scenario = z.output<typeof ScenarioSchema>;
export type ScenarioInput = z.input<typeof ScenarioSchema>;

/** Validates a scenario, with every problem named by its path. */
export function parseScenario(input: unknown, source = 'scenario'): Scenario {
  const parsed = ScenarioSchema.safeParse(input);
  if (!parsed.success) throw new Error(`${source} is not a valid scenario:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** The plan of the n-th child the runner starts. */
export function agentPlanFor(scenario: Scenario, spawnIndex: number): AgentPlan {
  return withAgentDefaults(scenario.agent, scenario.agents[spawnIndex]);
}

/** `agentPlanFor(scenario, spawnIndex).tree`, without building the rest of the plan (the world sizes itself by it). */
export function agentTreeFor(scenario: Scenario, spawnIndex: number): DescendantPlan[] {
  return scenario.agents[spawnIndex]?.tree ?? scenario.agent.tree ?? AGENT_DEFAULTS.tree;
}
