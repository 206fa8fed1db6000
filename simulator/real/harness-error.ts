// An error on the harness's side of a real run: the runner command could not be started or
// reached, the fake agent could not run, a child the scenario needs never appeared. A run that
// hits one proves nothing about the runner: it is reported as such (exit 2), never as "held".

/** The harness could not do what the scenario needs; the message says what and what to do. */
export class HarnessError extends Error {
  override readonly name = 'HarnessError';
}
