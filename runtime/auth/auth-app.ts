import express, { type NextFunction, type Request, type Response } from 'express';
import { clientManagementEndpoint } from './endpoints/client-management-endpoint.js';
import { introspectionEndpoint, revocationEndpoint } from './endpoints/revocation-endpoints.js';
import type { AuthContext } from './auth-context.js';
import { authorizeEndpoint } from './endpoints/authorize-endpoint.js';
import { consentEndpoint } from './endpoints/consent-endpoint.js';
import { githubCallbackEndpoint, localLoginPage, localLoginSubmit, oidcCallbackEndpoint } from './endpoints/login-endpoints.js';
import { metadataEndpoints } from './endpoints/metadata-endpoints.js';
import { OAuthError, sendOAuthError } from './oauth-error.js';
import { sendErrorPage } from './pages/html.js';
import { registerEndpoint } from './endpoints/register-endpoint.js';
import { tokenEndpoint } from './endpoints/token-endpoint.js';
import { createRequestVerifier, type RequestVerifier } from './tokens/verify-request.js';
import { handleVerify, isVerifyPath } from './endpoints/verify-endpoint.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { adminApi } from './admin/admin-api.js';
import { adminBearerCheck } from './admin/admin-bearer.js';
import { adminPage, isAdminPageRequest } from './admin/admin-page.js';
import { createAdminStatusSource } from './admin/admin-status.js';
import { METRICS_PATH, metricsHandler } from '../metrics/metrics-endpoint.js';
import { MAX_JSON_DEPTH, refuseDeepJson } from '../http/json-depth.js';
import { isStoreOutage, STORE_OUTAGE_BODY, STORE_RETRY_AFTER_S } from '../http/store-outage.js';
import { corsResponseHeaders, OAUTH_CORS, VERIFY_PATH } from '../http/edge-contract.js';
import { requestRateLimit } from './request-rate-limit.js';
import { clientAddressBy, ignoredForwardingHint, proxyTrust } from '../http/client-address.js';
import { upstreamCallbackEndpoint, upstreamClientDocumentEndpoint } from './endpoints/upstream-oauth-endpoints.js';
import { UPSTREAM_CALLBACK_PATH, UPSTREAM_CONNECT_PATH } from './upstream-oauth/upstream-oauth.js';
import { upstreamConnectPage } from './endpoints/upstream-connect-endpoints.js';

/** OAuth bodies are a few hundred bytes; anything near this limit is hostile. */
const BODY_LIMIT = '32kb';

/**
 * Public, credential-less CORS for discovery and the token/registration endpoints (browser-based
 * MCP clients): the edge contract's policy, the one Traefik's cors-oauth middleware is rendered from.
 */
const OAUTH_CORS_HEADERS = corsResponseHeaders(OAUTH_CORS);

function publicCors(req: Request, res: Response, next: NextFunction): void {
  res.set(OAUTH_CORS_HEADERS);
  if (req.method === 'OPTIONS') {
    res.status(204).end();
    return;
  }
  next();
}

/*
 * The limits below count in the store (request-rate-limit.ts): on Redis one count per address
 * for all auth replicas together.
 */

/** Claude re-registers on every fresh connection, so the limit is per address and generous; a flood is 429. */
function registrationLimit(ctx: AuthContext) {
  return requestRateLimit(ctx.store.rates, {
    name: 'register',
    windowMs: 10 * 60_000,
    limit: ctx.config.clients.registrationsPer10Min,
    handler: (req, res) => {
      ctx.audit('access_denied', { reason: 'registration rate limit', ip: req.ip });
      sendOAuthError(res, new OAuthError('invalid_request', 'too many registrations from this address; try again later', 429));
    },
  });
}

/** Code guessing and refresh storms: 300 token requests per minute per address is far above any real client. */
function tokenLimit(ctx: AuthContext) {
  return requestRateLimit(ctx.store.rates, {
    name: 'token',
    windowMs: 60_000,
    limit: 300,
    handler: (_req, res) => sendOAuthError(res, new OAuthError('invalid_request', 'too many token requests from this address; try again later', 429)),
  });
}

