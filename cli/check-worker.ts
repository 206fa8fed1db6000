// A worker thread of `check --workers N` (tinypool runs this module): loads the runner by the
// name or path it was given and plays its share of one search (properties/scout.ts), or, for
// `check --exhaustive`, a batch of move sequences (properties/exhaustive/explore.ts).
import { scoutShare, type ScoutTask } from '../properties/scout.ts';
import { playInOrder, type ExploreJob, type PlayedJob, type PlaySettings } from '../properties/exhaustive/explore.ts';
import { loadRunner } from './load-runner.ts';

/** One worker's share of a search, with the runner named as on the command line. */
export default async function scout(task: ScoutTask & { readonly runnerRef: string }): Promise<number | undefined> {
  return scoutShare(await loadRunner(task.runnerRef), task);
}

/** Plays each move sequence of the batch (in each order of its same-instant events the settings ask for), in order. */
export async function explore(task: {
  readonly runnerRef: string;
  readonly batch: readonly ExploreJob[];
  readonly settings: PlaySettings;
}): Promise<PlayedJob[]> {
  return playInOrder(await loadRunner(task.runnerRef), task.batch, task.settings);
}
