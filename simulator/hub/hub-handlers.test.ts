// The hub's msw handlers: served on loopback to a real HTTP client (this project's Node hub
// client, as a runner uses it), with every fault mode; and used in-process with msw's
// setupServer, as a runner author's own tests would (`runner-chaos/msw`).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { HttpHubClient } from '../../runner/node/node-ports.ts';
import { activeRows, createHubHandlers, createHubState } from './hub-handlers.ts';
import { serveHandlers, type ServedHandlers } from './serve-handlers.ts';

describe('the hub served on loopback (msw handlers over node:http)', () => {
  const state = createHubState();
  let served: ServedHandlers;
  beforeAll(async () => {
    served = await serveHandlers(createHubHandlers(state));
  });
  afterAll(async () => {
    await served.close();
  });
  afterEach(() => {
    state.fault = { kind: 'up' };
  });

  const register = (sessionId: string) =>
    fetch(`${served.url}/hub/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sessionId, pid: 4242 }),
    });

  it('takes an agent row and archives it for the Node hub client', async () => {
    expect((await register('s-1')).status).toBe(200);
    expect(activeRows(state).map((r) => r.sessionId)).toContain('s-1');
    await new HttpHubClient(`${served.url}/hub`).archiveSession('s-1');
    expect(activeRows(state).map((r) => r.sessionId)).not.toContain('s-1');
  });

  it('refuses a malformed row with a message, and records routes it does not have', async () => {
    const bad = await fetch(`${served.url}/hub/register`, { method: 'POST', body: '{"sessionId": 3}' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/register needs \{sessionId, pid\}/);
    expect((await fetch(`${served.url}/v2/nothing`, { method: 'PUT' })).status).toBe(404);
    expect(state.unknownCalls).toContainEqual({ method: 'PUT', path: '/v2/nothing' });
  });

  it("answers tiann/hapi's machine registration in the shape its schema demands", async () => {
    const answer = await fetch(`${served.url}/cli/machines`, {
      method: 'POST',
      body: JSON.stringify({ id: 'm-1', metadata: { host: 'x' } }),
    });
    const { machine } = (await answer.json()) as { machine: Record<string, unknown> };
    expect(machine).toMatchObject({
      id: 'm-1',
      active: true,
      metadata: null,
      runnerState: null,
      metadataVersion: 1,
      runnerStateVersion: 1,
    });
    for (const field of ['seq', 'createdAt', 'updatedAt', 'activeAt']) expect(typeof machine[field]).toBe('number');
  });

  it('fails as told: 5xx, a reset connection, a down hub, a slow one', async () => {
    const client = new HttpHubClient(`${served.url}/hub`);
    await register('s-2');
    state.fault = { kind: 'error', status: 503 };
    await expect(client.archiveSession('s-2')).rejects.toThrow(/503/);
    state.fault = { kind: 'reset' };
    await expect(client.archiveSession('s-2')).rejects.toThrow();
    state.fault = { kind: 'down' };
    await expect(register('s-3')).rejects.toThrow();
    state.fault = { kind: 'slow', ms: 300 };
    const started = performance.now();
    await client.archiveSession('s-2');
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    expect(state.rows.get('s-2')?.archived).toBe(true);
  });
});

// msw 3's interceptors need Node 22 (Promise.withResolvers); on Node 20 the loopback server above is the way.
const interceptable = typeof (Promise as { withResolvers?: unknown }).withResolvers === 'function';

describe.runIf(interceptable)("the hub in a runner author's own tests, with msw's setupServer (Node 22+)", () => {
  const state = createHubState();
  const server = setupServer(...createHubHandlers(state, 'http://hub.test'));
  beforeAll(() => server.listen());
  afterAll(() => server.close());

  it('intercepts fetch: no port, no process', async () => {
    const answer = await fetch('http://hub.test/hub/register', {
      method: 'POST',
      body: JSON.stringify({ sessionId: 'in-process', pid: 7 }),
    });
    expect(answer.status).toBe(200);
    expect(state.rows.get('in-process')).toMatchObject({ pid: 7, archived: false });
  });
});
