// The runner's HAPI-compatible control server, on loopback only. Shapes follow tiann/hapi's
// runner (cli/src/runner/controlServer.ts): POST /spawn-session, /session-started, /list,
// /stop-session, /stop. Unlike upstream, every request needs the runner's token (a bearer token,
// written with the port to the runner's state file and handed to children in their environment),
// bodies are size-limited and schema-checked, and a bad request changes nothing.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { SessionWebhookSchema, type Runner } from '../contract.ts';

export const BODY_LIMIT_BYTES = 64 * 1024;

/** hapi's body: `sessionId` names the session to resume. */
const SpawnBodySchema = z.strictObject({
  directory: z.string().min(1).max(4_096),
  sessionId: z.string().min(1).max(200).optional(),
  sessionType: z.enum(['simple', 'worktree']).optional(),
  worktreeName: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/)
    .optional(),
  machineId: z.string().max(200).optional(),
  approvedNewDirectoryCreation: z.boolean().optional(),
  agent: z.string().max(100).optional(),
});
const StopBodySchema = z.strictObject({ sessionId: z.string().min(1).max(200) });
const EmptyBodySchema = z.union([z.strictObject({}), z.undefined(), z.null()]);

export interface ControlServerOptions {
  readonly runner: Runner;
  readonly token: string;
  /** Called after /stop answered: the daemon shuts down and exits. */
  readonly onStop?: () => void;
}

function problem(reply: FastifyReply, status: number, error: string): FastifyReply {
  return reply.code(status).send({ error });
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : 'body'}: ${i.message}`).join('; ');
}

function tokenMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function startControlServer(
  options: ControlServerOptions,
): Promise<{ server: FastifyInstance; port: number; url: string }> {
  const server = Fastify({ bodyLimit: BODY_LIMIT_BYTES, logger: false });

  server.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization;
    const given = header?.startsWith('Bearer ') === true ? header.slice('Bearer '.length) : undefined;
    if (!tokenMatches(given, options.token))
      return problem(reply, 401, 'missing or wrong bearer token (see the runner state file)');
    if (
      request.method === 'POST' &&
      request.headers['content-length'] !== '0' &&
      request.headers['content-type'] !== undefined &&
      !request.headers['content-type'].startsWith('application/json')
    ) {
      return problem(reply, 415, `content-type must be application/json, got ${request.headers['content-type']}`);
    }
    return undefined;
  });

  // Fastify's own errors (malformed JSON, body too large) get the same one-line shape.
  server.setErrorHandler((error: { statusCode?: number; message: string }, _request, reply) => {
    const status =
      error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    return problem(reply, status, status === 413 ? `body over ${BODY_LIMIT_BYTES} bytes` : error.message);
  });
  server.setNotFoundHandler((request, reply) => problem(reply, 404, `no route ${request.method} ${request.url}`));

  server.post('/spawn-session', async (request, reply) => {
    const parsed = SpawnBodySchema.safeParse(request.body);
    if (!parsed.success) return problem(reply, 400, describeIssues(parsed.error));
    const body = parsed.data;
    const result = await options.runner.spawnSession({
      directory: body.directory,
      sessionType: body.sessionType ?? 'simple',
      ...(body.sessionId !== undefined ? { resumeSessionId: body.sessionId } : {}),
      ...(body.worktreeName !== undefined ? { worktreeName: body.worktreeName } : {}),
    });
    if (result.type === 'success') return { type: 'success', sessionId: result.sessionId, pid: result.pid };
    return {
      type: 'error',
      errorMessage: result.message,
      reason: result.reason,
      ...(result.pid !== undefined ? { pid: result.pid } : {}),
    };
  });

  server.post('/session-started', async (request, reply) => {
    const parsed = SessionWebhookSchema.safeParse(request.body);
    if (!parsed.success) return problem(reply, 400, describeIssues(parsed.error));
    await options.runner.sessionStarted(parsed.data);
    return { status: 'ok' }; // as upstream: ok even when the runner ignores it
  });

  server.post('/list', async (request, reply) => {
    if (!EmptyBodySchema.safeParse(request.body).success) return problem(reply, 400, 'body: /list takes no parameters');
    const sessions = await options.runner.listSessions();
    return { children: sessions.map((s) => ({ startedBy: s.startedBy, happySessionId: s.sessionId, pid: s.pid })) };
  });

  server.post('/stop-session', async (request, reply) => {
    const parsed = StopBodySchema.safeParse(request.body);
    if (!parsed.success) return problem(reply, 400, describeIssues(parsed.error));
    return options.runner.stopSession(parsed.data.sessionId);
  });

  server.post('/stop', async (request, reply) => {
    if (!EmptyBodySchema.safeParse(request.body).success) return problem(reply, 400, 'body: /stop takes no parameters');
    setImmediate(() => options.onStop?.());
    return { status: 'stopping' };
  });

  await server.listen({ host: '127.0.0.1', port: 0 });
  const port = (server.server.address() as AddressInfo).port;
  return { server, port, url: `http://127.0.0.1:${port}` };
}
