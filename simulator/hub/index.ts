// `runner-chaos/msw`: the hub runners talk to, as msw request handlers, for a runner's own
// tests. With msw's setupServer (Node 22.12+, msw 3) it intercepts fetch in-process; with
// serveHub (any Node 20+) it listens on loopback for a runner in another process.
//
//   import { setupServer } from 'msw/node';
//   import { createHubHandlers, createHubState } from 'runner-chaos/msw';
//   const hub = createHubState();
//   const server = setupServer(...createHubHandlers(hub, 'http://hub.test'));
//   hub.fault = { kind: 'error', status: 503 };   // and 'down', 'slow', 'reset'
import { createHubHandlers, createHubState, type HubState } from './hub-handlers.ts';
import { serveHandlers, type ServedHandlers } from './serve-handlers.ts';

export {
  activeRows,
  createHubHandlers,
  createHubState,
  type HubFault,
  type HubRow,
  type HubState,
  type UnknownHubCall,
} from './hub-handlers.ts';
export { serveHandlers, type ServedHandlers } from './serve-handlers.ts';

/** Serves a hub over `state` on 127.0.0.1 at a free port: point a runner at `url` (hapi: HAPI_API_URL). */
export async function serveHub(
  state: HubState = createHubState(),
): Promise<ServedHandlers & { readonly state: HubState }> {
  const served = await serveHandlers(createHubHandlers(state));
  return { ...served, state };
}
