// Which conversation a spawned child resumes, read from the spawn the runner made.
//
// The harness takes the session from the spawn port's `resumeSessionId` (the runner's own
// declaration), never by parsing argv: every agent has its own flag (hapi `--resume <id>`). But a
// declaration the agent never sees is a lie: a child learns its conversation only from what it was
// started with, its arguments and its environment. A runner that names K in `resumeSessionId` and
// passes K in neither (a dropped `--resume K`, an argv list built empty) starts a new conversation
// while it answers for K, and is judged as having started a new conversation.
import type { SpawnSpec } from '../runner/ports.ts';

/** The session a child resumes, and, when it was declared but never passed, the key it lost. */
export interface ChildResume {
  /** The session the child resumes: declared, and passed in its arguments or environment. */
  readonly resumeKey?: string;
  /** Declared in `resumeSessionId` but in neither the arguments nor the environment. */
  readonly resumeKeyNotPassed?: string;
}

/**
 * The resume a spawn really asked of its agent. A key counts as passed when an argument or an
 * environment value contains it (`--resume K`, `--resume=K`, `SESSION=K`): how it is spelled is the
 * runner's business, that it is there at all is not.
 */
export function childResume(spec: Pick<SpawnSpec, 'args' | 'env' | 'resumeSessionId'>): ChildResume {
  const key = spec.resumeSessionId;
  if (key === undefined) return {};
  const passed = spec.args.some((arg) => arg.includes(key)) || Object.values(spec.env).some((v) => v.includes(key));
  return passed ? { resumeKey: key } : { resumeKeyNotPassed: key };
}
