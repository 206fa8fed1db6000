// fast-check arbitraries for whole scenarios, built from small ones.
//
// Swarm testing: every scenario first draws which fault kinds it may use (a `Swarm`, one
// boolean per kind), then draws raw material for all kinds, and the swarm masks out the
// disabled ones. Each run so exercises a random subset of faults, which reaches rare
// combinations that an "everything a little" mix dilutes; and since a disabled kind shrinks
// towards `false`, a shrunk counterexample keeps exactly the kinds the bug needs.
import fc from 'fast-check';
import { FAULT_KINDS, type FaultKind } from './fault-kinds.ts';
import { GENERATED_ANCHORS, type Anchor } from '../simulator/anchors.ts';
import type { z } from 'zod';
import { DAMAGED_STATES } from '../simulator/scenario.ts';
import type {
  DescendantPlan,
  GitFaultSchema,
  ScenarioInput,
  Step,
  AgentOverrides,
  Latency,
  LatencyTableSchema,
  SigkillDeath,
  SpawnFaultSchema,
  SaveFaultSchema,
  ScanFaultSchema,
} from '../simulator/scenario.ts';

type GitFaultInput = z.input<typeof GitFaultSchema>;
type SpawnFaultInput = z.input<typeof SpawnFaultSchema>;
type SaveFaultInput = z.input<typeof SaveFaultSchema>;
type ScanFaultInput = z.input<typeof ScanFaultSchema>;
type LatencyTableInput = z.input<typeof LatencyTableSchema>;

/**
 * A port operation's latency: often exactly equal for every call (0, 1 or 5 ms, so completions
 * tie and their order is what is tested), sometimes fixed anywhere up to seconds, sometimes
 * drawn per call from a range (so calls in flight together complete in any order).
 */
export const latencyArb: fc.Arbitrary<Latency> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(0, 1, 5) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 3_000 }) },
  { weight: 2, arbitrary: fc.record({ min: fc.constant(0), max: fc.integer({ min: 0, max: 50 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({ min: fc.integer({ min: 0, max: 1_000 }), max: fc.integer({ min: 1_000, max: 5_000 }) }),
  },
);

/** Every port's latency at once; the swarm decides whether the scenario gets them. */
const latencyTableArb: fc.Arbitrary<LatencyTableInput & { git: Latency; hub: Latency }> = fc.record({
  stateSave: latencyArb,
  stateLoad: latencyArb,
  spawn: latencyArb,
  exitNotice: latencyArb,
  sigkillDeath: latencyArb,
  gitList: latencyArb,
  webhook: latencyArb,
  git: latencyArb,
  hub: latencyArb,
});

/** D state: a process that survives SIGKILL for a while (up to a minute), or for ever. */
const sigkillDeathArb: fc.Arbitrary<SigkillDeath> = fc.oneof(
  fc.integer({ min: 0, max: 60_000 }),
  fc.constant('never' as const),
);

/** Worktree names as users type them: shared by sessions, long, or holding `/` and `..`. */
const worktreeNameArb = fc.constantFrom('main', 'feature-x', 'feature/x', '../escape', 'a'.repeat(100), '.');

export { FAULT_KINDS, type FaultKind } from './fault-kinds.ts';
export type Swarm = Readonly<Record<FaultKind, boolean>>;

/** Which fault kinds a run may use; `fixed` pins some on or off (e.g. no worktrees for a runner without them). */
export function swarmArb(fixed: Partial<Record<FaultKind, boolean>> = {}): fc.Arbitrary<Swarm> {
  return fc.record(
    Object.fromEntries(
      FAULT_KINDS.map((kind) => [kind, fixed[kind] === undefined ? fc.boolean() : fc.constant(fixed[kind])]),
    ) as Record<FaultKind, fc.Arbitrary<boolean>>,
  );
}

/** Webhook timeouts: short ones keep generated scenarios cheap; 15 s is upstream's. */
const TIMEOUTS_MS = [1_000, 5_000, 15_000] as const;

const HOUR = 3_600_000;

/** Durations that matter around a timeout: tiny, just under / at / over it, and far past. */
export function durationAround(timeoutMs: number): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 2, arbitrary: fc.integer({ min: 1, max: 50 }) },
    { weight: 3, arbitrary: fc.integer({ min: 51, max: timeoutMs }) },
    { weight: 2, arbitrary: fc.integer({ min: timeoutMs - 2, max: timeoutMs + 2 }) },
    { weight: 2, arbitrary: fc.integer({ min: timeoutMs, max: 20 * timeoutMs }) },
    { weight: 1, arbitrary: fc.integer({ min: 20 * timeoutMs, max: 2 * HOUR }) },
  );
}

