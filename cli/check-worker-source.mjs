// The worker of `check --workers N` when the CLI runs from its TypeScript sources (tsx, this
// repository's tests): worker threads do not inherit tsx's loader, so this thread registers it
// itself, then runs the TypeScript worker. The built package runs dist/cli/check-worker.js.
import { register } from 'tsx/esm/api';

register();
const { default: scout, explore } = await import('./check-worker.ts');
export default scout;
export { explore };
