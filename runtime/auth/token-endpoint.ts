import type { Request, Response } from 'express';
import { signAccessToken } from './access-token.js';
import type { AuthContext } from './auth-context.js';
import { resolveResource } from './authorize-endpoint.js';
import { authenticateClient } from './client-authentication.js';
import type { ClientRecord } from './client-registry.js';
import { randomToken } from './crypto-helpers.js';
import type { RefreshGrant, UserIdentity } from './grants.js';
import { OAuthError, sendOAuthError } from './oauth-error.js';
import { verifierMatchesChallenge } from './pkce.js';
import { param, requiredParam } from './request-params.js';

interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token?: string;
  scope?: string;
}

/** POST /token (RFC 6749 §3.2): authorization_code with PKCE, and refresh_token with rotation. */
export function tokenEndpoint(ctx: AuthContext) {
  return async function token(req: Request, res: Response): Promise<void> {
    try {
      if (!req.is('application/x-www-form-urlencoded')) {
        throw new OAuthError('invalid_request', 'the token request must be application/x-www-form-urlencoded');
      }
      const grantType = requiredParam(req.body, 'grant_type');
      if (grantType !== 'authorization_code' && grantType !== 'refresh_token') {
        throw new OAuthError('unsupported_grant_type', `grant_type ${grantType.slice(0, 50)} is not supported`);
      }
      const client = await authenticateClient(ctx, req);
      if (!client.grantTypes.includes(grantType)) throw new OAuthError('unauthorized_client', `this client did not register the ${grantType} grant`);
      const body = grantType === 'authorization_code' ? await redeemCode(ctx, req, client) : await redeemRefreshToken(ctx, req, client);
      res.status(200).set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' }).json(body);
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      ctx.logger.info({ event: 'token_refused', error: err.error, reason: err.description });
      if (err.error === 'invalid_client' && /^basic /i.test(req.headers.authorization ?? '')) res.set('WWW-Authenticate', 'Basic realm="mcp-gateway"');
      sendOAuthError(res, err);
    }
  };
}

async function redeemCode(ctx: AuthContext, req: Request, client: ClientRecord): Promise<TokenResponse> {
  const code = requiredParam(req.body, 'code');
  const verifier = requiredParam(req.body, 'code_verifier');
  const redirectUri = param(req.body, 'redirect_uri');
  const resource = param(req.body, 'resource');
  const grant = await ctx.grants.redeemCode(code);
  if (!grant) throw new OAuthError('invalid_grant', 'the authorization code is invalid, expired or already used');
  if (grant.clientId !== client.clientId) throw new OAuthError('invalid_grant', 'the authorization code was issued to another client');
  // RFC 6749 §4.1.3: required and identical when it was part of the authorization request.
  if (redirectUri !== grant.redirectUri) throw new OAuthError('invalid_grant', 'redirect_uri does not match the authorization request');
  if (!verifierMatchesChallenge(verifier, grant.codeChallenge)) throw new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge');
  if (resource !== undefined && resolveResource(ctx, resource) !== grant.resource) {
    throw new OAuthError('invalid_target', 'resource differs from the one authorized');
  }
  return issueTokens(ctx, client, { clientId: client.clientId, resource: grant.resource, user: grant.user, familyId: randomToken(16), ...scopeOf(grant.scope) });
}

async function redeemRefreshToken(ctx: AuthContext, req: Request, client: ClientRecord): Promise<TokenResponse> {
  const presented = requiredParam(req.body, 'refresh_token');
  const resource = param(req.body, 'resource');
  const grant = await ctx.grants.redeemRefreshToken(presented);
  if (!grant) throw new OAuthError('invalid_grant', 'the refresh token is invalid, expired or already used');
  if (grant.clientId !== client.clientId) throw new OAuthError('invalid_grant', 'the refresh token was issued to another client');
  if (resource !== undefined && resolveResource(ctx, resource) !== grant.resource) {
    throw new OAuthError('invalid_target', 'resource differs from the one authorized');
  }
  // The allowlist may have changed since login: a removed user gets no new tokens.
  if (!ctx.isAllowed(grant.user.login)) throw new OAuthError('invalid_grant', `${grant.user.login} is no longer allowed to use this gateway`);
  return issueTokens(ctx, client, grant);
}

function scopeOf(scope: string | undefined): { scope?: string } {
  return scope === undefined ? {} : { scope };
}

async function issueTokens(ctx: AuthContext, client: ClientRecord, grant: RefreshGrant): Promise<TokenResponse> {
  const user: UserIdentity = grant.user;
  const { token, expiresIn } = await signAccessToken(
    { sub: user.sub, login: user.login, clientId: client.clientId, audience: grant.resource, ...(user.uid === undefined ? {} : { uid: user.uid }), ...scopeOf(grant.scope) },
    { keys: ctx.keys, issuer: ctx.urls.issuer, ttlMs: ctx.accessTokenTtlMs, now: ctx.now() },
  );
  const body: TokenResponse = { access_token: token, token_type: 'Bearer', expires_in: expiresIn, ...scopeOf(grant.scope) };
  if (client.grantTypes.includes('refresh_token')) {
    body.refresh_token = await ctx.grants.issueRefreshToken(grant, ctx.refreshTokenTtlMs);
  }
  ctx.logger.info({ event: 'tokens_issued', login: user.login, clientId: client.clientId, resource: grant.resource });
  return body;
}
