import { TokenRejectedError, verifyAccessToken } from './access-token.js';
import type { AuthContext } from './auth-context.js';
import { USER_HEADERS } from './user-headers.js';

/** What ForwardAuth tells us about the original request (Traefik's X-Forwarded-* headers). */
export interface ForwardedRequest {
  method: string;
  /** Path and query of the original request (X-Forwarded-Uri). */
  uri: string;
  authorization: string | undefined;
}

export interface VerifyResult {
  status: 200 | 400 | 401 | 403 | 404;
  headers: Record<string, string>;
  body?: { error: string; error_description: string };
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * The one decision behind /verify and the built-in router: is this request allowed to reach the
 * MCP server it addresses? The expected audience comes from our config (the server the path
 * names), never from the token, so a token for server A is refused by server B (RFC 8707).
 */
export function createRequestVerifier(ctx: AuthContext) {
  return async function verifyRequest(req: ForwardedRequest): Promise<VerifyResult> {
    const server = ctx.urls.serverForPath(req.uri);
    if (server === undefined) {
      return { status: 404, headers: {}, body: { error: 'not_found', error_description: 'no MCP server at this path' } };
    }
    const resourceMetadata = ctx.urls.protectedResourceMetadataFor(server);
    // RFC 6750 §3.1: a request without credentials gets a challenge with no error code.
    if (req.authorization === undefined || req.authorization === '') {
      return challenge(resourceMetadata, undefined, 'a bearer token is required');
    }
    const match = BEARER.exec(req.authorization);
    if (!match) return challenge(resourceMetadata, 'invalid_request', 'the Authorization header must be "Bearer <token>"');
    try {
      const token = await verifyAccessToken(match[1]!, { keys: ctx.keys, issuer: ctx.urls.issuer, audience: ctx.urls.resourceFor(server), now: ctx.now() });
      // Removing a user from the allowlist takes effect on their next request, not when the token expires.
      if (!ctx.isAllowed(token.login)) return challenge(resourceMetadata, 'invalid_token', `${token.login} is no longer allowed to use this gateway`);
      const headers: Record<string, string> = {
        [USER_HEADERS.sub]: token.sub,
        [USER_HEADERS.login]: token.login,
        [USER_HEADERS.clientId]: token.clientId,
      };
      if (token.uid !== undefined) headers[USER_HEADERS.id] = String(token.uid);
      if (token.scope !== undefined) headers[USER_HEADERS.scope] = token.scope;
      return { status: 200, headers };
    } catch (err) {
      if (!(err instanceof TokenRejectedError)) throw err;
      ctx.logger.info({ event: 'token_rejected', server, reason: err.reason });
      return challenge(resourceMetadata, 'invalid_token', err.message);
    }
  };
}

export type RequestVerifier = ReturnType<typeof createRequestVerifier>;

function challenge(resourceMetadata: string, error: 'invalid_token' | 'invalid_request' | undefined, description: string): VerifyResult {
  const params = [`resource_metadata="${resourceMetadata}"`];
  if (error !== undefined) params.unshift(`error="${error}"`, `error_description="${description.replace(/["\\]/g, '')}"`);
  // RFC 6750 §3.1: a malformed request is 400, a missing or bad token 401.
  const status = error === 'invalid_request' ? 400 : 401;
  return {
    status,
    headers: { 'WWW-Authenticate': `Bearer ${params.join(', ')}` },
    body: { error: error ?? 'unauthorized', error_description: description },
  };
}
