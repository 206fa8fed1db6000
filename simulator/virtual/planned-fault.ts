// The faults a scenario plans by call count (spawnFaults, saveFaults, gitFaults without a span):
// the nth call of an operation fails, and the `times - 1` calls after it.

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
