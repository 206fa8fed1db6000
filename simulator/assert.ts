// The simulator's own invariants, asserted where they could break (TigerBeetle's habit): time
// never runs backward, a counter never goes below zero, a request is answered once, the trace is
// in time order. A failed assertion is a bug of the harness, never of the runner under test: it
// stops the run at once, as an error that says so (exit 2), rather than judging a runner on a
// world that has stopped making sense.

/** A simulator invariant broke: a harness bug. */
export class SimulatorInvariantError extends Error {
  override readonly name = 'SimulatorInvariantError';
}

/** Throws SimulatorInvariantError with `message` unless `condition` holds. */
export function assert(condition: boolean, message: () => string): asserts condition {
  if (!condition)
    throw new SimulatorInvariantError(
      `simulator invariant broken (a runner-chaos bug, please report it): ${message()}`,
    );
}
