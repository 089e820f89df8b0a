import { GatewayError } from '../../errors.js';
import { parseJson, type UpstreamReply } from './upstream-http.js';

/**
 * The user's standard claims (OIDC Core §5.1) from the id_token, completed from the UserInfo
 * endpoint (§5.3) when the provider keeps them out of the id_token, as providers that "conform"
 * id_token claims to the response type do.
 */

export interface OidcProfileClaims {
  email?: string;
  email_verified?: boolean;
  preferred_username?: string;
  name?: string;
}

/** Each claim only when it has the type §5.1 gives it: a string "true" is not the boolean `email_verified`. */
export function profileClaims(source: Record<string, unknown>): OidcProfileClaims {
  const claims: OidcProfileClaims = {};
  const text = (key: string): string | undefined => {
    const value = source[key];
    return typeof value === 'string' && value.length > 0 && value.length <= 512 ? value : undefined;
  };
  const email = text('email');
  if (email !== undefined) claims.email = email;
  if (typeof source['email_verified'] === 'boolean') claims.email_verified = source['email_verified'];
  const preferredUsername = text('preferred_username');
  if (preferredUsername !== undefined) claims.preferred_username = preferredUsername;
  const name = text('name');
  if (name !== undefined) claims.name = name;
  return claims;
}

/**
 * The verified id_token wins where both speak. `email` and `email_verified` travel as a pair from
 * one source, or one address could borrow the other's verification.
 */
export function withUserinfo<T extends OidcProfileClaims>(fromIdToken: T, userinfo: Record<string, unknown>): T {
  const { email, email_verified: emailVerified, ...rest } = profileClaims(userinfo);
  const merged: T = { ...rest, ...fromIdToken };
  if (merged.email === undefined) {
    delete merged.email_verified;
    if (email !== undefined) merged.email = email;
    if (email !== undefined && emailVerified !== undefined) merged.email_verified = emailVerified;
  }
  return merged;
}

export async function fetchUserinfo({
  send,
  endpoint,
  accessToken,
  sub,
  userAgent,
  hint,
}: {
  send: (url: string, init: RequestInit) => Promise<UpstreamReply>;
  endpoint: string;
  accessToken: string;
  /** From the validated id_token. */
  sub: string;
  userAgent: string;
  hint: string;
}): Promise<Record<string, unknown>> {
  const { status, headers, text } = await send(endpoint, {
    headers: { accept: 'application/json', authorization: `Bearer ${accessToken}`, 'user-agent': userAgent },
  });
  const where = `the OpenID provider's userinfo endpoint ${endpoint}`;
  if (status >= 500 || status === 429) {
    throw new GatewayError('ERR_UPSTREAM_UNREACHABLE', `${where} failed (HTTP ${status})`, { hint: 'the provider is down or overloaded: retry later' });
  }
  if (status === 401 || status === 403) {
    throw new GatewayError('ERR_UPSTREAM_DENIED', `${where} refused the user's access token (HTTP ${status})`, { hint: 'start the login again' });
  }
  // A signed (application/jwt) reply goes only to clients that registered for one; we did not.
  const json = (headers.get('content-type') ?? '').includes('json') ? parseJson(text) : undefined;
  if (status !== 200 || typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new GatewayError('ERR_UPSTREAM_BAD_RESPONSE', `${where} answered HTTP ${status}, not a JSON object`, { hint });
  }
  const claims = json as Record<string, unknown>;
  // §5.3.2: the sub must be the id_token's, or a token for another user could be substituted.
  if (claims['sub'] !== sub) throw new GatewayError('ERR_UPSTREAM_BAD_RESPONSE', `${where} describes another user than the id_token`, { hint });
  return claims;
}