// Full records (every key drawn) are much cheaper to generate than partial ones; the swarm
// mask decides which keys reach the scenario.
const nodeFields = {
  escape: fc.constantFrom('none' as const, 'own-group' as const, 'setsid' as const, 'double-fork' as const),
  ignoresSigterm: fc.boolean(),
  dieDelayMs: fc.oneof(fc.constant(5), fc.integer({ min: 0, max: 5_000 })),
  sigkillDeath: fc.option(sigkillDeathArb, { nil: undefined, freq: 4 }),
  clearsEnv: fc.boolean(),
};
/** A descendant with up to two levels below it: trees are bounded, so generation always ends. */
const descendantArb: fc.Arbitrary<DescendantPlan> = fc.record({
  ...nodeFields,
  children: fc.array(fc.record({ ...nodeFields, children: fc.array(fc.record(nodeFields), { maxLength: 2 }) }), {
    maxLength: 2,
  }),
});

export function agentArb(timeoutMs: number): fc.Arbitrary<AgentOverrides> {
  return fc
    .record({
      bootDelayMs: durationAround(timeoutMs),
      webhook: fc.oneof(
        { weight: 3, arbitrary: fc.constant('on-time' as const) },
        { weight: 1, arbitrary: fc.constantFrom('twice' as const, 'wrong-pid' as const, 'never' as const) },
      ),
      hubLeadMs: fc.integer({ min: 0, max: timeoutMs }),
      exitAfterMs: fc.option(durationAround(timeoutMs), { nil: undefined, freq: 2 }),
      // Sometimes the exit is aimed just after the webhook's post (a crash right after reporting):
      // with a webhook latency the exit then races the webhook to the runner.
      exitAfterWebhookMs: fc.oneof(
        { weight: 2, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 10 }) },
      ),
      // 0 and 1 most: a clean exit before the webhook is the case a runner most easily takes for success.
      exitCode: fc.oneof(fc.constant(0), fc.constant(1), fc.integer({ min: 0, max: 255 })),
      ignoresSigterm: fc.boolean(),
      dieDelayMs: fc.integer({ min: 0, max: 5_000 }),
      sigkillDeath: fc.option(sigkillDeathArb, { nil: undefined, freq: 2 }),
      unreadableEnviron: fc.boolean(),
      tree: fc.array(descendantArb, { maxLength: 2 }),
    })
    .map(({ exitAfterWebhookMs, ...agent }) =>
      exitAfterWebhookMs !== undefined && agent.exitAfterMs !== undefined
        ? { ...agent, exitAfterMs: agent.bootDelayMs + exitAfterWebhookMs }
        : agent,
    );
}

/** Which child a step names: mostly the first (most scenarios have one or two), sometimes a later one. */
const spawnIndexArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant(0) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 4 }) },
);

/**
 * One move of the scenario: mostly a single step, sometimes a short burst that models one
 * world fault (a PID that comes round right after a crash, a double click on resume).
 */
