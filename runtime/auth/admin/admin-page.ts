import express, { type NextFunction, type Request, type Response } from 'express';
import { isGatewayError } from '../../errors.js';
import { isStoreOutage, STORE_RETRY_AFTER_S } from '../../http/store-outage.js';
import type { AuthContext } from '../auth-context.js';
import { ADMIN_PAGE_HEADERS, dashboardBody, loginPageBody, sendAdminHtml, sendAdminMessage } from '../pages/admin-page-html.js';
import { beginAdminLogin } from './admin-login.js';
import { closeAdminSession, csrfMatches, currentAdminSession, isAdminUser, type AdminSessionRecord } from './admin-page-session.js';
import type { AdminStatusSource } from './admin-status.js';
import type { RecentAuditFilter } from '../../logging/recent-audit.js';
import { requestRateLimit } from '../request-rate-limit.js';

/** The page's paths under /admin; every other path there is the JSON admin API's (admin-api.ts). */
const PAGE_PATHS: Readonly<Record<string, 'GET' | 'POST'>> = {
  '/': 'GET',
  '/login': 'GET',
  '/logout': 'POST',
  '/actions/end-session': 'POST',
  '/actions/remove-client': 'POST',
  '/actions/revoke-grants': 'POST',
};

/** Forms of the page carry a CSRF token and one or two ids: a few hundred bytes. */
const FORM_LIMIT = '4kb';
const ID_LIMIT = 200;
const FAMILY_ID = /^[A-Za-z0-9_-]{1,64}$/;
const SHOWN_EVENTS = 100;

/** After a POST the browser is sent back with one of these (never text from the request). */
const NOTICES: Readonly<Record<string, string>> = {
  'session-ended': 'The session was ended. The client gets 404 on its next request and starts a new session.',
  'client-removed': 'The client was removed and its grants revoked.',
  'grants-revoked': 'The grants were revoked: their refresh tokens no longer work, their access tokens are refused.',
};

/**
 * A request for the page rather than the JSON admin API: one of its paths, without a bearer
 * token (the CLI always sends the admin token; a browser never does).
 */
export function isAdminPageRequest(req: Request): boolean {
  const authorization = req.get('authorization');
  return (authorization === undefined || !/^bearer /i.test(authorization)) && Object.hasOwn(PAGE_PATHS, req.path);
}

class PageError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * `<publicUrl>/admin/`: the server-rendered admin page for the users in `admins:`. No scripts; every
 * state change is a POST form carrying the admin session's CSRF token, from this origin; the
 * session cookie is HttpOnly and SameSite=Strict (admin-page-session.ts). Without `admins:` every
 * page path is a 404, and the page checks that on each request, as a reload may change the list.
 */
