// The version of the installed runner-chaos package, for `--version`: read from the package's own
// package.json, found upwards from here (cli/ in a checkout, dist/cli/ in the built package).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let level = 0; level < 4; level++) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown; version?: unknown };
      if (parsed.name === 'runner-chaos' && typeof parsed.version === 'string') return parsed.version;
    }
    dir = dirname(dir);
  }
  return 'unknown (no runner-chaos package.json above the code)';
}
