// The hub's session list, as the dashboard shows it. An agent creates its row when it is
// ready (before it posts the webhook, as hapi's CLI does); the row is active while the process
// that created it lives and nobody archived it.
import type { VProcess } from './process-table.ts';

export interface HubRow {
  readonly sessionId: string;
  readonly process: VProcess;
  readonly registeredAt: number;
  archived: boolean;
}

export class HubModel {
  private readonly rows = new Map<string, HubRow>();

  register(sessionId: string, process: VProcess, now: number): void {
    this.rows.set(sessionId, { sessionId, process, registeredAt: now, archived: false });
  }

  archive(sessionId: string): boolean {
    const row = this.rows.get(sessionId);
    if (row === undefined) return false;
    row.archived = true;
    return true;
  }

  row(sessionId: string): HubRow | undefined {
    return this.rows.get(sessionId);
  }

  /** Sessions the dashboard shows as active right now. */
  active(): HubRow[] {
    return [...this.rows.values()].filter((r) => !r.archived && r.process.alive);
  }
}