export function adminPage(ctx: AuthContext, source: AdminStatusSource): express.Router {
  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: FORM_LIMIT, parameterLimit: 10 });

  router.use((req, res, next) => {
    res.set(ADMIN_PAGE_HEADERS);
    if (ctx.config.admins.length === 0) return sendAdminMessage(res, 404, 'Not found', 'This gateway has no admin page: no admins are configured.');
    const allowed = PAGE_PATHS[req.path]!;
    if (req.method !== allowed && !(allowed === 'GET' && req.method === 'HEAD')) {
      res.set('Allow', allowed === 'GET' ? 'GET, HEAD' : 'POST');
      return sendAdminMessage(res, 405, 'Method not allowed', `${req.path} answers ${allowed} only.`);
    }
    next();
  });

  router.get('/', async (req, res) => {
    const session = await currentAdminSession(ctx, req);
    if (session === undefined)
      return sendAdminHtml(
        res,
        200,
        'mcp-gateway admin',
        `<main class="center"><section><h1>mcp-gateway admin</h1>${loginPageBody(providerName(ctx))}</section></main>`,
      );
    if (!isAdminUser(ctx, session.facts)) return notAdmin(req, res, session);
    const filter = auditFilter(req.query);
    const view = await source.view();
    const done = typeof req.query['done'] === 'string' ? NOTICES[req.query['done']] : undefined;
    sendAdminHtml(
      res,
      200,
      'mcp-gateway admin',
      dashboardBody({
        admin: session.login,
        csrf: session.csrf,
        view,
        audit: ctx.recentAudit.list(filter, SHOWN_EVENTS),
        auditFilter: filter,
        auditEvents: ctx.recentAudit.events(),
        serverNames: ctx.urls.serverNames,
        notice: done,
      }),
    );
  });

  router.get(
    '/login',
    requestRateLimit(ctx.store.rates, {
      name: 'admin-login',
      windowMs: 60_000,
      limit: 30,
      handler: (_req, res) => sendAdminMessage(res, 429, 'Too many logins', 'Too many admin logins were started from your network. Wait a minute.'),
    }),
    (req, res) => beginAdminLogin(ctx, req, res),
  );

  router.post(
    '/logout',
    form,
    guarded(async (req, res) => {
      await closeAdminSession(ctx, req, res);
      res.redirect(303, '/admin/');
    }),
  );

  router.post(
    '/actions/end-session',
    form,
    guarded(async (req, res, session) => {
      const server = field(req, 'server');
      const id = field(req, 'session');
      const live = ctx.servers?.();
      if (live === undefined) throw new PageError(404, 'No sessions here', 'This auth runtime runs no servers: sessions live in the bridge containers.');
      const bridge = ctx.urls.serverNames.includes(server) ? live.get(server) : undefined;
      if (bridge === undefined) throw new PageError(404, 'No such server', 'That server is not configured.');
      if (!(await bridge.endSession(id)))
        throw new PageError(404, 'No such session', 'That session is not live any more (it ended, or another admin ended it).');
      ctx.audit('admin_request', { via: 'page', action: 'end_session', admin: session.login, server, session: id.slice(0, 12) });
      res.redirect(303, '/admin/?done=session-ended');
    }),
  );

  router.post(
    '/actions/remove-client',
    form,
    guarded(async (req, res, session) => {
      const clientId = field(req, 'client');
      ctx.audit('admin_request', { via: 'page', action: 'remove_client', admin: session.login, clientId });
      await source.service.removeClient(clientId);
      res.redirect(303, '/admin/?done=client-removed');
    }),
  );

  router.post(
    '/actions/revoke-grants',
    form,
    guarded(async (req, res, session) => {
      const family = optionalField(req, 'family');
      const user = optionalField(req, 'user');
      if ((family === undefined) === (user === undefined)) throw new PageError(400, 'Bad request', 'Name one grant or one user.');
      if (family !== undefined && !FAMILY_ID.test(family)) throw new PageError(404, 'No such grant', 'That grant does not exist.');
      ctx.audit('admin_request', { via: 'page', action: 'revoke_grants', admin: session.login, ...(family === undefined ? { user } : { familyId: family }) });
      const report = await source.service.revokeGrants(family === undefined ? { user } : { family });
      if (report.revoked.length === 0 && report.alreadyRevoked === 0)
        throw new PageError(404, 'No such grant', 'Nothing matched: no grant of that id or user.');
      res.redirect(303, '/admin/?done=grants-revoked');
    }),
  );

  router.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (err instanceof PageError) return sendAdminMessage(res, err.status, err.title, err.message, BACK);
    if (isGatewayError(err) && (err.code === 'ERR_CLIENT_UNKNOWN' || err.code === 'ERR_GRANT_UNKNOWN'))
      return sendAdminMessage(
        res,
        404,
        'Not found',
        err.code === 'ERR_CLIENT_UNKNOWN' ? 'No such client (it may have been removed already).' : 'No such grant.',
        BACK,
      );
    const status = typeof err === 'object' && err !== null && 'status' in err ? Number((err as { status: unknown }).status) : 500;
    if (status >= 400 && status < 500)
      return sendAdminMessage(res, status, 'Bad request', status === 413 ? 'The form is too large.' : 'The form could not be read.', BACK);
    if (isStoreOutage(err)) {
      res.set('Retry-After', STORE_RETRY_AFTER_S);
      return sendAdminMessage(res, 503, 'Temporarily unavailable', 'The gateway cannot reach its store right now. Try again in a few seconds.');
    }
    ctx.logger.error({ event: 'admin_page_error', path: req.path, err }, 'unexpected error on the admin page');
    if (res.headersSent) return next(err);
    sendAdminMessage(res, 500, 'Internal error', 'Something went wrong; see the gateway log.');
  });

  /**
   * Every POST: a form, from this origin (Origin and Sec-Fetch-Site when the browser sends them:
   * a second line behind SameSite=Strict), by a live admin session whose CSRF token it carries,
   * the first line.
   */
  function guarded(action: (req: Request, res: Response, session: AdminSessionRecord) => Promise<void>) {
    return async (req: Request, res: Response): Promise<void> => {
      if (!req.is('application/x-www-form-urlencoded'))
        throw new PageError(415, 'Bad request', 'The page posts forms (application/x-www-form-urlencoded) only.');
      const origin = req.get('origin');
      const site = req.get('sec-fetch-site');
      // `Origin: null` is what a browser sends under Referrer-Policy: no-referrer; Sec-Fetch-Site still tells.
      const foreign = origin !== undefined && origin !== 'null' && origin !== ctx.config.publicUrl.origin;
      if (foreign || (site !== undefined && site !== 'same-origin')) {
        ctx.audit('admin_denied', { via: 'page', reason: 'form from another site', origin: origin?.slice(0, 200), ip: req.ip, path: req.path });
        throw new PageError(403, 'Forbidden', 'This form did not come from the admin page.');
      }
      const session = await currentAdminSession(ctx, req);
      if (session === undefined) {
        ctx.audit('admin_denied', { via: 'page', reason: 'no admin session', ip: req.ip, path: req.path });
        throw new PageError(401, 'Logged out', 'Your admin session has ended. Log in again.');
      }
      if (!isAdminUser(ctx, session.facts)) return notAdmin(req, res, session);
      if (!csrfMatches(session, (req.body as Record<string, unknown> | undefined)?.['csrf'])) {
        ctx.audit('admin_denied', { via: 'page', reason: 'wrong or missing CSRF token', admin: session.login, ip: req.ip, path: req.path });
        throw new PageError(403, 'Forbidden', 'The form was stale or forged (CSRF token). Reload the admin page and try again.');
      }
      await action(req, res, session);
    };
  }

  function notAdmin(req: Request, res: Response, session: AdminSessionRecord): void {
    ctx.audit('admin_denied', { via: 'page', reason: 'not an admin', login: session.login, sub: session.sub, ip: req.ip });
    sendAdminMessage(res, 403, 'Not an admin', `${session.login} is not an admin of this gateway (admins: in its config).`);
  }

  return router;
}

const BACK = '<p><a href="/admin/">Back to the admin page</a></p>';

function optionalField(req: Request, name: string): string | undefined {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  if (value === undefined || value === '') return undefined;
  // A repeated field arrives as an array: malformed, never "the first one".
  if (typeof value !== 'string' || value.length > ID_LIMIT) throw new PageError(400, 'Bad request', `The form's ${name} is malformed.`);
  return value;
}

function field(req: Request, name: string): string {
  const value = optionalField(req, name);
  if (value === undefined) throw new PageError(400, 'Bad request', `The form has no ${name}.`);
  return value;
}

function auditFilter(query: Request['query']): RecentAuditFilter {
  const pick = (name: string): string | undefined => {
    const value = query[name];
    return typeof value === 'string' && value !== '' ? value.slice(0, 100) : undefined;
  };
  return { event: pick('event'), user: pick('user'), server: pick('server') };
}

function providerName(ctx: AuthContext): string {
  switch (ctx.upstream.kind) {
    case 'github':
      return 'GitHub';
    case 'oidc':
      return 'your identity provider';
    case 'local':
      return 'a one-time code';
  }
}
