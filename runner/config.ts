import { z } from 'zod';
import { WEBHOOK_TIMEOUT_ENV } from './wire.mjs';

const Millis = z
  .number()
  .int()
  .nonnegative()
  .max(7 * 24 * 3_600_000);

/** Every setting, each optional: what a user or a scenario may override. */
export const RunnerConfigOverridesSchema = z.strictObject({
  /** How long a spawn waits for the child's webhook (hapi: 15 s). */
  webhookTimeoutMs: Millis.optional(),
  /** How long a tree gets to die after SIGTERM before SIGKILL. */
  termGraceMs: Millis.optional(),
  /** How long after SIGKILL before the kill is reported as failed. */
  killGraceMs: Millis.optional(),
  /** How often a dying tree, or a child adopted after a restart, is looked at. */
  pollIntervalMs: z.number().int().positive().max(60_000).optional(),
  /** The agent command (upstream: HAPI_CLI_EXECUTABLE) and the arguments put before ours. */
  agentCommand: z.string().min(1).optional(),
  agentArgs: z.array(z.string()).max(1_000).optional(),
  /** Spawns in flight at once; more are answered `busy` rather than queued without bound. */
  maxInFlightSpawns: z.number().int().positive().max(10_000).optional(),
  /** Remembered verified exits, so a repeated stop answers `already_gone`. Oldest go first. */
  maxTombstones: z.number().int().positive().max(1_000_000).optional(),
  /**
   * Marks every child of this runner, so that a restart with a lost state file still finds them.
   * Runners sharing a machine need different ids; with none set, that sweep is off (a shared
   * default would let one runner kill another's children).
   */
  ownerId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,100}$/)
    .optional(),
});
export type RunnerConfigInput = z.input<typeof RunnerConfigOverridesSchema>;

export const RUNNER_CONFIG_DEFAULTS = {
  webhookTimeoutMs: 15_000,
  termGraceMs: 3_000,
  killGraceMs: 1_000,
  pollIntervalMs: 100,
  agentCommand: 'hapi',
  agentArgs: [] as string[],
  maxInFlightSpawns: 64,
  maxTombstones: 1_000,
  ownerId: undefined as string | undefined,
};

export const RunnerConfigSchema = RunnerConfigOverridesSchema.transform((overrides) => ({
  ...RUNNER_CONFIG_DEFAULTS,
  ...definedOnly(overrides),
}));
export type RunnerConfig = z.output<typeof RunnerConfigSchema>;

/** The keys whose value is not undefined: an override of `undefined` keeps the default. */
export function definedOnly<T extends object>(value: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}

/** Longest a tree kill may take before it is given up: the bound on a `stop` answer. */
export function killDeadlineMs(config: RunnerConfig): number {
  return config.termGraceMs + config.killGraceMs + 2 * config.pollIntervalMs;
}

/**
 * Builds the config from explicit settings over the environment over defaults.
 * `HAPI_RUNNER_WEBHOOK_TIMEOUT_MS` is honoured as upstream does.
 */
export function resolveRunnerConfig(
  input: RunnerConfigInput = {},
  env: Readonly<Record<string, string | undefined>> = {},
): RunnerConfig {
  const fromEnv: RunnerConfigInput = {};
  const raw = env[WEBHOOK_TIMEOUT_ENV];
  if (raw !== undefined && raw !== '') {
    const ms = Number(raw);
    if (!Number.isInteger(ms) || ms < 0) {
      throw new Error(`${WEBHOOK_TIMEOUT_ENV} must be a whole number of milliseconds, got "${raw}"`);
    }
    fromEnv.webhookTimeoutMs = ms;
  }
  const parsed = RunnerConfigSchema.safeParse({ ...fromEnv, ...input });
  if (!parsed.success) {
    throw new Error(`invalid runner config: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}
