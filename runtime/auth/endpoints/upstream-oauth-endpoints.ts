import type { Request, Response } from 'express';
import { isGatewayError } from '../../errors.js';
import type { AuthContext } from '../auth-context.js';
import { sendErrorPage } from '../pages/html.js';
import { startedInThisBrowser } from '../upstream/login-browser.js';
import { sendPageMessage } from '../upstream/page-login.js';
import { isConnectTrip } from '../upstream-oauth/upstream-oauth.js';
import { sendConnected } from './upstream-connect-endpoints.js';
import { issueCode } from '../upstream/finish-login.js';
import { redirectToClient } from './authorization-response.js';

/**
 * GET /upstream/callback: a remote server's authorization server sends the browser back here
 * (servers.NAME.oauth). The state names the paused authorization (single use); it must come back
 * to the browser that started it (the login cookie, as at /callback: login CSRF). The code is
 * exchanged and the user's tokens kept, then the MCP client's authorization finishes with its
 * code, or with the upstream's refusal as an OAuth error.
 */
export function upstreamCallbackEndpoint(ctx: AuthContext) {
  return async function upstreamCallback(req: Request, res: Response): Promise<void> {
    let outcome: Awaited<ReturnType<AuthContext['upstreamOAuth']['finish']>>;
    try {
      // The callback must come back to the browser that started the trip (login CSRF): checked before the code is exchanged.
      outcome = await ctx.upstreamOAuth.finish(req.query as Record<string, unknown>, (trip) =>
        startedInThisBrowser(ctx, req, isConnectTrip(trip) ? trip : trip.pending),
      );
    } catch (err) {
      if (!isGatewayError(err)) throw err;
      if (err.code === 'ERR_UPSTREAM_OAUTH_STATE') return sendErrorPage(res, 400, 'Sign-in expired', `${err.message}. ${err.hint ?? ''}`);
      ctx.logger.warn({ event: 'upstream_callback_failed', code: err.code, err: err.message });
      return sendErrorPage(res, 502, 'Remote sign-in failed', `${err.message}. ${err.hint ?? ''}`);
    }
    const { trip } = outcome;
    if (!outcome.connected && outcome.error === 'other_browser') {
      ctx.audit('access_denied', { reason: 'upstream callback from another browser', server: trip.server, ip: req.ip });
      return sendErrorPage(res, 403, 'Sign-in refused', 'This sign-in was started in another browser. Start again from your MCP client.');
    }
    if (isConnectTrip(trip)) {
      // From the connect page: no MCP client waits for a code, the page says how it went.
      ctx.audit(outcome.connected ? 'upstream_connected' : 'upstream_authorization_refused', {
        via: 'connect',
        server: trip.server,
        login: trip.user.login,
        sub: trip.user.sub,
      });
      if (outcome.connected) return sendConnected(res, trip.server, trip.user.login);
      return sendPageMessage(
        res,
        { page: 'connect', server: trip.server },
        outcome.error === 'access_denied' ? 403 : 502,
        'Not connected',
        outcome.description,
      );
    }
    if (!outcome.connected) {
      ctx.audit('upstream_authorization_refused', {
        login: trip.user.login,
        sub: trip.user.sub,
        clientId: trip.pending.clientId,
        resource: trip.pending.resource,
      });
      return redirectToClient(ctx, res, trip.pending, {
        error: outcome.error === 'access_denied' ? 'access_denied' : 'server_error',
        error_description: outcome.description,
      });
    }
    ctx.audit('upstream_connected', { login: trip.user.login, sub: trip.user.sub, clientId: trip.pending.clientId, resource: trip.pending.resource });
    await issueCode(ctx, res, trip.pending, trip.user, trip.upstream);
  };
}

/** GET /.well-known/oauth-client/NAME.json: the Client ID Metadata Document the gateway is known by at NAME's authorization server. */
export function upstreamClientDocumentEndpoint(ctx: AuthContext) {
  return function upstreamClientDocument(req: Request, res: Response): void {
    const match = /^([a-z0-9-]{1,32})\.json$/.exec(String(req.params['file'] ?? ''));
    const document = match === null ? undefined : ctx.upstreamOAuth.clientMetadataDocument(match[1]!);
    if (document === undefined) {
      res.status(404).json({ error: 'not_found', error_description: 'no remote server with oauth of that name' });
      return;
    }
    res.set('Cache-Control', 'public, max-age=300').json(document);
  };
}