export function movesArb(timeoutMs: number): fc.Arbitrary<Step[]> {
  const one = (arbitrary: fc.Arbitrary<Step>): fc.Arbitrary<Step[]> => arbitrary.map((step) => [step]);
  return fc.oneof(
    {
      weight: 5,
      arbitrary: one(
        fc.record(
          {
            op: fc.constant('spawn' as const),
            resume: fc.constantFrom('conv-a', 'conv-b'),
            worktree: fc.boolean(),
            worktreeName: worktreeNameArb,
          },
          { requiredKeys: ['op'] },
        ),
      ),
    },
    { weight: 5, arbitrary: one(fc.record({ op: fc.constant('advance' as const), ms: durationAround(timeoutMs) })) },
    {
      weight: 2,
      arbitrary: one(fc.record({ op: fc.constant('stop' as const), session: fc.record({ spawn: spawnIndexArb }) })),
    },
    { weight: 1, arbitrary: one(fc.constant({ op: 'list' as const })) },
    {
      weight: 1,
      arbitrary: one(fc.record({ op: fc.constant('crash' as const), spawn: spawnIndexArb, tree: fc.boolean() })),
    },
    {
      weight: 1,
      arbitrary: one(
        fc.record({
          op: fc.constant('forge-webhook' as const),
          pid: fc.oneof(
            fc.constant({ bystander: true as const }),
            fc.constant({ runner: true as const }),
            fc.record({ spawn: spawnIndexArb }),
          ),
          sessionId: fc.constantFrom('forged', 'sess-1', 'sess-2'),
          startedBy: fc.constantFrom('runner' as const, 'terminal' as const),
        }),
      ),
    },
    {
      weight: 1,
      arbitrary: one(
        fc.record({ op: fc.constant('bystander' as const), reusePidOf: spawnIndexArb }, { requiredKeys: ['op'] }),
      ),
    },
    {
      weight: 3,
      arbitrary: one(
        fc.oneof(
          { weight: 6, arbitrary: fc.constant({ op: 'restart' as const }) },
          {
            // Down for a while: children exit, PIDs come round, webhooks are refused and retried.
            weight: 2,
            arbitrary: fc.record({
              op: fc.constant('restart' as const),
              downMs: fc.oneof(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 51, max: 2 * timeoutMs })),
            }),
          },
          {
            weight: 1,
            arbitrary: fc.record({
              op: fc.constant('restart' as const),
              state: fc.constantFrom(...DAMAGED_STATES),
            }),
          },
        ),
      ),
    },
    { weight: 1, arbitrary: one(fc.constant({ op: 'shutdown' as const })) },
    {
      // A window anchored to a runner event: what sets the event off, time until it happens
      // (SIGTERM, a failed git call, a timeout answer...), then the move that lands in the window
      // it opens (a restart between SIGTERM and SIGKILL, say). See windowArb.
      weight: 3,
      arbitrary: windowArb(timeoutMs),
    },
  );
}

/**
 * Stands for "the child the latest spawn step started" in a window's steps, resolved to a spawn
 * index once the scenario's steps are known (`resolveLatestSpawn`).
 */
const LATEST_SPAWN = -1;

/**
 * What sets each anchored event off. A stop needs a session to name, so the child it stops first
 * reports in (until its webhook, within a timeout); a git failure comes from the removal of a
 * stopped worktree session meeting the window's git fault (toScenario adds it).
 */
function triggerOf(anchor: Anchor, timeoutMs: number): Step[] {
  const started = (worktree: boolean): Step[] => [
    { op: 'spawn', ...(worktree ? { worktree: true } : {}) },
    { op: 'until', event: 'webhook', withinMs: timeoutMs },
  ];
  const stopped: Step = { op: 'stop', session: { spawn: LATEST_SPAWN } };
  switch (anchor) {
    case 'sigterm':
    case 'sigkill':
    case 'child-exit':
      return [...started(false), stopped];
    case 'git-failure':
      return [...started(true), stopped];
    case 'timeout':
    case 'webhook':
    case 'reported':
    case 'granted':
    case 'child-start':
      return [{ op: 'spawn', resume: 'conv-a' }];
  }
}

/** A window: its trigger (sometimes left to the moves before it), the wait, and the move in it. */
function windowArb(timeoutMs: number): fc.Arbitrary<Step[]> {
  const inWindow: fc.Arbitrary<Step> = fc.oneof(
    { weight: 4, arbitrary: fc.constant<Step>({ op: 'restart' }) },
    {
      weight: 2,
      arbitrary: fc.integer({ min: 1, max: 2 * timeoutMs }).map<Step>((downMs) => ({ op: 'restart', downMs })),
    },
    {
      weight: 2,
      arbitrary: fc.boolean().map<Step>((tree) => ({ op: 'crash', spawn: LATEST_SPAWN, tree })),
    },
    { weight: 2, arbitrary: fc.constant<Step>({ op: 'stop', session: { spawn: LATEST_SPAWN } }) },
    { weight: 2, arbitrary: fc.constant<Step>({ op: 'spawn', resume: 'conv-a' }) },
    { weight: 1, arbitrary: fc.constant<Step>({ op: 'list' }) },
    { weight: 1, arbitrary: fc.constant<Step>({ op: 'shutdown' }) },
  );
  return fc
    .record({
      event: fc.constantFrom(...GENERATED_ANCHORS),
      // Mostly set off here; sometimes left to whatever the earlier moves set going. (The
      // alternatives that say less come first: shrinking goes toward them, dropping the trigger
      // and the move in the window when the bug needs neither.)
      triggered: fc.oneof({ weight: 1, arbitrary: fc.constant(false) }, { weight: 4, arbitrary: fc.constant(true) }),
      plusMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: timeoutMs })),
      then: fc.option(inWindow, { nil: undefined, freq: 8 }),
    })
    .map(({ event, triggered, plusMs, then }) => [
      ...(triggered ? triggerOf(event, timeoutMs) : []),
      { op: 'until', event, plusMs },
      ...(then !== undefined ? [then] : []),
    ]);
}

