#!/usr/bin/env node
// `pnpm simulate`, `pnpm check`, `pnpm runner` in this repository: run the built JavaScript
// (dist/), which starts in a third of the time tsx takes to compile the sources on every call.
// When any source is newer than the build, it builds first (and says so), so a developer's edit
// is never run stale. Plain JavaScript: it must run before anything is built.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const [bin, ...args] = process.argv.slice(2);
const BINS = { cli: 'dist/cli/bin.js', daemon: 'dist/cli/daemon-bin.js' };
if (!(bin in BINS)) {
  process.stderr.write(`dev-bin: the first argument names the bin (${Object.keys(BINS).join(' or ')})\n`);
  process.exit(2);
}
const SOURCES = ['cli', 'runner', 'simulator', 'properties', 'fixtures/runners', 'bench'];

/** The newest modification time of the files the build reads, in ms. */
function newestSource() {
  let newest = Math.max(
    statSync(join(root, 'tsconfig.json')).mtimeMs,
    statSync(join(root, 'tsconfig.build.json')).mtimeMs,
  );
  for (const dir of SOURCES) {
    for (const entry of readdirSync(join(root, dir), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !/\.(ts|mjs)$/.test(entry.name) || entry.name.endsWith('.test.ts')) continue;
      newest = Math.max(newest, statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
    }
  }
  return newest;
}

const built = (() => {
  try {
    return statSync(join(root, BINS[bin])).mtimeMs;
  } catch {
    return -1;
  }
})();
if (built < newestSource()) {
  process.stderr.write(
    built < 0 ? '(first run: building first)\n' : '(sources changed since the last build: building first)\n',
  );
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')],
    {
      stdio: 'inherit',
    },
  );
}
process.argv = [process.argv[0], join(root, BINS[bin]), ...args];
await import(pathToFileURL(join(root, BINS[bin])).href);
