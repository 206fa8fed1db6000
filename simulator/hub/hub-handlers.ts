// The hub's API, defined once as msw request handlers: what agents and runners call on the hub
// (the dashboard's server). The real world serves these on loopback (./serve-handlers.ts) for
// black-box runners and the in-process runner alike, and runner authors can use them in their
// own tests (`runner-chaos/msw`) with msw's setupServer.
//
// Routes (all JSON):
//   POST /hub/register                 {sessionId, pid}  an agent creates its session row
//   POST /hub/sessions/:id/archive                       a runner archives a stopped session
//   POST /cli/machines                 {id, metadata?, runnerState?}  tiann/hapi's runner registers its machine
//   POST /v1/machines                  {id, metadata, daemonState}  slopus/happy's daemon registers (echoed)
//   GET  /socket.io/*, /v1/updates/*                     Socket.IO: refused politely (404; they retry)
//   anything else                                        404 naming the route, and recorded
//
// Handlers are linear and return early, in msw's style: the fault gate first, then one route each.
import { delay, http, HttpResponse, type HttpHandler } from 'msw';
import { z } from 'zod';

/** How the hub misbehaves: the faults a runner must survive. */
export type HubFault =
  | { readonly kind: 'up' }
  /** Every call fails as if nothing listened (a network error). */
  | { readonly kind: 'down' }
  /** Every call is answered after `ms` real milliseconds. */
  | { readonly kind: 'slow'; readonly ms: number }
  /** Every call gets HTTP `status` (5xx). */
  | { readonly kind: 'error'; readonly status: number }
  /** Every connection is reset mid-call. */
  | { readonly kind: 'reset' };

/** A session row on the hub: what the dashboard shows. */
export interface HubRow {
  readonly sessionId: string;
  readonly pid: number;
  archived: boolean;
}

/** A call the hub got that it has no route for: shown in reports, so a runner's needs are visible. */
export interface UnknownHubCall {
  readonly method: string;
  readonly path: string;
}

/** The hub's state, shared by its handlers; the harness reads it and may set `fault` at any time. */
export interface HubState {
  readonly rows: Map<string, HubRow>;
  readonly machines: Map<string, { readonly id: string; readonly registeredAt: number }>;
  readonly unknownCalls: UnknownHubCall[];
  fault: HubFault;
  /** Called when an agent registers its row (before the row is answered). */
  onRegister?: (row: HubRow) => void;
}

/** Unknown calls kept at most: a runner that loops on a missing route cannot grow this without end. */
const MAX_UNKNOWN_CALLS = 1_000;

export function createHubState(): HubState {
  return { rows: new Map(), machines: new Map(), unknownCalls: [], fault: { kind: 'up' } };
}

const RegisterSchema = z.strictObject({ sessionId: z.string().min(1).max(200), pid: z.number().int().positive() });
const MachineSchema = z.looseObject({ id: z.string().min(1).max(200) });

function problem(status: number, error: string): Response {
  return HttpResponse.json({ error }, { status });
}

async function jsonBody(request: Request): Promise<unknown> {
  try {
    return await request.json();
  } catch {
    return undefined;
  }
}

/**
 * The hub's request handlers over `state`. `base` is where they answer (an origin such as
 * `http://127.0.0.1:4000`, or msw's `*` wildcard origin by default).
 */
export function createHubHandlers(state: HubState, base = '*'): HttpHandler[] {
  const at = (path: string): string => (base === '*' ? `*${path}` : `${base}${path}`);
  return [
    // The fault gate: every call passes it first; `up` falls through to the routes.
    http.all(at('/*'), async () => {
      const fault = state.fault;
      if (fault.kind === 'down' || fault.kind === 'reset') return HttpResponse.error();
      if (fault.kind === 'error') return problem(fault.status, `the hub is failing (HTTP ${fault.status}, injected)`);
      if (fault.kind === 'slow') await delay(fault.ms);
      return undefined;
    }),
    http.post(at('/hub/register'), async ({ request }) => {
      const parsed = RegisterSchema.safeParse(await jsonBody(request));
      if (!parsed.success)
        return problem(400, `register needs {sessionId, pid}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
      const row: HubRow = { ...parsed.data, archived: false };
      state.onRegister?.(row);
      state.rows.set(row.sessionId, row);
      return HttpResponse.json({ ok: true });
    }),
    http.post(at('/hub/sessions/:id/archive'), ({ params }) => {
      const row = state.rows.get(String(params.id));
      if (row === undefined) return problem(404, `no session ${String(params.id)} on the hub`);
      row.archived = true;
      return HttpResponse.json({ ok: true });
    }),
    http.post(at('/cli/machines'), async ({ request }) => {
      const parsed = MachineSchema.safeParse(await jsonBody(request));
      if (!parsed.success) return problem(400, 'POST /cli/machines needs {id}');
      const now = Date.now();
      const machine = state.machines.get(parsed.data.id) ?? { id: parsed.data.id, registeredAt: now };
      state.machines.set(machine.id, machine);
      // tiann/hapi's CreateMachineResponseSchema: every field it requires, nothing it would act on.
      return HttpResponse.json({
        machine: {
          id: machine.id,
          namespace: 'runner-chaos',
          seq: 1,
          createdAt: machine.registeredAt,
          updatedAt: now,
          active: true,
          activeAt: now,
          metadata: null,
          metadataVersion: 1,
          runnerState: null,
          runnerStateVersion: 1,
        },
      });
    }),
    // slopus/happy's daemon registers its machine encrypted with its own key: echoed back, it
    // decrypts to what it sent, which is all it needs to go on.
    http.post(at('/v1/machines'), async ({ request }) => {
      const parsed = MachineSchema.safeParse(await jsonBody(request));
      if (!parsed.success) return problem(400, 'POST /v1/machines needs {id}');
      const body = parsed.data as { id: string; metadata?: unknown; daemonState?: unknown };
      if (!state.machines.has(body.id)) state.machines.set(body.id, { id: body.id, registeredAt: Date.now() });
      return HttpResponse.json({
        machine: {
          id: body.id,
          metadata: body.metadata ?? null,
          metadataVersion: 1,
          daemonState: body.daemonState ?? null,
          daemonStateVersion: 1,
        },
      });
    }),
    http.get(at('/socket.io/*'), () => problem(404, 'the runner-chaos hub has no Socket.IO: REST only')),
    http.get(at('/v1/updates/*'), () => problem(404, 'the runner-chaos hub has no Socket.IO: REST only')),
    http.all(at('/*'), ({ request }) => {
      const path = new URL(request.url).pathname;
      if (state.unknownCalls.length < MAX_UNKNOWN_CALLS) state.unknownCalls.push({ method: request.method, path });
      return problem(404, `the runner-chaos hub has no route ${request.method} ${path}`);
    }),
  ];
}

/** Rows the dashboard shows as active (not archived), whoever may still be behind them. */
export function activeRows(state: HubState): HubRow[] {
  return [...state.rows.values()].filter((row) => !row.archived);
}