/** Resolves `LATEST_SPAWN` to the index of the child the latest spawn step before it started. */
function resolveLatestSpawn(steps: readonly Step[]): Step[] {
  let spawns = 0;
  return steps.map((step) => {
    if (step.op === 'spawn') spawns++;
    const latest = Math.max(spawns - 1, 0);
    if (step.op === 'stop' && 'spawn' in step.session && step.session.spawn === LATEST_SPAWN)
      return { ...step, session: { spawn: latest } };
    if (step.op === 'crash' && step.spawn === LATEST_SPAWN) return { ...step, spawn: latest };
    return step;
  });
}

const gitFaultArb: fc.Arbitrary<GitFaultInput> = fc.record(
  {
    op: fc.constantFrom('add' as const, 'remove' as const),
    nth: fc.integer({ min: 1, max: 4 }),
    times: fc.integer({ min: 1, max: 3 }),
    code: fc.constantFrom(
      'EEXIST' as const,
      'ENOSPC' as const,
      'EBUSY' as const,
      'ELOCKED' as const,
      'EDANGLING' as const,
    ),
    // About half of them (an optional key) last in time, a held lock, not a count of calls: only
    // a runner that waits between tries gets past one. Up to 100 s, which a runner backing off
    // from 1 s to a minute over eight tries (the reference: 123 s from its first) outlasts from
    // any nth.
    forMs: fc.integer({ min: 1_000, max: 100_000 }),
  },
  { requiredKeys: ['op', 'nth', 'times', 'code'] },
);

const saveFaultArb: fc.Arbitrary<SaveFaultInput> = fc.record({
  nth: fc.integer({ min: 1, max: 6 }),
  times: fc.integer({ min: 1, max: 4 }),
  code: fc.constantFrom('ENOSPC' as const, 'EIO' as const, 'EROFS' as const),
});

// A stop's kill routine scans every poll (tens of scans per stop), so the n-th reaches into the
// middle of kills, restarts' sweeps and their waits, not only the first scan.
const scanFaultArb: fc.Arbitrary<ScanFaultInput> = fc.record({
  nth: fc.integer({ min: 1, max: 120 }),
  times: fc.integer({ min: 1, max: 5 }),
  code: fc.constantFrom('EMFILE' as const, 'ENFILE' as const, 'ENOMEM' as const),
});

const spawnFaultArb: fc.Arbitrary<SpawnFaultInput> = fc.record({
  nth: fc.integer({ min: 1, max: 4 }),
  times: fc.integer({ min: 1, max: 3 }),
  code: fc.constantFrom('EAGAIN' as const, 'ENOMEM' as const, 'EMFILE' as const),
});

/** The raw material of a scenario, before the swarm masks it. */
interface Draft {
  swarm: Swarm;
  seed: number;
  timeoutMs: number;
  pidMax: number;
  agent: AgentOverrides;
  agents: Array<AgentOverrides | null>;
  moves: Step[][];
  gitFaults: GitFaultInput[];
  spawnFaults: SpawnFaultInput[];
  saveFaults: SaveFaultInput[];
  scanFaults: ScanFaultInput[];
  /** The git fault a git-failure window brings: a removal git refuses, once to a few times. */
  windowGitFault: GitFaultInput;
  hub: { latencyMs: number; down: boolean };
  latency: LatencyTableInput & { git: Latency; hub: Latency };
  scan: { latency: Latency; misses: number };
  config: {
    maxInFlightSpawns: number;
    maxTombstones: number;
    ownerless: boolean;
    timing: { termGraceMs: number; killGraceMs: number; pollIntervalMs: number } | null;
  };
}

