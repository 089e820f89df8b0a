import type { Request, Response } from 'express';
import { groupsOfUser } from '../../access/access-groups.js';
import { isGatewayError } from '../../errors.js';
import type { AuthContext } from '../auth-context.js';
import { escapeHtml, sendPage } from '../pages/html.js';
import type { UserFacts } from '../policy/user-policy.js';
import type { UserIdentity } from '../tokens/grants.js';
import { beginPageLogin, type PageLogin, sendPageMessage } from '../upstream/page-login.js';
import type { ConnectTrip } from '../upstream-oauth/upstream-oauth.js';

/**
 * GET /upstream/connect/NAME: where a user connects a remote server with its own OAuth
 * (servers.NAME.oauth) again, outside any MCP client's authorization. Its link is what a client
 * that supports URL-mode elicitation is given (-32042) when NAME refused the user's grant for good
 * (runtime/bridge/remote-proxy.ts). Who is connecting is never taken from the link: the page
 * logs the user in at the gateway's provider (in this browser), checks the allowlist as any login
 * does, then sends the browser to NAME's consent, and its callback keeps the tokens for that user.
 * So a link someone else sends can only ever connect the opener's own account, to the opener.
 */
export function upstreamConnectPage(ctx: AuthContext) {
  return async function upstreamConnect(req: Request, res: Response): Promise<void> {
    const server = String(req.params['server'] ?? '');
    if (!/^[a-z0-9-]{1,32}$/.test(server) || !ctx.upstreamOAuth.covers(server)) {
      sendPage(res, 404, 'No such server', '<p>This gateway has no remote server of that name that uses its own sign-in.</p>');
      return;
    }
    await beginPageLogin(ctx, req, res, { page: 'connect', server });
  };
}

/** The provider said who opened the connect page of `server`: an allowed user goes on to the server's consent. */
export async function finishConnectLogin(
  ctx: AuthContext,
  req: Request,
  res: Response,
  server: string,
  login: PageLogin,
  identity: UserIdentity,
  facts: UserFacts,
): Promise<void> {
  const allowedBy = ctx.policy.match(facts);
  if (allowedBy === undefined) {
    ctx.audit('login_denied', { via: 'connect', server, login: identity.login, sub: identity.sub, reason: 'not on the allowlist', ip: req.ip });
    sendPage(res, 403, 'Not allowed', `<p>${escapeHtml(identity.login)} is not allowed to use this gateway.</p>`);
    return;
  }
  if (!ctx.upstreamOAuth.covers(server)) {
    sendPage(res, 404, 'No such server', `<p>${escapeHtml(server)} no longer uses its own sign-in at this gateway.</p>`);
    return;
  }
  const groups = groupsOfUser(facts, ctx.accessGroups);
  const user: UserIdentity = { ...identity, allowedBy, ...(groups.length > 0 ? { groups } : {}) };
  const trip: ConnectTrip = { server, user, browserHash: login.browserHash };
  let target: URL;
  try {
    target = await ctx.upstreamOAuth.start(trip);
  } catch (err) {
    if (!isGatewayError(err)) throw err;
    ctx.logger.warn({ event: 'upstream_authorization_unavailable', server, code: err.code, err: err.message });
    sendPageMessage(res, login.purpose, 502, 'Remote sign-in unavailable', `${server}'s own sign-in cannot be reached now: ${err.message}`);
    return;
  }
  ctx.audit('upstream_authorization_started', { via: 'connect', server, login: user.login, sub: user.sub });
  res.set('Cache-Control', 'no-store').redirect(302, target.href);
}

/** The provider refused the login, or could not be reached. */
export function connectLoginFailed(ctx: AuthContext, req: Request, res: Response, server: string, provider: string, reason: string): void {
  ctx.audit('login_denied', { via: 'connect', server, provider, reason, ip: req.ip });
  sendPageMessage(res, { page: 'connect', server }, 400, 'Login failed', 'The login was cancelled, refused, or the identity provider could not be reached.');
}

/** The end of a connect trip: the user's tokens at `server` are kept; the MCP client's next try uses them. */
export function sendConnected(res: Response, server: string, login: string): void {
  sendPage(
    res,
    200,
    'Connected',
    `<p><strong>${escapeHtml(server)}</strong> is connected for ${escapeHtml(login)}.</p>` +
      '<p>You can close this page and go back to your MCP client: its next try of the call uses the new authorization.</p>',
  );
}
