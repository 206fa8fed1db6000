// Where the fake agent program is. The same code runs from the sources (simulator/real/) and
// from the built package (dist/simulator/real/), in a checkout or installed under node_modules,
// so the file is looked for upwards from here rather than at one fixed relative path. A package
// that does not ship it is broken: that is said at once, never found out from agents that die.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RELATIVE = join('fixtures', 'agents', 'fake-agent.mjs');
/** simulator/real/ is two folders below the package root, dist/simulator/real/ three. */
const MAX_LEVELS = 4;

/** Thrown when the package has no fake agent (a tarball packed without it). */
export class MissingFakeAgentError extends Error {
  override readonly name = 'MissingFakeAgentError';
}

let found: string | undefined;

/** The absolute path of `fixtures/agents/fake-agent.mjs` in this package. */
export function fakeAgentPath(): string {
  if (found !== undefined) return found;
  let dir = dirname(fileURLToPath(import.meta.url));
  const tried: string[] = [];
  for (let level = 0; level <= MAX_LEVELS; level++) {
    const candidate = join(dir, RELATIVE);
    tried.push(candidate);
    if (existsSync(candidate)) {
      found = candidate;
      return candidate;
    }
    dir = dirname(dir);
  }
  throw new MissingFakeAgentError(
    `the fake agent program is missing from this runner-chaos package (looked for ${tried.join(', ')}); ` +
      'the real world and check --http cannot run without it: reinstall runner-chaos, or report a broken package',
  );
}
