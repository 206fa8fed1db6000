// Virtual latencies: how long each port operation takes, drawn per operation from the scenario's
// latency table by a seeded stream of its own (so adding a draw elsewhere does not reshuffle
// them). A fixed latency gives every operation of its kind the same duration, which is how
// exactly equal completions, and the tie order between them, come up.
import type { Latency } from '../scenario.ts';
import { Rng } from './rng.ts';

export class Latencies {
  private readonly rng: Rng;

  constructor(seed: number) {
    this.rng = new Rng((seed ^ 0x1a7e1a7e) >>> 0);
  }

  /** One operation's latency in ms. */
  draw(latency: Latency): number {
    if (typeof latency === 'number') return latency;
    return latency.min === latency.max ? latency.min : this.rng.int(latency.min, latency.max);
  }

  /** As `draw`, or undefined for an operation the scenario leaves synchronous. */
  drawOptional(latency: Latency | undefined): number | undefined {
    return latency === undefined ? undefined : this.draw(latency);
  }
}
