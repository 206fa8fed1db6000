// How a command is spelled where a line is printed for the user to run: its own small module, so
// that `simulate` can print it without loading the property suite.
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * How to run a runner-chaos command where it is printed: `npx runner-chaos <command>` where the
 * package is installed, `pnpm <command>` (the package script) in this repository.
 */
export function cliCommand(command: 'simulate' | 'check'): string {
  const installed = fileURLToPath(import.meta.url)
    .split(sep)
    .includes('node_modules');
  return installed ? `npx runner-chaos ${command}` : `pnpm ${command}`;
}
