import { z } from 'zod';

const Millis = z.number().int().nonnegative().max(7 * 24 * 3_600_000);

export const RunnerConfigSchema = z.strictObject({
  /** How long a spawn waits for the child's webhook (hapi: 15 s). */
  webhookTimeoutMs: Millis.default(15_000),
  /** How long a tree gets to die after SIGTERM before SIGKILL. */
  termGraceMs: Millis.default(3_000),
  /** How long after SIGKILL before the kill is reported as failed. */
  killGraceMs: Millis.default(1_000),
  /** How often a dying tree, or a child adopted after a restart, is looked at. */
  pollIntervalMs: z.number().int().positive().max(60_000).default(100),
  /** The agent command (upstream: HAPI_CLI_EXECUTABLE) and the arguments put before ours. */
  agentCommand: z.string().min(1).default('hapi'),
  agentArgs: z.array(z.string()).default([]),
  /** Spawns in flight at once; more are answered `busy` rather than queued without bound. */
  maxInFlightSpawns: z.number().int().positive().max(10_000).default(64),
  /** Remembered verified exits, so a repeated stop answers `already_gone`. Oldest go first. */
  maxTombstones: z.number().int().positive().max(1_000_000).default(1_000),
});
export type RunnerConfig = z.output<typeof RunnerConfigSchema>;
export type RunnerConfigInput = z.input<typeof RunnerConfigSchema>;

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
  const raw = env.HAPI_RUNNER_WEBHOOK_TIMEOUT_MS;
  if (raw !== undefined && raw !== '') {
    const ms = Number(raw);
    if (!Number.isInteger(ms) || ms < 0) {
      throw new Error(`HAPI_RUNNER_WEBHOOK_TIMEOUT_MS must be a whole number of milliseconds, got "${raw}"`);
    }
    fromEnv.webhookTimeoutMs = ms;
  }
  const parsed = RunnerConfigSchema.safeParse({ ...fromEnv, ...input });
  if (!parsed.success) {
    throw new Error(`invalid runner config: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}