/**
 * `under`: the node's parent is a descendant (not the wrapper). A descendant that clears its
 * environment is only ever such a one's leaf, in its parent's group, dying at SIGTERM: a marked
 * process then shares its group for as long as it lives, so a runner that signals the groups of
 * the members it finds reaches it. Anything more hidden (alone in its group once the wrapper is
 * gone, or out of the group) no runner could find safely, and would be a false alarm.
 */
function maskTree(
  tree: readonly DescendantPlan[] | undefined,
  swarm: Swarm,
  under = false,
): DescendantPlan[] | undefined {
  if (tree === undefined) return undefined;
  return tree.map((node) => {
    if (swarm.envClearers && under && node.clearsEnv === true && (node.children ?? []).length === 0)
      return { clearsEnv: true };
    const masked: DescendantPlan = {};
    if (swarm.escapees && node.escape !== undefined) masked.escape = node.escape;
    if (swarm.sigtermIgnorers && node.ignoresSigterm !== undefined) masked.ignoresSigterm = node.ignoresSigterm;
    if (swarm.slowDeaths && node.dieDelayMs !== undefined) masked.dieDelayMs = node.dieDelayMs;
    if (swarm.unkillables && node.sigkillDeath !== undefined) masked.sigkillDeath = node.sigkillDeath;
    const children = maskTree(node.children, swarm, true);
    if (children !== undefined && children.length > 0) masked.children = children;
    return masked;
  });
}

function maskAgent(agent: AgentOverrides, swarm: Swarm, timeoutMs: number): AgentOverrides {
  const masked: AgentOverrides = {};
  if (agent.bootDelayMs !== undefined)
    masked.bootDelayMs = swarm.lateBoots ? agent.bootDelayMs : Math.min(agent.bootDelayMs, Math.floor(timeoutMs / 2));
  if (swarm.webhookOddities && agent.webhook !== undefined) masked.webhook = agent.webhook;
  if (swarm.earlyHubRows && agent.hubLeadMs !== undefined) masked.hubLeadMs = agent.hubLeadMs;
  if (swarm.earlyExits && agent.exitAfterMs !== undefined) {
    masked.exitAfterMs = agent.exitAfterMs;
    if (agent.exitCode !== undefined) masked.exitCode = agent.exitCode;
  }
  if (swarm.sigtermIgnorers && agent.ignoresSigterm !== undefined) masked.ignoresSigterm = agent.ignoresSigterm;
  if (swarm.slowDeaths && agent.dieDelayMs !== undefined) masked.dieDelayMs = agent.dieDelayMs;
  if (swarm.unkillables && agent.sigkillDeath !== undefined) masked.sigkillDeath = agent.sigkillDeath;
  if (swarm.hiddenRoots && agent.unreadableEnviron === true) masked.unreadableEnviron = true;
  const tree = maskTree(agent.tree, swarm);
  if (tree !== undefined) masked.tree = tree;
  return masked;
}

/** Which fault kind lets each kind of step into a scenario (spawns and time always get in). */
const STEP_GATES = {
  stop: 'stops',
  list: 'stops',
  crash: 'crashes',
  'forge-webhook': 'forgedWebhooks',
  bystander: 'pidReuse',
  restart: 'restarts',
  shutdown: 'shutdowns',
  until: 'anchoredWindows',
} as const satisfies Partial<Record<Step['op'], FaultKind>>;

/** The fault kinds that only gate steps (the others shape agents and the world). */
const STEP_KINDS: ReadonlySet<FaultKind> = new Set(Object.values(STEP_GATES));

