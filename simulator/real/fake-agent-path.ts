// Where the fake agent program is: a file the package ships (../package-root.ts). A package
// that does not ship it is broken: that is said at once, never found out from agents that die.
import { join } from 'node:path';
import { packageFile, packageRoot } from '../package-root.ts';

const RELATIVE = join('fixtures', 'agents', 'fake-agent.mjs');

/** Thrown when the package has no fake agent (a tarball packed without it). */
export class MissingFakeAgentError extends Error {
  override readonly name = 'MissingFakeAgentError';
}

/** The absolute path of `fixtures/agents/fake-agent.mjs` in this package. */
export function fakeAgentPath(): string {
  const path = packageFile(RELATIVE);
  if (path !== undefined) return path;
  const root = packageRoot();
  throw new MissingFakeAgentError(
    `the fake agent program is missing from this runner-chaos package (${root === null ? 'no runner-chaos package.json above the code' : `no ${join(root.dir, RELATIVE)}`}); ` +
      'the real world and check --http cannot run without it: reinstall runner-chaos, or report a broken package',
  );
}
