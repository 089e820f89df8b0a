import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AuthContext } from '../auth-context.js';
import { adminBearerCheck } from './admin-bearer.js';
import { isGatewayError } from '../../errors.js';
import { createAdminStatusSource, type AdminStatusSource } from './admin-status.js';
import { refuseDeepJson } from '../../http/json-depth.js';
import { requestRateLimit } from '../request-rate-limit.js';

/** Failed admin requests per address per window; a valid token is never limited (no lockout of the operator). */
const FAILURES_PER_WINDOW = 30;
const FAILURE_WINDOW_MS = 10 * 60_000;
const BODY_LIMIT = '8kb';
/** Access tokens may outlive this only by configuration; anything later is not a token of ours. */
const MAX_TOKEN_LIFETIME_MS = 24 * 3_600_000;
const CLOCK_SKEW_MS = 5 * 60_000;
const YEAR_MS = 366 * 86_400_000;

const ID = /^[A-Za-z0-9_-]{1,64}$/;

const pruneBody = z.strictObject({
  unusedForMs: z
    .number()
    .int()
    .min(1)
    .max(10 * YEAR_MS)
    .optional(),
  idleForMs: z
    .number()
    .int()
    .min(1)
    .max(10 * YEAR_MS)
    .optional(),
  dryRun: z.boolean().optional(),
});
const grantFilter = {
  user: z.string().min(1).max(320).optional(),
  client: z.string().min(1).max(2000).optional(),
};
const grantQuery = z.strictObject(grantFilter);
const revokeBody = z
  .strictObject({ ...grantFilter, family: z.string().regex(ID).optional() })
  .refine((body) => body.user !== undefined || body.client !== undefined || body.family !== undefined, { message: 'name a user, a client or a family' });
const connectionFilter = {
  user: z.string().min(1).max(320).optional(),
  server: z
    .string()
    .regex(/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/, 'a server name')
    .optional(),
};
const connectionQuery = z.strictObject(connectionFilter);
const connectionRevokeBody = z.strictObject({ ...connectionFilter, user: z.string().min(1).max(320) });
const tokenRevokeBody = z.strictObject({ jti: z.string().regex(ID), expiresAt: z.number().int().min(1) });

class AdminRequestError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    description: string,
  ) {
    super(description);
  }
}

/**
 * `/admin/*`: what `mcp-gateway clients` and `tokens` do to a running gateway's state, so they
 * never write the store behind its back (the embedded store is one file that the gateway
 * rewrites whole; Redis of a Docker deployment is not published on the host). Authorised by
 * `Authorization: Bearer <.secrets/admin-token>`, compared in constant time; every refusal is
 * audited and counted per address. Mounted only when an admin token is configured.
 */