function maskStep(step: Step, swarm: Swarm): Step | undefined {
  if (step.op === 'advance') return step;
  if (step.op === 'spawn') {
    const masked: Step = { op: 'spawn' };
    if (swarm.resumes && step.resume !== undefined) masked.resume = step.resume;
    if (swarm.worktrees && step.worktree === true) {
      masked.worktree = true;
      if (step.worktreeName !== undefined) masked.worktreeName = step.worktreeName;
    }
    return masked;
  }
  if (!swarm[STEP_GATES[step.op]]) return undefined;
  // Without its state file no runner can know which worktrees it made (it does not know the
  // repositories): a lost state file is only drawn when there are no worktrees to lose.
  if (step.op === 'restart' && step.state !== undefined && swarm.worktrees) return { op: 'restart' };
  return step;
}

/** A whole scenario, ready for `parseScenario`. */
export interface ScenarioArbOptions {
  /** Longest scenario, in moves (default 10). */
  readonly maxSteps?: number;
  /** Fault kinds pinned on (true) or off (false); the others are drawn per run. */
  readonly faults?: Partial<Record<FaultKind, boolean>>;
}

export function scenarioArb(options: ScenarioArbOptions = {}): fc.Arbitrary<ScenarioInput> {
  const maxSteps = options.maxSteps ?? 10;
  // One draft arbitrary per webhook timeout, built once (durations are drawn around it).
  const swarm = swarmArb(options.faults);
  const draftFor = (timeoutMs: number): fc.Arbitrary<Draft> =>
    fc.record({
      swarm,
      seed: fc.integer({ min: 0, max: 0xffff }),
      timeoutMs: fc.constant(timeoutMs),
      pidMax: fc.oneof(fc.constant(32_768), fc.integer({ min: 400, max: 600 })),
      agent: agentArb(timeoutMs),
      agents: fc.array(fc.option(agentArb(timeoutMs), { nil: null }), { maxLength: 3 }),
      moves: fc.array(movesArb(timeoutMs), { minLength: 1, maxLength: maxSteps }),
      gitFaults: fc.array(gitFaultArb, { maxLength: 2 }),
      // The OS refuses a spawn now and then (fork's EAGAIN...): once, or a few in a row.
      spawnFaults: fc.array(spawnFaultArb, { minLength: 1, maxLength: 2 }),
      // The disk refuses a state write now and then (full, an I/O error, remounted read-only).
      saveFaults: fc.array(saveFaultArb, { minLength: 1, maxLength: 2 }),
      // /proc cannot be read now and then (no descriptor left, no memory): a few scans in a row.
      scanFaults: fc.array(scanFaultArb, { minLength: 1, maxLength: 3 }),
      windowGitFault: fc.record({
        op: fc.constant('remove' as const),
        nth: fc.integer({ min: 1, max: 2 }),
        times: fc.integer({ min: 1, max: 4 }),
        code: fc.constantFrom('EBUSY' as const, 'ELOCKED' as const),
      }),
      hub: fc.record({ latencyMs: fc.oneof(fc.constant(5), fc.integer({ min: 0, max: 60_000 })), down: fc.boolean() }),
      latency: latencyTableArb,
      // A scan that takes time (its answer is stale) and misses a process now and then.
      scan: fc.record({ latency: latencyArb, misses: fc.constantFrom(0, 0.1, 0.3, 0.5) }),
      // Config the defaults never reach: an in-flight limit and tombstone bound of 1 to 3, no owner
      // id, and the kill's timing as users tune it (a SIGKILL grace of 20 ms makes every slow death
      // a survivor, and a day of backed-off looks at one only minutes).
      config: fc.record({
        maxInFlightSpawns: fc.integer({ min: 1, max: 3 }),
        maxTombstones: fc.integer({ min: 1, max: 3 }),
        ownerless: fc.boolean(),
        timing: fc.option(
          fc.record({
            termGraceMs: fc.constantFrom(100, 500, 3_000, 10_000),
            killGraceMs: fc.constantFrom(20, 200, 1_000, 5_000),
            pollIntervalMs: fc.constantFrom(50, 100, 250),
          }),
          { nil: null },
        ),
      }),
    });
  const draftArb = fc.oneof(...TIMEOUTS_MS.map(draftFor));
  return draftArb.map((draft) => toScenario(draft, options.faults ?? {}));
}

/** The world's latencies when I/O is slow: every port's, git's and (unless hub faults set it) the hub's. */
function slowIo(
  latency: Draft['latency'],
  hubFaults: boolean,
): { latency: LatencyTableInput; gitLatencyMs: Latency; hubLatencyMs?: Latency } {
  const { git, hub, ...table } = latency;
  return { latency: table, gitLatencyMs: git, ...(hubFaults ? {} : { hubLatencyMs: hub }) };
}

