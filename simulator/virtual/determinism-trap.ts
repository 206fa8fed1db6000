// Determinism, enforced: while a virtual run plays, the clock, randomness and timers of the
// platform are trapped. A runner that reaches for Date.now, performance.now, process.hrtime,
// Math.random or the global timers instead of its ports would make the run depend on real time
// and chance, silently; here the call is recorded (who made it, from where) and the run ends as
// a broken adapter naming it. The harness's own calls and its libraries' (node_modules) pass.
import { fileURLToPath } from 'node:url';
import { dirname, sep } from 'node:path';

/** This package's own code, which may use the real clock (it never does during a run, but its libraries may). */
const HARNESS_DIRS = ['simulator', 'properties', 'cli', 'bench'].map(
  (d) => `${dirname(dirname(dirname(fileURLToPath(import.meta.url))))}${sep}${d}${sep}`,
);

export interface TrappedCall {
  readonly what: string;
  readonly at: string;
}

/** The first stack frame outside this file, if it is the runner's (not the harness's, not a library's). */
function callerOf(stack: string | undefined): string | undefined {
  const frames = (stack ?? '').split('\n').slice(1);
  const self = fileURLToPath(import.meta.url);
  for (const frame of frames) {
    if (frame.includes(self) || frame.includes('node:internal') || frame.includes('(native)')) continue;
    if (frame.includes(`${sep}node_modules${sep}`)) return undefined;
    if (HARNESS_DIRS.some((d) => frame.includes(d))) return undefined;
    return frame.trim().replace(/^at /, '');
  }
  return undefined;
}

/** The platform's functions as they were before the first of the runs now playing began. */
interface Platform {
  readonly dateNow: typeof Date.now;
  readonly perfNowOwn: PropertyDescriptor | undefined;
  readonly perfNow: () => number;
  readonly random: typeof Math.random;
  readonly hrtime: typeof process.hrtime;
  readonly setTimeout: typeof globalThis.setTimeout;
  readonly setInterval: typeof globalThis.setInterval;
  readonly setImmediate: typeof globalThis.setImmediate;
}

/**
 * The runs playing now, each told of every call a runner makes. Runs may overlap in one thread
 * (`Promise.all` over virtual runs, as a user's own tests may do): the platform is trapped once,
 * when the first begins, and put back once, when the last ends. (Each run trapping and restoring
 * on its own left the platform trapped for good when two overlapped: the second saved the first's
 * wrappers as "real" and put them back after the first had restored the real ones; a later real
 * run in that process then lost its first timer.) With runs overlapping, a call is told to all of
 * them: which run's runner made it cannot be known, so each fails closed.
 */
const playing = new Set<(what: string, at: string) => void>();
let saved: Platform | undefined;

/** Traps the platform (the first run to begin does). */
function trapPlatform(): void {
  // performance.now is inherited from Performance.prototype: the trap shadows it with an own
  // property and then deletes that, so the very same method is back after every run. (Putting
  // back `performance.now.bind(performance)` made a bound wrapper of the last run's wrapper each
  // time: after n runs every call went through n wrappers, and a 68,000-scenario exhaustive run
  // spent most of its time there.)
  const perfNow = performance.now;
  const real: Platform = {
    dateNow: Date.now,
    perfNowOwn: Object.getOwnPropertyDescriptor(performance, 'now'),
    perfNow: () => perfNow.call(performance),
    random: Math.random,
    hrtime: process.hrtime,
    setTimeout: globalThis.setTimeout,
    setInterval: globalThis.setInterval,
    setImmediate: globalThis.setImmediate,
  };
  saved = real;
  /** Tells every run playing of a call made by a runner; true if the caller was a runner. */
  const note = (what: string): boolean => {
    const at = callerOf(new Error().stack);
    if (at === undefined) return false;
    for (const tell of playing) tell(what, at);
    return true;
  };
  Date.now = () => (note('Date.now()'), real.dateNow());
  performance.now = () => (note('performance.now()'), real.perfNow());
  Math.random = () => (note('Math.random()'), real.random());
  const hrtime = ((time?: [number, number]) => (note('process.hrtime()'), real.hrtime(time))) as typeof process.hrtime;
  hrtime.bigint = () => (note('process.hrtime.bigint()'), real.hrtime.bigint());
  process.hrtime = hrtime;
  // A timer a runner set would fire in real time, after the run: it is noted and not set.
  const timer = (name: string, realFn: (...a: never[]) => unknown) =>
    ((...args: never[]) => (note(`${name}()`) ? undefined : realFn(...args))) as never;
  globalThis.setTimeout = timer('setTimeout', real.setTimeout as never);
  globalThis.setInterval = timer('setInterval', real.setInterval as never);
  globalThis.setImmediate = timer('setImmediate', real.setImmediate as never);
}

/** Puts the platform back as it was (the last run to end does). */
function restorePlatform(): void {
  const real = saved;
  if (real === undefined) return;
  saved = undefined;
  Date.now = real.dateNow;
  if (real.perfNowOwn === undefined) delete (performance as { now?: unknown }).now;
  else Object.defineProperty(performance, 'now', real.perfNowOwn);
  Math.random = real.random;
  process.hrtime = real.hrtime;
  globalThis.setTimeout = real.setTimeout;
  globalThis.setInterval = real.setInterval;
  globalThis.setImmediate = real.setImmediate;
}

/**
 * Runs `play` with the platform's clock, randomness and timers trapped, and reports the first
 * call a runner made to any of them while it played (undefined: none). Always restores them once
 * no run is playing.
 */
export async function withDeterminismTrap<T>(play: () => Promise<T>): Promise<{ value: T; trapped?: TrappedCall }> {
  let trapped: TrappedCall | undefined;
  const tell = (what: string, at: string): void => {
    if (trapped === undefined) trapped = { what, at };
  };
  if (playing.size === 0) trapPlatform();
  playing.add(tell);
  try {
    const value = await play();
    return trapped === undefined ? { value } : { value, trapped };
  } finally {
    playing.delete(tell);
    if (playing.size === 0) restorePlatform();
  }
}