export function adminApi(ctx: AuthContext, adminToken: string, status: AdminStatusSource = createAdminStatusSource(ctx)): express.Router {
  const bearerMatches = adminBearerCheck(adminToken);
  // The same operations the admin page uses (admin-status.ts builds them once per auth app).
  const { service } = status;
  const router = express.Router();

  const authorised = (req: Request): boolean => bearerMatches(req.get('authorization'));
  router.use((req, res, next) => {
    res.set('Cache-Control', 'no-store');
    res.locals['adminAuthorised'] = authorised(req);
    next();
  });
  router.use(
    requestRateLimit(ctx.store.rates, {
      name: 'admin-api-failures',
      windowMs: FAILURE_WINDOW_MS,
      limit: FAILURES_PER_WINDOW,
      skip: (_req, res) => res.locals['adminAuthorised'] === true,
      handler: (req, res) => {
        ctx.audit('admin_denied', { reason: 'rate limit', ip: req.ip, path: req.path.slice(0, 100) });
        res.status(429).json({ error: 'too_many_requests', error_description: 'too many failed admin requests from this address; try again later' });
      },
    }),
  );
  router.use((req, res, next) => {
    if (res.locals['adminAuthorised'] === true) {
      ctx.audit('admin_request', { method: req.method, path: req.path.slice(0, 200) });
      next();
      return;
    }
    ctx.audit('admin_denied', { reason: req.get('authorization') ? 'wrong admin token' : 'no admin token', ip: req.ip, path: req.path.slice(0, 100) });
    res
      .status(401)
      .set('WWW-Authenticate', 'Bearer realm="mcp-gateway admin"')
      .json({ error: 'unauthorized', error_description: 'the admin API needs Authorization: Bearer <the content of .secrets/admin-token>' });
  });
  router.use(express.json({ limit: BODY_LIMIT, strict: true, verify: refuseDeepJson }));
  const requireJson = (req: Request): void => {
    if (!req.is('application/json')) throw new AdminRequestError(400, 'invalid_request', 'the body must be application/json');
  };

  router.get('/ping', (_req, res) => {
    res.json({ ok: true });
  });
  // `mcp-gateway status`: what the admin page shows, as JSON (admin-status.ts).
  router.get('/status', async (_req, res) => {
    res.json({ status: await status.status() });
  });
  router.get('/clients', async (_req, res) => {
    res.json({ clients: await service.listClients() });
  });
  router.post('/clients/prune', async (req, res) => {
    requireJson(req);
    res.json(await service.pruneClients(parse(pruneBody, req.body)));
  });
  router.get('/clients/:clientId', async (req, res) => {
    res.json({ client: await service.showClient(clientIdParam(req)) });
  });
  router.delete('/clients/:clientId', async (req, res) => {
    res.json({ removed: await service.removeClient(clientIdParam(req)) });
  });
  router.get('/grants', async (req, res) => {
    res.json({ grants: await service.listGrants(parse(grantQuery, req.query)) });
  });
  router.post('/grants/revoke', async (req, res) => {
    requireJson(req);
    res.json(await service.revokeGrants(parse(revokeBody, req.body)));
  });
  router.get('/connections', async (req, res) => {
    res.json({ connections: await service.listConnections(parse(connectionQuery, req.query)) });
  });
  router.post('/connections/revoke', async (req, res) => {
    requireJson(req);
    res.json(await service.revokeConnections(parse(connectionRevokeBody, req.body)));
  });
  router.post('/tokens/revoke', async (req, res) => {
    requireJson(req);
    const { jti, expiresAt } = parse(tokenRevokeBody, req.body);
    const latest = ctx.now() + Math.max(ctx.accessTokenTtlMs, MAX_TOKEN_LIFETIME_MS) + CLOCK_SKEW_MS;
    if (expiresAt > latest) throw new AdminRequestError(400, 'invalid_request', 'expiresAt is later than any access token of this gateway can live');
    await service.revokeAccessToken(jti, expiresAt);
    res.json({ revoked: true });
  });

  router.use((req, res) => {
    res.status(404).json({ error: 'not_found', error_description: `no such admin endpoint: ${req.method} ${req.path.slice(0, 100)}` });
  });
  router.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (err instanceof AdminRequestError) {
      res.status(err.status).json({ error: err.error, error_description: err.message });
      return;
    }
    if (isGatewayError(err) && (err.code === 'ERR_CLIENT_UNKNOWN' || err.code === 'ERR_GRANT_UNKNOWN')) {
      res.status(404).json({ error: 'not_found', code: err.code, error_description: err.message });
      return;
    }
    // Body-parser failures (malformed JSON, too large, wrong charset) are the caller's.
    const status = typeof err === 'object' && err !== null && 'status' in err ? Number((err as { status: unknown }).status) : 500;
    if (status >= 400 && status < 500) {
      res
        .status(status)
        .json({ error: 'invalid_request', error_description: status === 413 ? 'the request body is too large' : 'the request body is malformed' });
      return;
    }
    ctx.logger.error({ event: 'admin_error', path: req.path, err }, 'unexpected error in the admin API');
    next(err);
  });
  return router;
}

function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const detail = result.error.issues.map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message)).join('; ');
  throw new AdminRequestError(400, 'invalid_request', detail.slice(0, 500));
}

function clientIdParam(req: Request): string {
  const id = String(req.params['clientId'] ?? '');
  if (id.length === 0 || id.length > 200) throw new AdminRequestError(400, 'invalid_request', 'the client id must be 1-200 characters');
  return id;
}
