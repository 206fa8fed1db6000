// A look at one PID through the port's generationOf, which throws when /proc cannot be read
// (EMFILE and the like). A refused read says neither "the same process" nor "gone": each caller
// fails its own way (a signal is not sent, an adopted session is kept, a webhook is not trusted
// by its PID), and none takes the refusal for an exit.
import type { ProcessHost, ProcessRef } from '../ports.ts';

/** The generation holding `pid` now, null when no process holds it, or undefined when /proc refused the read. */
export function generationNow(processes: ProcessHost, pid: number): string | null | undefined {
  try {
    return processes.generationOf(pid);
  } catch {
    return undefined;
  }
}

/** Whether `ref` is still the same process: true, false (gone, or its PID came round), or undefined (unread). */
export function sameProcess(processes: ProcessHost, ref: ProcessRef): boolean | undefined {
  const now = generationNow(processes, ref.pid);
  return now === undefined ? undefined : now === ref.generation;
}
