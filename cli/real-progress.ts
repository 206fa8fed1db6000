// Progress of `simulate --real` on stderr, which takes real minutes: on a terminal, one line
// rewritten in place (runner k of n, step, time spent); in a CI log, a plain line when a runner
// starts, when it waits for quiescence, and every 10 s between.
import type { PlayProgress } from '../simulator/driver.ts';

/** A reporter per runner: call `forRunner` as each runner starts, `done` when all are over. */
export interface RealProgress {
  forRunner(name: string, index: number, of: number): (progress: PlayProgress) => void;
  done(): void;
}

const PLAIN_EVERY_MS = 10_000;

export function realProgress(stream: NodeJS.WriteStream = process.stderr): RealProgress {
  const tty = stream.isTTY === true;
  let drawn = false;
  let timer: NodeJS.Timeout | undefined;
  let line = '';
  const draw = (): void => {
    if (tty) {
      stream.write(`\r\u001b[2K${line}`);
      drawn = true;
    } else stream.write(`${line}\n`);
  };
  return {
    forRunner(name, index, of) {
      const started = performance.now();
      let last: PlayProgress = { done: 0, of: 0, phase: 'steps' };
      const text = (): string => {
        const where =
          last.phase === 'steps'
            ? `step ${last.done + 1}/${last.of}`
            : `all ${last.of} steps played, waiting for quiet`;
        return `--real: runner ${index + 1}/${of} ${name}: ${where}, ${((performance.now() - started) / 1000).toFixed(0)} s`;
      };
      clearInterval(timer);
      // Time passes between steps too (a 60 minute boot is 72 real seconds): keep the line alive.
      timer = setInterval(
        () => {
          line = text();
          draw();
        },
        tty ? 1_000 : PLAIN_EVERY_MS,
      );
      timer.unref();
      return (progress) => {
        const phaseChanged = progress.phase !== last.phase || progress.of !== last.of;
        last = progress;
        line = text();
        // In a log, a line at the start and at quiescence; the interval covers the rest.
        if (tty || phaseChanged) draw();
      };
    },
    done() {
      clearInterval(timer);
      if (tty && drawn) stream.write('\r\u001b[2K');
    },
  };
}
