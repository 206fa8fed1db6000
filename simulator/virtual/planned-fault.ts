// The faults a scenario plans by call count (spawnFaults, saveFaults, scanFaults, gitFaults
// without a span): the nth call of an operation fails, and the `times - 1` calls after it.
import { HostError } from '../../runner/ports.ts';

/** A fault planned for a run of calls of one operation. */
export interface CountedFault {
  /** Which call fails first (1 = the first). */
  readonly nth: number;
  /** How many calls in a row fail. */
  readonly times: number;
}

/** Whether `fault` refuses call number `call` (1 = the first). */
export function refusesCall(fault: CountedFault, call: number): boolean {
  return call >= fault.nth && call < fault.nth + fault.times;
}

/** The first of `faults` that refuses call number `call`, if any. */
export function plannedFault<F extends CountedFault>(faults: readonly F[], call: number): F | undefined {
  return faults.find((fault) => refusesCall(fault, call));
}

/** What the OS (or git) says for each code a scenario may inject: strerror's words, git's own. */
const REFUSAL_WORDS = {
  EAGAIN: 'Resource temporarily unavailable',
  ENOMEM: 'Cannot allocate memory',
  EMFILE: 'Too many open files',
  ENFILE: 'Too many open files in system',
  ENOSPC: 'No space left on device',
  EIO: 'Input/output error',
  EROFS: 'Read-only file system',
  EEXIST: 'already exists',
  EBUSY: 'Device or resource busy',
  ELOCKED: 'cannot remove a locked working tree',
  EDANGLING: 'dangling symlink in the way',
} as const;

/** The error a port throws for an injected fault: `what` (the operation) failed with `code`. */
export function injectedRefusal(code: keyof typeof REFUSAL_WORDS, what: string, call: number): HostError {
  // Without a stack trace: a storm of refused /proc reads makes thousands, a runner reads their
  // code and message, and capturing a stack for each was 2-3% of a property run's time.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new HostError(code, `${what}: ${REFUSAL_WORDS[code]} (injected fault, call ${call})`);
  } finally {
    Error.stackTraceLimit = limit;
  }
}
