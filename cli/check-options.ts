// What `check` takes from the command line and what it hands back: a file of its own so that the
// virtual and the black-box (`--http`) halves of the command share them without importing each other.
import type { ExploredWorld } from '../properties/exhaustive/alphabet.ts';

/** The `check` command's options, as commander parsed them. */
export interface CheckCliOptions {
  runner?: string;
  runs?: number;
  seed?: number;
  path?: string;
  invariant?: string[];
  json?: boolean;
  artifacts?: string;
  all?: boolean;
  without?: string[];
  http?: string;
  profile?: string;
  progress?: boolean;
  timeScale?: number;
  killGrace?: number;
  only?: string[];
  sandbox?: boolean;
  acceptUnexercised?: boolean;
  scenario?: string;
  shard?: string;
  minutes?: number;
  workers?: number;
  exhaustive?: boolean;
  depth?: number;
  sessions?: number;
  world?: ExploredWorld;
  yes?: boolean;
  maxStates?: number;
  ties?: number;
  maxOrders?: number;
  hashing?: boolean;
  symmetry?: boolean;
}

/** The command's exit status and what it prints. */
export interface CheckOutcome {
  readonly exitCode: 0 | 1 | 2;
  readonly output: string;
}
