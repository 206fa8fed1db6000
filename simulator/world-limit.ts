// A bound of the world reached (TIGER_STYLE: every queue is bounded). That is the user's input or
// the runner's behaviour, never a crash of ours: the error names the bound, what reached it and
// what to change, and the command line prints it without a stack.

/** A bound of the world was reached: reported in one message (exit 2), never with our stack. */
export class WorldLimitError extends Error {
  override readonly name = 'WorldLimitError';
  /**
   * @param limit - which bound, as the user would name it (`trace`, `pid_max`, `events`).
   * @param remedy - what to change so that the scenario fits, in one sentence.
   */
  constructor(
    readonly limit: string,
    message: string,
    readonly remedy: string,
  ) {
    super(`${message}; ${remedy}`);
  }
}
