// Progress of `simulate` on stderr once a run has taken more than 2 s (a real run takes minutes, a
// huge virtual one seconds): on a terminal, one line rewritten in place (runner k of n, step,
// time spent); in a CI log, a plain line when a runner starts, when it waits for quiescence, and
// every 10 s between. Nothing at all for the usual run of a few milliseconds.
import type { PlayProgress } from '../simulator/driver.ts';

/** A reporter per runner: call `forRunner` as each runner starts, `done` when all are over. */
export interface RunProgress {
  forRunner(name: string, index: number, of: number): (progress: PlayProgress) => void;
  done(): void;
}

/** The real clock, taken before any virtual run traps the global one (a trapped call costs a stack). */
const realNow = performance.now.bind(performance);
const PLAIN_EVERY_MS = 10_000;
/** A virtual run shorter than this shows nothing (a real one always shows its progress). */
const QUIET_MS = 2_000;
const REDRAW_MS = 250;

export function runProgress(options: { real: boolean; stream?: NodeJS.WriteStream }): RunProgress {
  const stream = options.stream ?? process.stderr;
  const mode = options.real ? '--real' : 'simulate';
  const tty = stream.isTTY === true;
  let drawn = false;
  let timer: NodeJS.Timeout | undefined;
  let line = '';
  let lastDraw = 0;
  const draw = (): void => {
    lastDraw = realNow();
    if (tty) {
      stream.write(`\r\u001b[2K${line}`);
      drawn = true;
    } else stream.write(`${line}\n`);
  };
  return {
    forRunner(name, index, of) {
      const started = realNow();
      let last: PlayProgress = { done: 0, of: 0, phase: 'steps' };
      const text = (): string => {
        const where =
          last.phase === 'steps'
            ? `step ${last.done + 1}/${last.of}`
            : `all ${last.of} steps played, waiting for quiet`;
        return `${mode}: runner ${index + 1}/${of} ${name}: ${where}, ${((realNow() - started) / 1000).toFixed(0)} s`;
      };
      clearInterval(timer);
      const late = (): boolean => options.real || realNow() - started >= QUIET_MS;
      // Time passes between steps too (a 60 minute boot is 72 real seconds): keep the line alive.
      // (A virtual run keeps the event loop busy with its own work; its steps draw instead.)
      timer = setInterval(
        () => {
          if (!late()) return;
          line = text();
          draw();
        },
        tty ? 1_000 : PLAIN_EVERY_MS,
      );
      timer.unref();
      return (progress) => {
        const phaseChanged = progress.phase !== last.phase || progress.of !== last.of;
        last = progress;
        if (!late()) return;
        line = text();
        const now = realNow();
        // In a log, a line at quiescence and every 10 s; on a terminal, at most 4 redraws a second.
        if (tty ? now - lastDraw >= REDRAW_MS : phaseChanged || now - lastDraw >= PLAIN_EVERY_MS) draw();
      };
    },
    done() {
      clearInterval(timer);
      if (tty && drawn) stream.write('\r\u001b[2K');
    },
  };
}
