/** Bad input from the user: reported in one line, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
