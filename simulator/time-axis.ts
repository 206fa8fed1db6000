// A proportional time axis with breaks: where nothing happens for a long while (a 60 minute boot,
// the wait for quiescence) the axis is cut, and the cut is labelled with the time it hides, so
// that seconds-apart events stay readable beside an hour of nothing. Pure: times in, x out.
import { formatMs } from './oracle.ts';

/** A stretch of time drawn to scale. */
export interface AxisSegment {
  readonly fromMs: number;
  readonly toMs: number;
  readonly x0: number;
  readonly x1: number;
}

/** A cut: the time between two segments, not drawn to scale. */
export interface AxisBreak {
  readonly fromMs: number;
  readonly toMs: number;
  readonly x0: number;
  readonly x1: number;
  readonly label: string;
}

export interface TimeAxis {
  readonly segments: readonly AxisSegment[];
  readonly breaks: readonly AxisBreak[];
  /** Where `ms` is drawn; a time inside a break is drawn at the break's edge it is nearer. */
  x(ms: number): number;
  /** Tick marks, a few per segment, at round times. */
  ticks(): { x: number; label: string }[];
}

const BREAK_WIDTH = 44;
const MIN_SEGMENT_WIDTH = 40;
/** A gap is cut when it is this many times the typical gap between events, and at least a second. */
const BREAK_FACTOR = 8;
const MIN_BREAK_MS = 1_000;
const MIN_BREAK_SHARE = 0.05;

/** "58 min", "11 min 50 s", "2.5 s": a duration as a person says it. */
export function humanDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Number((ms / 1_000).toFixed(1))} s`;
  if (ms < 3_600_000) {
    const min = Math.floor(ms / 60_000);
    const s = Math.round((ms - min * 60_000) / 1_000);
    return s === 0 ? `${min} min` : `${min} min ${s} s`;
  }
  const h = Math.floor(ms / 3_600_000);
  const min = Math.round((ms - h * 3_600_000) / 60_000);
  return min === 0 ? `${h} h` : `${h} h ${min} min`;
}

/** 0:00:30 for a round second, 0:59:59.950 otherwise. */
function tickLabel(ms: number): string {
  const full = formatMs(ms);
  return full.endsWith('.000') ? full.slice(0, -4) : full;
}

/** Ticks at a round step that gives about `count` of them over `span` ms. */
function roundStep(span: number, count: number): number {
  const raw = Math.max(span / count, 1);
  const steps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000];
  const more = [120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000, 86_400_000];
  return [...steps, ...more].find((s) => s >= raw) ?? raw;
}

/**
 * Lays `times` (any order, repeats allowed) out over [x0, x1]. Gaps far longer than the typical
 * gap become labelled breaks; the rest is drawn in proportion, each segment at least readable.
 */
export function buildTimeAxis(
  times: readonly number[],
  x0: number,
  x1: number,
  /** Extra room a stretch of time needs beyond its share (many marks at one instant). */
  roomFor: (fromMs: number, toMs: number) => number = () => 0,
): TimeAxis {
  const sorted = [...new Set(times)].sort((a, b) => a - b);
  if (sorted.length === 0) sorted.push(0);
  const gaps = sorted.slice(1).map((t, i) => t - sorted[i]!);
  const positive = gaps.filter((g) => g > 0).sort((a, b) => a - b);
  const typical = positive.length > 0 ? positive[Math.floor(positive.length / 2)]! : 0;
  const total = sorted.at(-1)! - sorted[0]!;
  // Long against the typical gap, and a real share of the whole: 15 s steps of a 71 minute run
  // stay to scale, its 58 minute boot is cut.
  const cutAt = Math.max(MIN_BREAK_MS, typical * BREAK_FACTOR, total * MIN_BREAK_SHARE);
  // Clusters of events with no long gap inside.
  const clusters: { from: number; to: number; events: number }[] = [{ from: sorted[0]!, to: sorted[0]!, events: 0 }];
  for (let i = 1; i < sorted.length; i++) {
    const t = sorted[i]!;
    const last = clusters.at(-1)!;
    if (t - last.to > cutAt) clusters.push({ from: t, to: t, events: 0 });
    else last.to = t;
  }
  for (const t of times) clusters.find((c) => t >= c.from && t <= c.to)!.events++;
  const breakCount = clusters.length - 1;
  // Fixed widths (each stretch's minimum, each cut) shrink together when they would not fit.
  const wanted = clusters.map((c) => MIN_SEGMENT_WIDTH + roomFor(c.from, c.to));
  const fixed = breakCount * BREAK_WIDTH + wanted.reduce((a, b) => a + b, 0);
  const fit = Math.min(1, (x1 - x0) / fixed);
  const minWidths = wanted.map((w) => w * fit);
  const breakWidth = BREAK_WIDTH * fit;
  const room = Math.max(x1 - x0 - fixed * fit, 0);
  // Half the room by each stretch's length, half by how much happens in it: a busy instant before
  // a long quiet stretch still gets the room its marks need.
  const spanSum = clusters.reduce((sum, c) => sum + (c.to - c.from), 0);
  const eventSum = clusters.reduce((sum, c) => sum + c.events, 0);
  const share = (c: { from: number; to: number; events: number }): number =>
    spanSum > 0 ? 0.5 * ((c.to - c.from) / spanSum) + 0.5 * (c.events / eventSum) : c.events / eventSum;
  const segments: AxisSegment[] = [];
  const breaks: AxisBreak[] = [];
  let x = x0;
  for (const [i, c] of clusters.entries()) {
    const width = minWidths[i]! + room * share(c);
    // Half the minimum width on each side: an event at a segment's edge is not on the cut.
    segments.push({ fromMs: c.from, toMs: c.to, x0: x, x1: x + width });
    x += width;
    const next = clusters[i + 1];
    if (next !== undefined) {
      breaks.push({
        fromMs: c.to,
        toMs: next.from,
        x0: x,
        x1: x + breakWidth,
        label: humanDuration(next.from - c.to),
      });
      x += breakWidth;
    }
  }
  const pad = (MIN_SEGMENT_WIDTH * fit) / 2;
  const minWidthOf = new Map(segments.map((seg, i) => [seg, minWidths[i]! - MIN_SEGMENT_WIDTH * fit]));
  const xOf = (ms: number): number => {
    for (const s of segments) {
      if (ms <= s.toMs || s === segments.at(-1)) {
        if (ms < s.fromMs) return s.x0; // inside the break before it: its edge
        const span = s.toMs - s.fromMs;
        const inner = s.x1 - s.x0 - 2 * pad - (minWidthOf.get(s) ?? 0);
        return span === 0 ? (s.x0 + s.x1) / 2 : s.x0 + pad + ((Math.min(ms, s.toMs) - s.fromMs) / span) * inner;
      }
    }
    return x1;
  };
  return {
    segments,
    breaks,
    x: xOf,
    ticks() {
      const out: { x: number; label: string }[] = [];
      const push = (t: number): void => {
        const x = xOf(t);
        const last = out.at(-1);
        const nearCut = breaks.some((b) => Math.abs((b.x0 + b.x1) / 2 - x) < 50);
        if ((last === undefined || x - last.x >= 90) && !nearCut) out.push({ x, label: tickLabel(t) });
      };
      for (const s of segments) {
        push(s.fromMs);
        const width = s.x1 - s.x0;
        const step = roundStep(s.toMs - s.fromMs, Math.max(1, Math.floor(width / 140)));
        for (let t = Math.ceil(s.fromMs / step) * step; t < s.toMs; t += step) push(t);
        if (s.toMs > s.fromMs) push(s.toMs);
      }
      return out;
    },
  };
}