function toScenario(draft: Draft, pinned: Partial<Record<FaultKind, boolean>>): ScenarioInput {
  const { timeoutMs } = draft;
  // A git-failure window needs worktrees and a git fault: it brings them, unless the user ruled
  // either out (--without worktrees, --without gitFaults).
  const gitWindow =
    draft.swarm.anchoredWindows &&
    pinned.worktrees !== false &&
    pinned.gitFaults !== false &&
    draft.moves.some((move) => move.some((s) => s.op === 'until' && s.event === 'git-failure'));
  const swarm: Swarm = gitWindow ? { ...draft.swarm, worktrees: true, gitFaults: true } : draft.swarm;
  const gitFaults = gitWindow ? [draft.windowGitFault, ...draft.gitFaults] : draft.gitFaults;
  const ownerless = swarm.configVariants && draft.config.ownerless;
  // A window's own steps are its point: they get in unless the user ruled their kind out.
  const windowSwarm = { ...swarm };
  for (const kind of FAULT_KINDS) if (pinned[kind] !== false && STEP_KINDS.has(kind)) windowSwarm[kind] = true;
  const masked = draft.moves
    .flatMap((move) => {
      const isWindow = move.some((s) => s.op === 'until');
      return move.map((s) => maskStep(s, isWindow ? windowSwarm : swarm));
    })
    .filter((s): s is Step => s !== undefined)
    // Without an owner id no runner can find the orphans of a lost state file: kept state only.
    .map((s) =>
      ownerless && s.op === 'restart'
        ? { op: 'restart' as const, ...(s.downMs !== undefined ? { downMs: s.downMs } : {}) }
        : s,
    );
  const steps = resolveLatestSpawn(masked);
  // A root no scan can read is known to a runner only by the PID it was handed: a restart that
  // lost it, or a crash between the fork and the state write, leaves it unfindable by any runner
  // (a false alarm). Hidden roots come only in scenarios without restarts.
  const agentSwarm =
    swarm.hiddenRoots && steps.some((s) => s.op === 'restart') ? { ...swarm, hiddenRoots: false } : swarm;
  return {
    name: 'generated',
    seed: draft.seed,
    runnerConfig: {
      webhookTimeoutMs: timeoutMs,
      ...(swarm.configVariants
        ? {
            maxInFlightSpawns: draft.config.maxInFlightSpawns,
            maxTombstones: draft.config.maxTombstones,
            ...draft.config.timing,
          }
        : {}),
    },
    world: {
      pidMax: swarm.pidReuse ? draft.pidMax : 32_768,
      reusePids: swarm.pidReuse,
      bystander: true,
      shuffleTies: swarm.shuffledTies,
      gitFaults: swarm.gitFaults ? gitFaults : [],
      spawnFaults: swarm.spawnFaults ? draft.spawnFaults : [],
      // Not with a restart: a runner whose writes failed cannot be held to adopt what they would
      // have kept, so the oracle excuses that (simulator/oracle.ts), and a generated restart after
      // one would judge less than it seems to.
      saveFaults: swarm.saveFaults && !steps.some((s) => s.op === 'restart') ? draft.saveFaults : [],
      scanFaults: swarm.scanFaults ? draft.scanFaults : [],
      ...(swarm.hubFaults ? { hubLatencyMs: draft.hub.latencyMs, hubDown: draft.hub.down } : {}),
      ...(swarm.slowIo ? slowIo(draft.latency, swarm.hubFaults) : {}),
      ...(swarm.flakyScans
        ? {
            scanMisses: draft.scan.misses,
            latency: {
              ...(swarm.slowIo ? slowIo(draft.latency, swarm.hubFaults).latency : {}),
              scan: draft.scan.latency,
            },
          }
        : {}),
      ...(ownerless ? { ownerId: null } : {}),
    },
    agent: maskAgent(draft.agent, agentSwarm, timeoutMs),
    agents: draft.agents.map((a) => (a === null ? null : maskAgent(a, agentSwarm, timeoutMs))),
    steps: steps.length > 0 ? steps : [{ op: 'spawn' }],
  };
}
