// The fault kinds swarm testing switches on and off, on their own so that the command line can
// name them (in its help) without loading the generators and fast-check.

/** Every kind of fault the generators can draw; `--without KIND` rules one out. */
export const FAULT_KINDS = [
  'resumes',
  'worktrees',
  'stops',
  'lateBoots',
  'earlyExits',
  'webhookOddities',
  'earlyHubRows',
  'sigtermIgnorers',
  'escapees',
  'envClearers',
  'hiddenRoots',
  'slowDeaths',
  'crashes',
  'forgedWebhooks',
  'pidReuse',
  'gitFaults',
  'spawnFaults',
  'saveFaults',
  'scanFaults',
  'hubFaults',
  'restarts',
  'shutdowns',
  'shuffledTies',
  'slowIo',
  'unkillables',
  'flakyScans',
  'configVariants',
  'anchoredWindows',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
