import { TokenRejectedError, verifyAccessToken, type VerifiedAccessToken } from './access-token.js';
import type { AuthContext } from '../auth-context.js';
import { scopesForResource } from '../policy/server-scopes.js';
import { USER_HEADERS } from '../user-headers.js';
import { isGatewayError } from '../../errors.js';
import { upstreamConnectUrl } from '../upstream-oauth/upstream-oauth.js';

/** What ForwardAuth tells us about the original request (Traefik's X-Forwarded-* headers). */
export interface ForwardedRequest {
  method: string;
  /** Path and query of the original request (X-Forwarded-Uri). */
  uri: string;
  /** Host of the original request (X-Forwarded-Host): names the server in the subdomain style. */
  host?: string | undefined;
  authorization: string | undefined;
  /** Address of the client (X-Forwarded-For); for logs, never a decision. */
  clientIp?: string | undefined;
  /** The upstream token a remote server with `oauth` just refused (UPSTREAM_REJECTED_HEADER, from the built-in router). */
  upstreamRejected?: string | undefined;
  /** Whether it carries an `Mcp-Session-Id`: a request of a 2025 session, not one that starts it. */
  inSession?: boolean | undefined;
}

export interface VerifyResult {
  /** 503: the router could not ask the auth runtime (HTTP ForwardAuth), never a decision of the verifier. */
  status: 200 | 400 | 401 | 403 | 404 | 503;
  headers: Record<string, string>;
  body?: { error: string; error_description: string };
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * The one decision behind /verify and the built-in router: is this request allowed to reach the
 * MCP server it addresses? The expected audience comes from our config (the server the path
 * names), never from the token, so a token for server A is refused by server B (RFC 8707).
 */
/** Verified tokens kept at most this long: revocation and the allowlist are still checked on every request. */
const CACHE_MS = 60_000;
const CACHE_ENTRIES = 10_000;

export function createRequestVerifier(ctx: AuthContext) {
  const cache = createVerificationCache(ctx);
  const requiredScopes = new Map(ctx.urls.serverNames.map((name) => [name, scopesForResource(ctx, ctx.urls.resourceFor(name))]));
  return async function verifyRequest(req: ForwardedRequest): Promise<VerifyResult> {
    const server = ctx.urls.serverForRequest(req.host, req.uri);
    if (server === undefined) {
      return { status: 404, headers: {}, body: { error: 'not_found', error_description: 'no MCP server at this path' } };
    }
    const resource = ctx.urls.resourceFor(server);
    const required = requiredScopes.get(server) ?? [];
    const challengeFor = (error: ChallengeError | undefined, description: string): VerifyResult =>
      challenge(ctx.urls.protectedResourceMetadataFor(server), required, error, description);
    // RFC 6750 §3.1: a request without credentials gets a challenge with no error code.
    if (req.authorization === undefined || req.authorization === '') return challengeFor(undefined, 'a bearer token is required');
    const match = BEARER.exec(req.authorization);
    if (!match) return challengeFor('invalid_request', 'the Authorization header must be "Bearer <token>"');
    let token: VerifiedAccessToken;
    try {
      token = await cache.verify(match[1]!, resource);
    } catch (err) {
      if (!(err instanceof TokenRejectedError)) throw err;
      ctx.logger.info({ event: 'token_rejected', server, reason: err.reason });
      return challengeFor('invalid_token', err.message);
    }
    // Removing a user from the allowlist takes effect on their next request, not when the token expires.
    if (!ctx.stillAllowed(token)) return challengeFor('invalid_token', `${token.login} is no longer allowed to use this gateway`);
    if (await ctx.families.isAccessTokenRevoked(token.jti, token.familyId)) return challengeFor('invalid_token', 'the token was revoked');
    if (required.length > 0) {
      const granted = new Set((token.scope ?? '').split(' '));
      if (!required.every((s) => granted.has(s))) return challengeFor('insufficient_scope', `this server needs the scopes: ${required.join(' ')}`);
    }
    const headers: Record<string, string> = {
      [USER_HEADERS.sub]: token.sub,
      [USER_HEADERS.login]: token.login,
      [USER_HEADERS.clientId]: token.clientId,
    };
    if (token.uid !== undefined) headers[USER_HEADERS.id] = String(token.uid);
    if (token.scope !== undefined) headers[USER_HEADERS.scope] = token.scope;
    if (token.groups !== undefined && token.groups.length > 0) headers[USER_HEADERS.groups] = token.groups.join(',');
    if (ctx.upstreamOAuth.covers(server)) {
      // A remote server with its own OAuth: this user's token there, for its proxy alone (edge-contract.ts).
      let upstream: string | undefined;
      try {
        if (req.upstreamRejected !== undefined) {
          // The vault refreshes once, or forgets the grant; a value that is not its token now changes nothing.
          await ctx.upstreamOAuth.vault.markRejected(token.sub, server, req.upstreamRejected.replace(/^Bearer +/i, '')).catch(() => undefined);
        }
        upstream = await ctx.upstreamOAuth.usableToken(token.sub, server);
      } catch (err) {
        if (!isGatewayError(err)) throw err;
        ctx.logger.warn({ event: 'upstream_token_unavailable', server, code: err.code });
        return {
          status: 503,
          headers: { 'Retry-After': '5' },
          body: {
            error: 'temporarily_unavailable',
            error_description: `${server}'s authorization server cannot refresh your authorization now; retry shortly`,
          },
        };
      }
      headers[USER_HEADERS.upstreamConnect] = upstreamConnectUrl(ctx.urls.issuer, server).href;
      if (upstream !== undefined) headers[USER_HEADERS.upstreamAuthorization] = `Bearer ${upstream}`;
      // No grant (never connected, or the upstream refused it): a new authorization at the gateway
      // includes the upstream trip. A session's request goes on to the proxy without a token,
      // which answers a client that supports URL-mode elicitation with the connect page, others
      // with the same challenge (remote-proxy.ts); a request that starts a session gets it here.
      else if (req.inSession !== true)
        return challengeFor('invalid_token', `authorize ${server} again: the gateway holds no valid authorization of yours there`);
    }
    return { status: 200, headers };
  };
}

/** A token from a key rotated in after start (`keys rotate`, `token issue`) triggers one reload of the key file. */
async function verifyWithReload(ctx: AuthContext, token: string, audience: string) {
  try {
    return await verifyAccessToken(token, { keys: ctx.keys, issuer: ctx.urls.issuer, audience, now: ctx.now() });
  } catch (err) {
    if (err instanceof TokenRejectedError && err.reason === 'unknown_key' && (await ctx.reloadKeys())) {
      return verifyAccessToken(token, { keys: ctx.keys, issuer: ctx.urls.issuer, audience, now: ctx.now() });
    }
    throw err;
  }
}

/**
 * The ES256 signature check is most of /verify's CPU (about 60 µs of a ~150 µs request, measured
 * with bench/verify-bench.mjs): a token seen before for the same resource skips it. Entries live
 * until the token expires or 60 s, whichever is first, and die with a key reload; only successful
 * verifications are kept, so forged tokens never fill the cache. Insertion order evicts oldest.
 */
function createVerificationCache(ctx: AuthContext) {
  const entries = new Map<string, { token: VerifiedAccessToken; until: number }>();
  let keysSeen = ctx.keys;
  return {
    async verify(token: string, resource: string): Promise<VerifiedAccessToken> {
      if (keysSeen !== ctx.keys) {
        entries.clear();
        keysSeen = ctx.keys;
      }
      const key = `${resource} ${token}`;
      const now = ctx.now();
      const hit = entries.get(key);
      if (hit && hit.until > now) return hit.token;
      if (hit) entries.delete(key);
      const verified = await verifyWithReload(ctx, token, resource);
      if (entries.size >= CACHE_ENTRIES) entries.delete(entries.keys().next().value!);
      entries.set(key, { token: verified, until: Math.min(verified.expiresAt, now + CACHE_MS) });
      return verified;
    },
  };
}

export type RequestVerifier = ReturnType<typeof createRequestVerifier>;

type ChallengeError = 'invalid_token' | 'invalid_request' | 'insufficient_scope';

/** RFC 6750 §3 + RFC 9728 §5.1: where the metadata is, which scopes the server wants, and what went wrong. */
function challenge(resourceMetadata: string, scopes: string[], error: ChallengeError | undefined, description: string): VerifyResult {
  const params = [`resource_metadata="${resourceMetadata}"`];
  if (scopes.length > 0) params.push(`scope="${scopes.join(' ')}"`);
  if (error !== undefined) params.unshift(`error="${error}"`, `error_description="${description.replace(/["\\]/g, '')}"`);
  // RFC 6750 §3.1: malformed request 400, missing or bad token 401, missing scope 403.
  const status = error === 'invalid_request' ? 400 : error === 'insufficient_scope' ? 403 : 401;
  return {
    status,
    headers: { 'WWW-Authenticate': `Bearer ${params.join(', ')}` },
    body: { error: error ?? 'unauthorized', error_description: description },
  };
}