/**
 * /authorize needs no credential and each one may start an upstream login (a CIMD fetch, a
 * pending authorization in the store): 120 a minute per address is dozens of times what a
 * person connecting clients needs. The store-side bound is pending-quota.ts; this one keeps a
 * flood from reaching it at all. A page, not JSON: a browser is at the other end.
 */
function authorizeLimit(ctx: AuthContext) {
  return requestRateLimit(ctx.store.rates, {
    name: 'authorize',
    windowMs: 60_000,
    limit: 120,
    handler: (_req, res) =>
      sendErrorPage(res, 429, 'Too many requests', 'Too many sign-ins were started from your network. Wait a minute, then connect again.'),
  });
}

/**
 * The auth runtime's HTTP handler: /verify on the hot path without express, everything else
 * through the express app.
 */
export function createAuthHandler(ctx: AuthContext, options: AuthAppOptions = {}): (req: IncomingMessage, res: ServerResponse) => void {
  const verify = options.verify ?? createRequestVerifier(ctx);
  const app = createAuthApp(ctx, { ...options, verify });
  return (req, res) => {
    if (isVerifyPath(req.url)) handleVerify(verify, req, res);
    else app(req, res);
  };
}

/**
 * The authorization server as one express app: discovery, registration, authorize, upstream
 * login, consent, token, JWKS, the ForwardAuth `/verify` endpoint Traefik calls, and the
 * operators' admin API (`/admin/*`, runtime/admin/) when an admin token is configured.
 */
export interface AuthAppOptions {
  /** The verifier (and its verified-token cache) to share with the router; one is made when absent. */
  verify?: RequestVerifier;
  /** `trustedProxies` of the config: proxies whose X-Forwarded-For says who the client is (runtime/http/client-address.ts). */
  trustedProxies?: readonly string[] | undefined;
  /** Hops in front that are always believed: 1 in containers, where only the router or Traefik reaches auth. */
  trustedHops?: number;
}

