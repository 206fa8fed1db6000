// A worker thread of `check --workers N` (tinypool runs this module): loads the runner by the
// name or path it was given and plays its share of one search (properties/scout.ts).
import { scoutShare, type ScoutTask } from '../properties/scout.ts';
import { loadRunner } from './load-runner.ts';

/** One worker's share of a search, with the runner named as on the command line. */
export default async function scout(task: ScoutTask & { readonly runnerRef: string }): Promise<number | undefined> {
  return scoutShare(await loadRunner(task.runnerRef), task);
}
