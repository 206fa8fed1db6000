// Where this runner-chaos package is (cli/ in a checkout, dist/cli/ in the built package), found
// upwards from here: its version for `--version`, and the files it ships (recorded
// counterexamples) for hints that name them.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: { dir: string; version: string } | null | undefined;

function packageRoot(): { dir: string; version: string } | null {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let level = 0; level < 4; level++) {
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

export function packageVersion(): string {
  return packageRoot()?.version ?? 'unknown (no runner-chaos package.json above the code)';
}

/** The absolute path of a file the package ships, if it is there. */
export function packageFile(relative: string): string | undefined {
  const dir = packageRoot()?.dir;
  if (dir === undefined) return undefined;
  const path = join(dir, relative);
  return existsSync(path) ? path : undefined;
}
