// The simulator's own invariants, asserted where they could break (TigerBeetle's habit): time
// never runs backward, a counter never goes below zero, a request is answered once, the trace is
// in time order. A failed assertion is a bug of the harness, never of the runner under test: it
// stops the run at once, as an error that says so (exit 2), rather than judging a runner on a
// world that has stopped making sense.

/** A simulator invariant broke: a harness bug. */
export class SimulatorInvariantError extends Error {
  override readonly name = 'SimulatorInvariantError';
}

/**
 * The error for a broken simulator invariant, thrown as `if (!ok) throw broken(message)`: on the
 * hot paths (every event, every trace entry) nothing is built or allocated while all is well.
 */
export function broken(message: string): SimulatorInvariantError {
  return new SimulatorInvariantError(`simulator invariant broken (a runner-chaos bug, please report it): ${message}`);
}
