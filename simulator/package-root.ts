// Where this runner-chaos package is: the same code runs from the sources (a checkout) and from
// dist/ (built, or installed under node_modules), so the package root is looked for upwards from
// here rather than at one fixed relative path. Its files (the fake agent, the recorded
// counterexamples) and its version are found from it.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** simulator/ is one folder below the package root, dist/simulator/ two. */
const MAX_LEVELS = 4;

let root: { dir: string; version: string } | null | undefined;

/** The package's folder and version, or null when no runner-chaos package.json is above the code. */
export function packageRoot(): { dir: string; version: string } | null {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let level = 0; level <= MAX_LEVELS; level++) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown; version?: unknown };
      if (parsed.name === 'runner-chaos' && typeof parsed.version === 'string')
        return (root = { dir, version: parsed.version });
    }
    dir = dirname(dir);
  }
  return (root = null);
}

/** The absolute path of a file the package ships, if it is there. */
export function packageFile(relative: string): string | undefined {
  const dir = packageRoot()?.dir;
  if (dir === undefined) return undefined;
  const path = join(dir, relative);
  return existsSync(path) ? path : undefined;
}
