import type { Request, Response } from 'express';
import type { AuthContext } from '../auth-context.js';
import { redirectToClient } from './authorization-response.js';
import type { PendingAuthorization } from '../tokens/grants.js';
import { bindLoginToBrowser } from '../upstream/login-browser.js';
import { OAuthError } from '../oauth-error.js';
import { sendErrorPage } from '../pages/html.js';
import { isValidS256Challenge } from '../tokens/pkce.js';
import { createPendingQuota } from '../policy/pending-quota.js';
import { MAX_AUTHORIZE_PARAM_BYTES, oversizedParam, param } from './request-params.js';
import { isRegisteredRedirect } from '../clients/redirect-match.js';
import { grantedScope } from '../policy/server-scopes.js';

/**
 * GET /authorize (RFC 6749 §4.1.1 with OAuth 2.1's mandatory PKCE). Until client and redirect
 * URI are verified, errors are shown as a page and never redirected (RFC 6749 §4.1.2.1: an
 * unverified redirect would make the gateway an open redirector). After that, errors go back
 * to the client with `iss`.
 */
export function authorizeEndpoint(ctx: AuthContext) {
  const quota = createPendingQuota(ctx.store, { now: () => ctx.now() });
  return async function authorize(req: Request, res: Response): Promise<void> {
    let clientId: string | undefined;
    let requestedRedirect: string | undefined;
    let state: string | undefined;
    // Before anything else: an oversized value (a 15 KB `state`) is never looked up, kept or reflected.
    const oversized = oversizedParam(req.query);
    if (oversized !== undefined)
      return sendErrorPage(
        res,
        400,
        'Invalid authorization request',
        `The ${oversized.slice(0, 40)} parameter is longer than ${MAX_AUTHORIZE_PARAM_BYTES} bytes.`,
      );
    try {
      clientId = param(req.query, 'client_id');
      requestedRedirect = param(req.query, 'redirect_uri');
      state = param(req.query, 'state');
    } catch (err) {
      return sendErrorPage(res, 400, 'Invalid authorization request', (err as OAuthError).description);
    }
    if (clientId === undefined) return sendErrorPage(res, 400, 'Invalid authorization request', 'client_id is required.');
    const found = await ctx.clients.lookup(clientId);
    if (!('client' in found)) {
      const reason =
        found.problem === 'unknown client_id'
          ? 'This application is not registered with this gateway (unknown client_id). It may have been removed; reconnecting from the client registers it again.'
          : `The application's metadata document cannot be used: ${found.problem}`;
      return sendErrorPage(res, 400, 'Unknown application', reason);
    }
    const client = found.client;

    let redirectUri: string;
    if (requestedRedirect === undefined) {
      // RFC 6749 §3.1.2.3: may be omitted only when exactly one redirect URI is registered.
      if (client.redirectUris.length !== 1) return sendErrorPage(res, 400, 'Invalid authorization request', 'redirect_uri is required for this application.');
      redirectUri = client.redirectUris[0]!;
    } else if (isRegisteredRedirect(client.redirectUris, requestedRedirect)) {
      // The URI as requested (a loopback one keeps its port): /token must repeat exactly this one (RFC 6749 §4.1.3).
      redirectUri = requestedRedirect;
    } else {
      return sendErrorPage(
        res,
        400,
        'Redirect not allowed',
        'The redirect_uri does not exactly match any redirect URI registered for this application (only a loopback URI may differ, in its port).',
      );
    }

    const back = state === undefined ? { redirectUri } : { redirectUri, state };
    try {
      const pending = readAuthorizationRequest(ctx, req.query, clientId, back);
      pending.redirectUriGiven = requestedRedirect !== undefined;
      // A page, not a redirect: nothing the client could fix, and a flood must not bounce off
      // the gateway onto the redirect URI. Checked last, so only complete requests take a place.
      const verdict = await quota.admit(req.ip);
      if (!verdict.admitted) {
        ctx.audit('access_denied', { clientId, reason: `pending authorization limit (${verdict.scope})`, ip: req.ip });
        res.set('Retry-After', '600');
        return sendErrorPage(
          res,
          429,
          'Too many sign-ins in progress',
          verdict.scope === 'address'
            ? 'Too many sign-ins were started from your network in the last minutes. Wait ten minutes, then connect again.'
            : 'This gateway has too many sign-ins in progress. Wait ten minutes, then connect again.',
        );
      }
      pending.browserHash = bindLoginToBrowser(ctx, req, res);
      const pendingId = await ctx.grants.savePending(pending);
      const loginUrl = await ctx.upstream.begin(pendingId, { clientName: client.clientName ?? clientId });
      res.set('Cache-Control', 'no-store').redirect(302, loginUrl);
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      ctx.audit('access_denied', { clientId, error: err.error, reason: err.description });
      redirectToClient(ctx, res, back, { error: err.error, error_description: err.description });
    }
  };
}

function readAuthorizationRequest(ctx: AuthContext, query: unknown, clientId: string, back: { redirectUri: string; state?: string }): PendingAuthorization {
  const responseType = param(query, 'response_type');
  if (responseType !== 'code') throw new OAuthError('unsupported_response_type', 'response_type must be code');
  const challenge = param(query, 'code_challenge');
  const method = param(query, 'code_challenge_method');
  if (challenge === undefined) throw new OAuthError('invalid_request', 'code_challenge is required (PKCE with S256)');
  // RFC 7636 §4.3: a missing method means `plain`, which OAuth 2.1 servers may and we do refuse.
  if (method !== 'S256') throw new OAuthError('invalid_request', 'code_challenge_method must be S256');
  if (!isValidS256Challenge(challenge)) throw new OAuthError('invalid_request', 'code_challenge is not a base64url SHA-256 value');

  const resource = resolveResource(ctx, param(query, 'resource'));
  const scope = grantedScope(ctx, resource, param(query, 'scope')?.slice(0, 1000));
  const pending: PendingAuthorization = { clientId, ...back, codeChallenge: challenge, resource };
  if (scope !== undefined) pending.scope = scope;
  return pending;
}

/** RFC 8707: the resource the token will be bound to, canonicalised; required unless the gateway has a single server. */
export function resolveResource(ctx: AuthContext, resource: string | undefined): string {
  if (resource === undefined) {
    const only = ctx.urls.serverNames.length === 1 ? ctx.urls.serverNames[0] : undefined;
    if (only !== undefined) return ctx.urls.resourceFor(only);
    throw new OAuthError('invalid_target', `resource is required; one of: ${ctx.urls.serverNames.map(ctx.urls.resourceFor).join(', ')}`);
  }
  const server = ctx.urls.serverForResource(resource);
  if (server === undefined)
    throw new OAuthError(
      'invalid_target',
      `unknown resource ${resource.slice(0, 200)}; this gateway serves ${ctx.urls.serverNames.map(ctx.urls.resourceFor).join(', ') || 'no servers'}`,
    );
  return ctx.urls.resourceFor(server);
}