export function createAuthApp(ctx: AuthContext, options: AuthAppOptions = {}): express.Express {
  const app = express();
  app.disable('x-powered-by');
  const trust = proxyTrust(options.trustedProxies ?? [], { trustedHops: options.trustedHops ?? 0 });
  const hint = ignoredForwardingHint(trust, ctx.logger);
  app.use((req, _res, next) => {
    hint(req);
    next();
  });
  if (trust !== undefined) {
    // express's own setting too, so express-rate-limit's checks agree; req.ip is ours, which never takes a forwarded non-address.
    app.set('trust proxy', trust);
    const address = clientAddressBy(trust);
    app.use((req, _res, next) => {
      let ip: string | undefined;
      Object.defineProperty(req, 'ip', { configurable: true, enumerable: true, get: () => (ip ??= address(req)) });
      next();
    });
  }
  app.set('etag', false);
  const form = express.urlencoded({ extended: false, limit: BODY_LIMIT, parameterLimit: 50 });
  const json = express.json({ limit: BODY_LIMIT, strict: true, verify: refuseDeepJson });
  const meta = metadataEndpoints(ctx);

  app.use(['/.well-known', '/register', '/token', '/revoke', '/introspect', '/jwks.json'], publicCors);
  app.get(['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration'], meta.authorizationServer);
  app.get('/.well-known/oauth-protected-resource', meta.protectedResourceRoot);
  app.get(/^\/\.well-known\/oauth-protected-resource\/.+/, meta.protectedResourceForPath);
  app.get('/jwks.json', meta.jwks);
  const manage = clientManagementEndpoint(ctx);
  app.post('/register', registrationLimit(ctx), json, registerEndpoint(ctx));
  app.get('/register/:clientId', manage.read);
  app.put('/register/:clientId', json, manage.update);
  app.delete('/register/:clientId', manage.remove);
  app.post('/revoke', form, revocationEndpoint(ctx));
  app.post('/introspect', form, introspectionEndpoint(ctx));
  app.get('/authorize', authorizeLimit(ctx), authorizeEndpoint(ctx));
  app.post('/consent', form, consentEndpoint(ctx));
  app.get(UPSTREAM_CALLBACK_PATH, authorizeLimit(ctx), upstreamCallbackEndpoint(ctx));
  app.get(`${UPSTREAM_CONNECT_PATH}/:server`, authorizeLimit(ctx), upstreamConnectPage(ctx));
  app.get('/.well-known/oauth-client/:file', upstreamClientDocumentEndpoint(ctx));
  app.post('/token', tokenLimit(ctx), form, tokenEndpoint(ctx));

  const upstream = ctx.upstream;
  if (upstream.kind === 'github') {
    app.get('/callback', githubCallbackEndpoint(ctx, upstream));
  } else if (upstream.kind === 'oidc') {
    app.get('/callback', oidcCallbackEndpoint(ctx, upstream));
  } else {
    app.get('/login/local', localLoginPage(ctx, upstream));
    app.post('/login/local', form, localLoginSubmit(ctx, upstream));
  }

  const verify = options.verify ?? createRequestVerifier(ctx);
  // ForwardAuth (Traefik): every method of the original request arrives here as the same method.
  // createAuthHandler answers /verify before express; this route serves apps used without it.
  app.all(VERIFY_PATH, (req, res) => handleVerify(verify, req, res));
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // Prometheus metrics for the admin token (a scraper without it uses metrics.listen).
  if (ctx.metrics !== undefined && ctx.adminToken !== undefined)
    app.all(METRICS_PATH, metricsHandler(ctx.metrics, ctx.logger, adminBearerCheck(ctx.adminToken)));
  // The admin page (admins: in the config) and GET /admin/status share one reading of the state and metrics.
  const adminStatus = createAdminStatusSource(ctx);
  const page = adminPage(ctx, adminStatus);
  app.use('/admin', (req, res, next) => (isAdminPageRequest(req) ? page(req, res, next) : next()));
  // No admin token configured, no admin API: /admin/* is then a 404 like any unknown path.
  if (ctx.adminToken !== undefined) app.use('/admin', adminApi(ctx, ctx.adminToken, adminStatus));

  app.use((req, res) => {
    res.status(404).json({ error: 'not_found', error_description: `no such endpoint: ${req.method} ${req.path.slice(0, 100)}` });
  });
  // Body-parser failures are the client's mistake (RFC 6749 §5.2 invalid_request), anything else ours.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = typeof err === 'object' && err !== null && 'status' in err ? Number((err as { status: unknown }).status) : 500;
    if (status >= 400 && status < 500) {
      const tooDeep = (err as { type?: unknown }).type === 'entity.too.deep';
      const description =
        status === 413
          ? 'the request body is too large'
          : status === 415
            ? 'unsupported content type or charset'
            : tooDeep
              ? `the JSON body is nested deeper than ${MAX_JSON_DEPTH} levels`
              : 'the request body is malformed';
      sendOAuthError(res, new OAuthError('invalid_request', description, status));
      return;
    }
    if (isStoreOutage(err)) {
      ctx.logger.warn({ event: 'store_unavailable', path: req.path, err: (err as Error).message }, 'store unreachable; answering 503');
      res.set('Retry-After', STORE_RETRY_AFTER_S);
      // A person at /authorize or /callback sees a page; clients of the JSON endpoints get RFC 6749 JSON.
      if (req.method === 'GET' && req.accepts(['json', 'html']) === 'html') {
        sendErrorPage(res, 503, 'Temporarily unavailable', 'The gateway cannot reach its store right now. Try again in a few seconds.');
        return;
      }
      if (!res.headersSent) res.status(503).set('Cache-Control', 'no-store').json(STORE_OUTAGE_BODY);
      return;
    }
    ctx.logger.error({ event: 'auth_error', path: req.path, err }, 'unexpected error in the auth runtime');
    if (!res.headersSent)
      res.status(500).set('Cache-Control', 'no-store').json({ error: 'server_error', error_description: 'internal error; see the gateway log' });
  });
  return app;
}
