import type { Request, Response } from 'express';
import { isGatewayError } from '../../errors.js';
import { signAccessToken } from '../tokens/access-token.js';
import type { AuthContext } from '../auth-context.js';
import { resolveResource } from './authorize-endpoint.js';
import { authenticateClient } from '../clients/client-authentication.js';
import type { ClientRecord } from '../clients/client-registry.js';
import { OAuthError, sendOAuthError } from '../oauth-error.js';
import { verifierMatchesChallenge } from '../tokens/pkce.js';
import { recheckOnRefresh } from '../policy/allowlist-recheck.js';
import { param, requiredParam } from './request-params.js';
import type { RefreshGrant } from '../tokens/token-families.js';

interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token?: string;
  scope?: string;
}

/** POST /token (RFC 6749 §3.2): authorization_code with PKCE, and refresh_token with rotation and reuse detection. */
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
      await ctx.clients.touch(client);
      res.status(200).set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' }).json(body);
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      const clientId = (req.body as Record<string, unknown> | undefined)?.['client_id'];
      const grantType = (req.body as Record<string, unknown> | undefined)?.['grant_type'];
      ctx.audit('token_refused', {
        error: err.error,
        reason: err.description,
        clientId: typeof clientId === 'string' ? clientId.slice(0, 200) : undefined,
        grantType: typeof grantType === 'string' ? grantType.slice(0, 50) : undefined,
      });
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
  const redemption = await ctx.grants.redeemCode(code);
  if (redemption.status === 'replayed') {
    await ctx.families.revoke(redemption.familyId, 'authorization code replayed');
    ctx.audit('family_revoked', { reason: 'authorization code replayed', clientId: client.clientId, familyId: redemption.familyId });
    throw new OAuthError('invalid_grant', 'the authorization code was already used; the tokens issued for it are revoked');
  }
  if (redemption.status === 'unknown') throw new OAuthError('invalid_grant', 'the authorization code is invalid or expired');
  const { grant, hash } = redemption;
  if (grant.clientId !== client.clientId) throw new OAuthError('invalid_grant', 'the authorization code was issued to another client');
  // RFC 6749 §4.1.3: required and identical when it was part of the authorization request.
  const redirectRequired = grant.redirectUriGiven !== false;
  if ((redirectRequired || redirectUri !== undefined) && redirectUri !== grant.redirectUri) {
    throw new OAuthError('invalid_grant', 'redirect_uri does not match the authorization request');
  }
  if (!verifierMatchesChallenge(verifier, grant.codeChallenge)) throw new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge');
  if (resource !== undefined && resolveResource(ctx, resource) !== grant.resource) {
    throw new OAuthError('invalid_target', 'resource differs from the one authorized');
  }
  const familyId = await ctx.families.start(client.clientId, grant.user, { resource: grant.resource, scope: grant.scope });
  // Marked before tokens exist, so a replay racing this request still finds the family to revoke.
  await ctx.grants.markCodeUsed(hash, familyId);
  const body = await issueTokens(ctx, client, {
    clientId: client.clientId,
    resource: grant.resource,
    user: grant.user,
    familyId,
    ...scopeOf(grant.scope),
    ...(grant.upstream ? { upstream: grant.upstream } : {}),
  });
  ctx.audit('tokens_issued', { login: grant.user.login, sub: grant.user.sub, clientId: client.clientId, resource: grant.resource, familyId });
  return body;
}

async function redeemRefreshToken(ctx: AuthContext, req: Request, client: ClientRecord): Promise<TokenResponse> {
  const presented = requiredParam(req.body, 'refresh_token');
  const resource = param(req.body, 'resource');
  const redemption = await ctx.families.redeemRefreshToken(presented);
  let grant: RefreshGrant;
  let supersededHash: string;
  let graceable = true;
  if (redemption.status === 'unknown') throw new OAuthError('invalid_grant', 'the refresh token is invalid or expired');
  if (redemption.status === 'superseded') {
    if (redemption.clientId !== client.clientId) throw new OAuthError('invalid_grant', 'the refresh token was issued to another client');
    const lostResponse = redemption.graceable && ctx.now() - redemption.usedAt <= ctx.refreshReuseGraceMs;
    if (!lostResponse) {
      await ctx.families.revoke(redemption.familyId, 'refresh token reused');
      ctx.audit('family_revoked', { reason: 'refresh token reused', clientId: client.clientId, familyId: redemption.familyId });
      throw new OAuthError('invalid_grant', 'the refresh token was already used; this grant is revoked, log in again');
    }
    // Within the grace window the client most likely never received our answer: retire the
    // successor it never saw and answer again. If a concurrent retry already claimed it, this
    // request alone fails; racing retries of one client must not log the user out.
    const successor = await ctx.families.unusedSuccessor(redemption.successor);
    if (!successor) throw new OAuthError('invalid_grant', 'a newer refresh token was already issued for this one; use it');
    grant = successor;
    supersededHash = redemption.successor;
    graceable = false;
  } else {
    grant = redemption.grant;
    supersededHash = redemption.hash;
  }
  if (grant.clientId !== client.clientId) {
    await ctx.families.revoke(grant.familyId, 'refresh token presented by another client');
    throw new OAuthError('invalid_grant', 'the refresh token was issued to another client');
  }
  if (await ctx.families.isRevoked(grant.familyId)) throw new OAuthError('invalid_grant', 'this grant was revoked; log in again');
  if (resource !== undefined && resolveResource(ctx, resource) !== grant.resource) {
    throw new OAuthError('invalid_target', 'resource differs from the one authorized');
  }
  // The allowlist may have changed since login: a removed user gets no new tokens.
  try {
    grant = await recheckOnRefresh(ctx, grant);
  } catch (err) {
    if (err instanceof OAuthError && err.error === 'invalid_grant') {
      await ctx.families.revoke(grant.familyId, 'user no longer allowed');
      ctx.audit('family_revoked', { reason: 'user no longer allowed', login: grant.user.login, sub: grant.user.sub, familyId: grant.familyId });
    }
    throw err;
  }
  // A remote server with its own OAuth whose grant is gone: a refreshed token would only meet
  // 401 again. invalid_grant makes the client authorize anew, and that flow includes the upstream trip.
  const server = ctx.urls.serverForResource(grant.resource);
  if (ctx.upstreamOAuth.covers(server) && !(await upstreamGrantHolds(ctx, grant.user.sub, server))) {
    throw new OAuthError('invalid_grant', `${server} no longer accepts your authorization there; authorize again`);
  }
  const body = await issueTokens(ctx, client, grant, { hash: supersededHash, graceable });
  await ctx.families.touch(grant.familyId, grant.user);
  ctx.audit('tokens_refreshed', {
    login: grant.user.login,
    sub: grant.user.sub,
    clientId: client.clientId,
    resource: grant.resource,
    familyId: grant.familyId,
  });
  return body;
}

