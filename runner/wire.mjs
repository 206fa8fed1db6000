// The wire vocabulary: every name that crosses a process boundary between a runner, its
// children, the harness's two worlds and the fake agent. Plain JavaScript so that the fake agent
// (fixtures/agents/fake-agent.mjs, which runs without a TypeScript loader) shares it; typed by
// JSDoc for the TypeScript side. Nothing else in the project spells these strings.

// ---- what the harness marks its processes with -------------------------------------------------

/** Every variable of the harness's own starts with this; a process that clears its environment keeps these (see clearedEnv). */
export const HARNESS_ENV_PREFIX = 'RUNNER_CHAOS_';

/**
 * The environment of a process that execs with a clean one (`env -i`, a sandbox): only the
 * harness's own variables, which the harness needs to find and clean up what it started, and
 * PATH. Every marker a runner put in is gone.
 * @param {Readonly<Record<string, string | undefined>>} env
 * @returns {Record<string, string>}
 */
export function clearedEnv(env) {
  /** @type {Record<string, string>} */
  const kept = {};
  for (const [key, value] of Object.entries(env))
    if (value !== undefined && (key.startsWith(HARNESS_ENV_PREFIX) || key === 'PATH')) kept[key] = value;
  return kept;
}

/** Every process of a run carries this variable, set to the run's id: how leaks are found. */
export const RUN_MARKER_ENV = 'RUNNER_CHAOS_RUN';
/** The harness's canary bystanders carry this one instead: they belong to no runner. */
export const BYSTANDER_MARKER_ENV = 'RUNNER_CHAOS_BYSTANDER';
/** A child's spawn index (the nth child the runner started), inherited by its whole tree. */
export const SPAWN_INDEX_ENV = 'RUNNER_CHAOS_SPAWN_INDEX';
/** The session a resumed child was asked to continue, inherited by its tree. */
export const RESUME_KEY_ENV = 'RUNNER_CHAOS_RESUME_KEY';
/** Where the fake agent finds its plan and claims its index. */
export const AGENT_DIR_ENV = 'RUNNER_CHAOS_AGENT_DIR';
/** The state directory the harness hands a black-box runner command. */
export const STATE_DIR_ENV = 'RUNNER_CHAOS_STATE_DIR';
/** A prefix for run ids: a test run sets it so that it can find its own leftovers. */
export const RUN_PREFIX_ENV = 'RUNNER_CHAOS_RUN_PREFIX';

// ---- what a runner tells its children (tiann/hapi's names) --------------------------------------

/** The agent program a runner spawns (hapi honours it). */
export const CLI_EXECUTABLE_ENV = 'HAPI_CLI_EXECUTABLE';
/** The runner's webhook timeout in ms (hapi honours it). */
export const WEBHOOK_TIMEOUT_ENV = 'HAPI_RUNNER_WEBHOOK_TIMEOUT_MS';
/** Where a child posts its webhook, and the bearer token it presents (the reference daemon). */
export const RUNNER_URL_ENV = 'HAPI_RUNNER_URL';
export const RUNNER_TOKEN_ENV = 'HAPI_RUNNER_TOKEN';
/**
 * A secret per spawn that the child echoes as `metadata.spawnToken` in its webhook: a webhook
 * without it cannot claim the spawn (a forged webhook naming a booting child's PID could).
 */
export const SPAWN_TOKEN_ENV = 'HAPI_RUNNER_SPAWN_TOKEN';
/** A marker per spawn, inherited by the child's whole tree: how escapees are found and killed. */
export const SPAWN_MARKER_ENV = 'HAPI_RUNNER_SPAWN_MARKER';
/** The runner's owner id, on every child: a restarted runner finds its earlier life's children. */
export const OWNER_ENV = 'HAPI_RUNNER_OWNER';
/** The runner's boot stamp, on every child: which life of the runner started it. */
export const BOOT_ENV = 'HAPI_RUNNER_BOOT';

// ---- session naming -----------------------------------------------------------------------------

/**
 * The session a fake agent reports: `sess-<index + 1>` for the child of spawn index `index`.
 * @param {number} index
 * @returns {string}
 */
export function sessionIdOf(index) {
  return `sess-${index + 1}`;
}

/**
 * The spawn index a fake agent's session names, or undefined for any other session id.
 * @param {string} sessionId
 * @returns {number | undefined}
 */
export function spawnIndexOfSession(sessionId) {
  const match = /^sess-(\d+)$/.exec(sessionId);
  return match === null ? undefined : Number(match[1]) - 1;
}
