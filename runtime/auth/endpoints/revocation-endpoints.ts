import type { Request, Response } from 'express';
import type { AuthContext } from '../auth-context.js';
import { authenticateClient } from '../clients/client-authentication.js';
import { OAuthError, sendOAuthError } from '../oauth-error.js';
import { requiredParam } from './request-params.js';
import { inspectToken } from '../tokens/token-inspection.js';

/** RFC 6749 §5.2 (adopted by RFC 7009 §2.2.1 and RFC 7662 §2.3): a failed Basic authentication names the scheme. */
function sendClientError(req: Request, res: Response, err: OAuthError): void {
  if (err.error === 'invalid_client' && /^basic /i.test(req.headers.authorization ?? '')) res.set('WWW-Authenticate', 'Basic realm="mcp-gateway"');
  sendOAuthError(res, err);
}

function requireForm(req: Request): void {
  if (!req.is('application/x-www-form-urlencoded')) throw new OAuthError('invalid_request', 'the request must be application/x-www-form-urlencoded');
}

/**
 * POST /revoke (RFC 7009). The client authenticates as at the token endpoint and may revoke
 * only tokens issued to it. A refresh token revokes its whole grant family (§2.1: "SHOULD also
 * invalidate all access tokens based on the same authorization grant"); an access token is
 * revoked on its own. Unknown tokens answer 200 (§2.2).
 */
export function revocationEndpoint(ctx: AuthContext) {
  return async function revoke(req: Request, res: Response): Promise<void> {
    try {
      requireForm(req);
      const client = await authenticateClient(ctx, req);
      const token = requiredParam(req.body, 'token');
      const found = await inspectToken(ctx, token);
      if (found.kind !== 'unknown') {
        const owner = found.kind === 'access' ? found.token.clientId : found.clientId;
        if (owner !== client.clientId) throw new OAuthError('unauthorized_client', 'this token was not issued to the requesting client');
        if (found.kind === 'refresh') {
          await ctx.families.revoke(found.familyId, 'revoked by the client');
          ctx.audit('token_revoked', { clientId: client.clientId, type: 'refresh_token', familyId: found.familyId });
        } else {
          await ctx.families.revokeAccessToken(found.token.jti, found.token.expiresAt);
          ctx.audit('token_revoked', { clientId: client.clientId, type: 'access_token', login: found.token.login });
        }
      }
      res.status(200).set({ 'Cache-Control': 'no-store' }).end();
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      sendClientError(req, res, err);
    }
  };
}

/**
 * POST /introspect (RFC 7662). Only confidential clients (authenticated by secret) may ask,
 * and only about their own tokens: everything else is `{"active": false}` (§2.2), so the
 * endpoint is no oracle for other clients' tokens.
 */
export function introspectionEndpoint(ctx: AuthContext) {
  return async function introspect(req: Request, res: Response): Promise<void> {
    try {
      requireForm(req);
      const client = await authenticateClient(ctx, req);
      if (client.tokenEndpointAuthMethod === 'none')
        throw new OAuthError('invalid_client', 'introspection requires a confidential client (client_secret_basic or client_secret_post)');
      const token = requiredParam(req.body, 'token');
      const found = await inspectToken(ctx, token);
      res.status(200).set({ 'Cache-Control': 'no-store' });
      if (found.kind === 'access' && found.active && found.token.clientId === client.clientId) {
        const t = found.token;
        res.json({
          active: true,
          token_type: 'Bearer',
          client_id: t.clientId,
          username: t.login,
          sub: t.sub,
          aud: t.audience,
          iss: ctx.urls.issuer,
          exp: Math.floor(t.expiresAt / 1000),
          iat: Math.floor(t.issuedAt / 1000),
          jti: t.jti,
          ...(t.scope === undefined ? {} : { scope: t.scope }),
        });
        return;
      }
      if (found.kind === 'refresh' && found.active && found.clientId === client.clientId && found.grant) {
        const g = found.grant;
        res.json({
          active: true,
          token_type: 'refresh_token',
          client_id: g.clientId,
          username: g.user.login,
          sub: g.user.sub,
          aud: g.resource,
          iss: ctx.urls.issuer,
          ...(g.scope === undefined ? {} : { scope: g.scope }),
        });
        return;
      }
      res.json({ active: false });
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      sendClientError(req, res, err);
    }
  };
}
