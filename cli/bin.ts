#!/usr/bin/env node
// The `runner-chaos` bin. It always runs the command line: there is no "am I the entry point?"
// test to get wrong (npm links bins as symlinks, so process.argv[1] is the link's path, and a
// check comparing it with import.meta.url once made every installed `runner-chaos check` print
// nothing and exit 0: a CI gate that passed every runner).
import module from 'node:module';

// Node 22.1+ keeps compiled modules on disk between runs (a faster start); Node 20 has no cache.
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
const { main } = await import('./main.ts');

// A runner under test that rejects a promise nobody awaits, or throws in a callback, is a broken
// adapter (exit 2), not a violation (exit 1) and not a crash of the harness.
const broken = (what: string) => (error: unknown) => {
  process.stderr.write(
    `runner-chaos: ${what} (from the runner under test?): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(2);
};
process.on('unhandledRejection', broken('unhandled promise rejection'));
process.on('uncaughtException', broken('uncaught exception'));
process.exitCode = await main(process.argv.slice(2));
