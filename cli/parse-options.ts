// Parsers for command-line values: each rejects bad input with a message naming the value.
import { InvalidArgumentError } from 'commander';
import ms from 'ms';

/** "60m", "90s", "1h", "1.5h", "250ms"; a bare number is milliseconds. */
export function parseDuration(value: string): number {
  const trimmed = value.trim();
  const parsed = /^\d+$/.test(trimmed) ? Number(trimmed) : ms(trimmed as ms.StringValue);
  if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed < 0) {
    throw new InvalidArgumentError(`"${value}" is not a duration (try 90s, 60m, 1h, 250ms)`);
  }
  return Math.round(parsed);
}

/** The longest duration a scenario can hold (the scenario language's own bound). */
const MAX_DURATION_MS = 7 * 24 * 3_600_000;

/** A duration from `min` ms up to a week: "0" where a zero means nothing (a webhook timeout) is refused. */
export function parseDurationIn(min: number) {
  return (value: string): number => {
    const ms = parseDuration(value);
    if (ms < min) throw new InvalidArgumentError(`${value} is too short (at least ${min} ms)`);
    if (ms > MAX_DURATION_MS) throw new InvalidArgumentError(`${value} is too long (at most 7 days: 7d)`);
    return ms;
  };
}

export function parseCount(min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`"${value}" is not a whole number`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`${n} is out of range (${min} to ${max})`);
    return n;
  };
}

/** `--ties N|all`: same-instant events out of scheduling order per scenario, at most (`all`: every order). */
export function parseTies(value: string): number {
  if (value.trim() === 'all') return Infinity;
  return parseCount(0, 1_000)(value);
}

export function parseSeed(value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`"${value}" is not an integer seed`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || Math.abs(n) > 0xffffffff)
    throw new InvalidArgumentError(`seed ${value} is out of range (32 bits)`);
  return n;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function parseScale(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 1)
    throw new InvalidArgumentError(`"${value}" is not a time scale (a number in (0, 1], e.g. 0.02)`);
  return n;
}

/** A time budget in minutes: more than 0, at most a week. */
export function parseMinutes(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 7 * 24 * 60)
    throw new InvalidArgumentError(`"${value}" is not a number of minutes (more than 0, at most a week: 10080)`);
  return n;
}
