// The world's agenda: callbacks ordered by virtual time. Events at the same instant are ordered
// by a tie key that is either their insertion order or, to explore interleavings, drawn from
// the seeded Rng. Bounded, so a runner that schedules without end fails loudly instead of
// spinning.
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

export class EventQueue {
  private heap: Entry[] = [];
  private seq = 0;

  constructor(
    private readonly capacity: number,
    private readonly shuffleTies: Rng | null,
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
