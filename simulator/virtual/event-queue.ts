// The world's agenda: callbacks ordered by virtual time. Events at the same instant are ordered
// by a tie key that is either their insertion order or, to explore interleavings, drawn from
// the seeded Rng, or, for `check --exhaustive --ties`, chosen at each instant by a TieChooser
// (every order is then reachable). Bounded, so a runner that schedules without end fails loudly
// instead of spinning.
import type { Rng } from './rng.ts';

interface Entry {
  readonly at: number;
  readonly tie: number;
  readonly seq: number;
  readonly run: () => void;
  cancelled: boolean;
}

export interface EventHandle {
  cancel(): void;
}

/**
 * Picks which of several events due at one instant runs next: `tied` (2 or more) are due at `at`,
 * in scheduling order; the answer is an index into them. Asked again at the next pop, so an event
 * scheduled for now by the one that ran joins the choice.
 */
export type TieChooser = (tied: number, at: number) => number;

export class EventQueue {
  private heap: Entry[] = [];
  private seq = 0;

  constructor(
    private readonly capacity: number,
    private readonly shuffleTies: Rng | null,
    private readonly chooseTie?: TieChooser,
  ) {}

  get size(): number {
    return this.heap.length;
  }

  schedule(at: number, run: () => void): EventHandle {
    if (!Number.isFinite(at)) throw new Error(`event time must be finite, got ${at}`);
    if (this.heap.length >= this.capacity) {
      throw new Error(`event queue full (${this.capacity} events pending): something schedules without bound`);
    }
    const entry: Entry = { at, tie: this.shuffleTies?.nextU32() ?? 0, seq: this.seq++, run, cancelled: false };
    this.push(entry);
    return {
      cancel: () => {
        entry.cancelled = true;
      },
    };
  }

  /** Time of the next live event, or undefined when none is pending. */
  peekTime(): number | undefined {
    this.dropCancelled();
    return this.heap[0]?.at;
  }

  /** The times of every live pending event, earliest first (for a state's fingerprint). */
  pendingTimes(): number[] {
    return this.heap
      .filter((e) => !e.cancelled)
      .map((e) => e.at)
      .sort((a, b) => a - b);
  }

  /** Removes and returns the next live event. */
  pop(): { at: number; run: () => void } | undefined {
    this.dropCancelled();
    const top = this.heap[0];
    if (top === undefined) return undefined;
    if (this.chooseTie !== undefined) return this.popChosen(top.at, this.chooseTie);
    return this.popTop();
  }

  /** Takes every live event due at `at` (in queue order), runs the chosen one, puts the rest back. */
  private popChosen(at: number, choose: TieChooser): Entry {
    const tied: Entry[] = [];
    // Bounded by the queue's size: each pass takes one entry out.
    while (this.heap[0] !== undefined && this.heap[0].at === at) {
      const entry = this.popTop()!;
      if (!entry.cancelled) tied.push(entry);
    }
    const index = tied.length > 1 ? choose(tied.length, at) : 0;
    const chosen = tied[index];
    if (chosen === undefined)
      throw new Error(`the tie chooser picked event ${index} of ${tied.length} due at ${at} ms: no such event`);
    for (const entry of tied) if (entry !== chosen) this.push(entry);
    return chosen;
  }

  private popTop(): Entry | undefined {
    const top = this.heap[0];
    if (top === undefined) return undefined;
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  private dropCancelled(): void {
    while (this.heap[0]?.cancelled === true) {
      const last = this.heap.pop()!;
      if (this.heap.length > 0) {
        this.heap[0] = last;
        this.siftDown(0);
      }
    }
  }

  private less(a: Entry, b: Entry): boolean {
    if (a.at !== b.at) return a.at < b.at;
    if (a.tie !== b.tie) return a.tie < b.tie;
    return a.seq < b.seq;
  }

  private push(entry: Entry): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private siftDown(start: number): void {
    const heap = this.heap;
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && this.less(heap[left]!, heap[smallest]!)) smallest = left;
      if (right < heap.length && this.less(heap[right]!, heap[smallest]!)) smallest = right;
      if (smallest === i) return;
      [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
      i = smallest;
    }
  }
}