function scopeOf(scope: string | undefined): { scope?: string } {
  return scope === undefined ? {} : { scope };
}

/**
 * The `scope` member of a token response. RFC 6749 §5.1 makes it OPTIONAL when it is identical to
 * the scope requested and REQUIRED otherwise. The gateway grants fewer scopes than asked (unknown
 * ones are dropped: mcp-remote asks for `openid email profile`), or the server's whole set when
 * none was asked (server-scopes.ts), and a refresh request's `scope` is not honoured: so it is
 * stated on every response, code and refresh alike, whenever something was granted, and the client
 * never has to guess.
 *
 * The one thing it cannot state is the empty set (a server without scopes, asked for
 * `openid email profile`): the scope syntax has at least one scope-token (RFC 6749 §3.3,
 * Appendix A.4: `scope = scope-token *( SP scope-token )`, `scope-token = 1*NQCHAR`), so
 * `"scope": ""` is not a conformant value (a strict client may reject the response). Omitted
 * instead: the access token then carries no `scope` claim, and a server without scopes checks
 * none, so a client that assumes it got what it asked for is refused nothing it expected.
 */
function statedScope(granted: string | undefined): { scope?: string } {
  return granted === undefined || granted === '' ? {} : { scope: granted };
}

async function issueTokens(
  ctx: AuthContext,
  client: ClientRecord,
  grant: RefreshGrant,
  supersedes?: { hash: string; graceable: boolean },
): Promise<TokenResponse> {
  const { user } = grant;
  const { token, expiresIn } = await signAccessToken(
    {
      sub: user.sub,
      login: user.login,
      clientId: client.clientId,
      audience: grant.resource,
      familyId: grant.familyId,
      ...(user.allowedBy === undefined ? {} : { allowedBy: user.allowedBy }),
      ...(user.groups === undefined ? {} : { groups: user.groups }),
      ...(user.uid === undefined ? {} : { uid: user.uid }),
      ...scopeOf(grant.scope),
    },
    { keys: ctx.keys, issuer: ctx.urls.issuer, ttlMs: ctx.accessTokenTtlMs, now: ctx.now() },
  );
  const body: TokenResponse = { access_token: token, token_type: 'Bearer', expires_in: expiresIn, ...statedScope(grant.scope) };
  if (client.grantTypes.includes('refresh_token')) {
    const refresh =
      supersedes === undefined
        ? await ctx.families.issueRefreshToken(grant)
        : await ctx.families.rotateRefreshToken(supersedes.hash, grant, supersedes.graceable);
    // A racing refresh of the same token claimed it first; its answer carries the successor.
    if (refresh === undefined) throw new OAuthError('invalid_grant', 'a newer refresh token was already issued for this one; use it');
    body.refresh_token = refresh.token;
  }
  return body;
}

/**
 * Whether the user still has a grant at `server` (a remote server with its own OAuth); true when
 * the upstream cannot be asked now (not the client's doing). Where no router reports the
 * upstream's refusals (upstreamRefusalsUnreported), the grant is proved by a refresh: the vault
 * replaces the token it holds, or forgets the grant when the upstream refuses that too.
 */
async function upstreamGrantHolds(ctx: AuthContext, user: string, server: string): Promise<boolean> {
  let token: string | undefined;
  try {
    token = await ctx.upstreamOAuth.usableToken(user, server);
  } catch {
    return true;
  }
  if (token === undefined) return false;
  if (!ctx.upstreamRefusalsUnreported) return true;
  return ctx.upstreamOAuth.vault.markRejected(user, server, token).then(
    () => true,
    (err: unknown) => !(isGatewayError(err) && (err.code === 'ERR_UPSTREAM_REAUTH_REQUIRED' || err.code === 'ERR_UPSTREAM_NOT_CONNECTED')),
  );
}
