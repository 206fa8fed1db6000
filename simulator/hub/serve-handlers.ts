// A small node:http bridge over msw's handler resolution: msw request handlers served on
// loopback, for processes that msw cannot intercept (a black-box runner, real agents). Each
// request becomes a Fetch Request, msw's `getResponse` picks the handler, and its Response is
// written back. A network-error Response (`HttpResponse.error()`) resets the connection.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getResponse, type RequestHandler } from 'msw';

/** Bodies larger than this are refused with 413: nothing a hub is sent comes near it. */
const MAX_BODY_BYTES = 1024 * 1024;

export interface ServedHandlers {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return 'too-large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function answer(
  handlers: readonly RequestHandler[],
  origin: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const body = await readBody(req);
  if (body === 'too-large') {
    res
      .writeHead(413, { 'content-type': 'application/json' })
      .end(JSON.stringify({ error: `body over ${MAX_BODY_BYTES} bytes` }));
    return;
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') headers.set(name, value);
    else if (Array.isArray(value)) for (const v of value) headers.append(name, v);
  }
  const method = req.method ?? 'GET';
  const request = new Request(new URL(req.url ?? '/', origin), {
    method,
    headers,
    ...(method === 'GET' || method === 'HEAD' || body.length === 0 ? {} : { body }),
  });
  const response = await getResponse([...handlers], request);
  if (response === undefined) {
    res
      .writeHead(404, { 'content-type': 'application/json' })
      .end(JSON.stringify({ error: `no handler for ${method} ${request.url}` }));
    return;
  }
  if (response.type === 'error') {
    req.socket.destroy(); // what a crashed or unreachable server looks like to the caller
    return;
  }
  const out: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    out[name] = value;
  });
  res.writeHead(response.status, out).end(Buffer.from(await response.arrayBuffer()));
}

/** Serves `handlers` on 127.0.0.1 at a free port until `close()`. */
export async function serveHandlers(handlers: readonly RequestHandler[]): Promise<ServedHandlers> {
  let origin = 'http://127.0.0.1';
  const server = createServer((req, res) => {
    answer(handlers, origin, req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: `the harness's server failed: ${error instanceof Error ? error.message : String(error)}`,
        }),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
