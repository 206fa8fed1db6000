// The installed package's version, for `--version`, and the files it ships, for hints that name
// them: both from the package root (simulator/package-root.ts).
import { packageRoot } from '../simulator/package-root.ts';

export { packageFile } from '../simulator/package-root.ts';

export function packageVersion(): string {
  return packageRoot()?.version ?? 'unknown (no runner-chaos package.json above the code)';
}
