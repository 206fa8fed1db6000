// The harness's loopback HTTP server: a small hub that agents register with (the dashboard's
// session list), and the relay of agents' webhooks to an in-process runner.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { readStat } from '../../runner/node/proc.ts';

const MAX_BODY = 64 * 1024;
const RegisterSchema = z.strictObject({ sessionId: z.string().min(1).max(200), pid: z.number().int().positive() });

export interface HubRowReal {
  readonly sessionId: string;
  readonly pid: number;
  readonly starttime: string;
  archived: boolean;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error(`body over ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

export class HarnessServer {
  readonly rows = new Map<string, HubRowReal>();
  private server: Server | undefined;
  url = '';
  /** Where webhooks go; the harness points it at the runner instance that is up. */
  onWebhook: (body: unknown) => void = () => {};
  onRegister: (row: HubRowReal) => void = () => {};

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void this.handle(req)
        .then(([status, body]) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        })
        .catch((error: unknown) => {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: String(error) }));
        });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private async handle(req: IncomingMessage): Promise<[number, unknown]> {
    const path = req.url ?? '/';
    if (req.method === 'POST' && path === '/hub/register') {
      const { sessionId, pid } = RegisterSchema.parse(await readJson(req));
      const starttime = readStat(pid)?.starttime;
      if (starttime === undefined) return [409, { error: `process ${pid} is gone` }];
      const row = { sessionId, pid, starttime, archived: false };
      this.rows.set(sessionId, row);
      this.onRegister(row);
      return [200, { ok: true }];
    }
    const archive = /^\/hub\/sessions\/([^/]+)\/archive$/.exec(path);
    if (req.method === 'POST' && archive !== null) {
      const row = this.rows.get(decodeURIComponent(archive[1]!));
      if (row === undefined) return [404, { error: 'no such session' }];
      row.archived = true;
      return [200, { ok: true }];
    }
    if (req.method === 'POST' && path === '/runner/session-started') {
      this.onWebhook(await readJson(req));
      return [200, { status: 'ok' }];
    }
    return [404, { error: `no route ${req.method} ${path}` }];
  }

  /** Rows the dashboard shows as active: not archived, and their process still the one that registered. */
  active(): HubRowReal[] {
    return [...this.rows.values()].filter((r) => !r.archived && readStat(r.pid)?.starttime === r.starttime);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      if (this.server === undefined) resolve();
      else {
        this.server.closeAllConnections();
        this.server.close(() => resolve());
      }
    });
  }
}
