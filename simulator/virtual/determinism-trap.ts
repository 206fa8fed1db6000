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

/**
 * Runs `play` with the platform's clock, randomness and timers trapped, and reports the first
 * call the runner made to any of them (undefined: none). Always restores them.
 */
export async function withDeterminismTrap<T>(play: () => Promise<T>): Promise<{ value: T; trapped?: TrappedCall }> {
  let trapped: TrappedCall | undefined;
  const note = (what: string): boolean => {
    if (trapped !== undefined) return false;
    const at = callerOf(new Error().stack);
    if (at === undefined) return false;
    trapped = { what, at };
    return true;
  };
  // performance.now is inherited from Performance.prototype: the trap shadows it with an own
  // property and then deletes that, so the very same method is back after every run. (Putting
  // back `performance.now.bind(performance)` made a bound wrapper of the last run's wrapper each
  // time: after n runs every call went through n wrappers, and a 68,000-scenario exhaustive run
  // spent most of its time there.)
  const perfNowOwn = Object.getOwnPropertyDescriptor(performance, 'now');
  const perfNow = performance.now;
  const real = {
    dateNow: Date.now,
    perfNow: () => perfNow.call(performance),
    random: Math.random,
    hrtime: process.hrtime,
    setTimeout: globalThis.setTimeout,
    setInterval: globalThis.setInterval,
    setImmediate: globalThis.setImmediate,
  };
  Date.now = () => (note('Date.now()'), real.dateNow());
  performance.now = () => (note('performance.now()'), real.perfNow());
  Math.random = () => (note('Math.random()'), real.random());
  const hrtime = ((time?: [number, number]) => (note('process.hrtime()'), real.hrtime(time))) as typeof process.hrtime;
  hrtime.bigint = () => (note('process.hrtime.bigint()'), real.hrtime.bigint());
  process.hrtime = hrtime;
  // A timer the runner set would fire in real time, after the run: it is noted and not set.
  const timer = (name: string, realFn: (...a: never[]) => unknown) =>
    ((...args: never[]) => (note(`${name}()`) ? undefined : realFn(...args))) as never;
  globalThis.setTimeout = timer('setTimeout', real.setTimeout as never);
  globalThis.setInterval = timer('setInterval', real.setInterval as never);
  globalThis.setImmediate = timer('setImmediate', real.setImmediate as never);
  try {
    const value = await play();
    return trapped === undefined ? { value } : { value, trapped };
  } finally {
    Date.now = real.dateNow;
    if (perfNowOwn === undefined) delete (performance as { now?: unknown }).now;
    else Object.defineProperty(performance, 'now', perfNowOwn);
    Math.random = real.random;
    process.hrtime = real.hrtime;
    globalThis.setTimeout = real.setTimeout;
    globalThis.setInterval = real.setInterval;
    globalThis.setImmediate = real.setImmediate;
  }
}
