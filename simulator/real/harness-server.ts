// The harness's loopback HTTP server in a real run: the hub (msw handlers, ../hub/hub-handlers.ts)
// that agents register with and runners call, and the relay of agents' webhooks to an
// in-process runner. A hub row counts as active while the process that registered it is still
// the same process (PID and start time).
import { http, HttpResponse } from 'msw';
import { readStat } from '../../runner/node/proc.ts';
import { activeRows, createHubHandlers, createHubState, type HubRow, type HubState } from '../hub/hub-handlers.ts';
import { serveHandlers, type ServedHandlers } from '../hub/serve-handlers.ts';

export class HarnessServer {
  readonly hub: HubState = createHubState();
  /** Start times of the processes that registered rows, by session id. */
  private readonly registeredBy = new Map<string, { pid: number; starttime: string }>();
  private served: ServedHandlers | undefined;
  url = '';
  /** Where webhooks go; the harness points it at the runner instance that is up. */
  onWebhook: (body: unknown) => void = () => {};
  onRegister: (row: HubRow) => void = () => {};
  /** Agents in a sandbox register their PID as they see it: where it is on this machine. */
  pidToHost: (pid: number) => number | undefined = (pid) => pid;

  async start(): Promise<void> {
    this.hub.onRegister = (row) => {
      const host = this.pidToHost(row.pid);
      const starttime = host !== undefined ? readStat(host)?.starttime : undefined;
      if (host !== undefined && starttime !== undefined) this.registeredBy.set(row.sessionId, { pid: host, starttime });
      this.onRegister(row);
    };
    const relay = http.post('*/runner/session-started', async ({ request }) => {
      let body: unknown;
      try {
        body = await request.json();
      } catch {
        return HttpResponse.json({ error: 'the webhook body is not JSON' }, { status: 400 });
      }
      this.onWebhook(body);
      return HttpResponse.json({ status: 'ok' });
    });
    this.served = await serveHandlers([relay, ...createHubHandlers(this.hub)]);
    this.url = this.served.url;
  }

  /** Rows the dashboard shows as active: not archived, and their process still the one that registered. */
  active(): HubRow[] {
    return activeRows(this.hub).filter((row) => {
      const by = this.registeredBy.get(row.sessionId);
      return by !== undefined && readStat(by.pid)?.starttime === by.starttime;
    });
  }

  async stop(): Promise<void> {
    await this.served?.close();
  }
}
