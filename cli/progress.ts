// Progress of a long check on stderr: on a terminal, one line rewritten in place (scenarios done,
// rate, time left); elsewhere (CI logs), a plain line per search finished and every 10 s.
import type { CheckOptions } from '../properties/check.ts';

export function progressReporter(stream: NodeJS.WriteStream = process.stderr): NonNullable<CheckOptions['onRun']> {
  const tty = stream.isTTY === true;
  let invariant = '';
  let started = performance.now();
  let lastDraw = 0;
  let lastLine = 0;
  return ({ judging, run, of }) => {
    const now = performance.now();
    const current = `judging ${judging.join(' ')}`;
    if (current !== invariant) {
      if (invariant !== '' && tty) stream.write('\n');
      invariant = current;
      started = now;
      lastLine = now;
    }
    const rate = run / Math.max((now - started) / 1000, 1e-3);
    const left = (of - run) / Math.max(rate, 1e-3);
    const text = `${invariant}: ${run}/${of} scenarios, ${Math.round(rate)}/s, ${left.toFixed(1)} s left`;
    if (tty) {
      if (now - lastDraw < 100 && run !== of) return;
      lastDraw = now;
      stream.write(`\r\u001b[2K${text}`);
      if (run === of) stream.write('\n');
    } else if (run === of || now - lastLine > 10_000) {
      lastLine = now;
      stream.write(`${text}\n`);
    }
  };
}
