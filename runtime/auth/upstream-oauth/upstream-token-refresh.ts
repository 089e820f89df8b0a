import { GatewayError } from '../../errors.js';
import { untrusted } from '../upstream/upstream-http.js';
import type { GrantMaterial, OpenedGrant } from './upstream-grant-record.js';
import { parseTokenResponse, type UpstreamTokenSet } from './upstream-token-response.js';
import { endpointText, postForm, type UpstreamPost } from './token-endpoint-post.js';

/**
 * The upstream's verdict on a refresh: new tokens, or the grant is gone (the user must connect
 * again). Not getting a verdict (network, 5xx, 429, a reply we cannot use) is thrown instead,
 * because then the grant may still be good and must be kept.
 */
export type RefreshOutcome = { kind: 'refreshed'; tokens: UpstreamTokenSet } | { kind: 'rejected'; reason: string };

export function upstreamSystem(server: string): string {
  return `the authorization server of ${server}`;
}

/**
 * One refresh_token grant (RFC 6749 §6) at the grant's token endpoint, with `resource` naming the
 * MCP server (RFC 8707 §2.2: the new access token must be for that server, not any the grant
 * allows). RFC 6749 §5.2 answers a dead refresh token with 400 `invalid_grant`, a client the
 * upstream no longer knows with 400/401 `invalid_client`: both mean connect again. Throws
 * ERR_UPSTREAM_UNREACHABLE when there is no verdict (network, 5xx, 429) and
 * ERR_UPSTREAM_BAD_RESPONSE for any other reply it cannot use.
 */
export async function requestRefresh(post: UpstreamPost, material: GrantMaterial, server: string): Promise<RefreshOutcome> {
  if (material.refreshToken === undefined) throw new TypeError('requestRefresh: the grant has no refresh token');
  const system = upstreamSystem(server);
  const url = new URL(material.tokenEndpoint);
  const secrets = [material.refreshToken, material.accessToken, material.clientSecret ?? ''];
  const { status, body } = await postForm(
    post,
    url,
    { grant_type: 'refresh_token', refresh_token: material.refreshToken, resource: material.resource },
    material,
    system,
  );
  if (status === 200) return { kind: 'refreshed', tokens: parseTokenResponse(body, system) };
  if (status === 400 || status === 401) return { kind: 'rejected', reason: errorOf(body, status, secrets) };
  if (status >= 500 || status === 429) {
    throw new GatewayError('ERR_UPSTREAM_UNREACHABLE', `${system} failed at ${endpointText(url)} (HTTP ${status})`, {
      hint: `${system} is down or overloaded; the gateway tries again on a later request`,
    });
  }
  throw new GatewayError('ERR_UPSTREAM_BAD_RESPONSE', `${system} answered HTTP ${status} at ${endpointText(url)}: ${errorOf(body, status, secrets)}`, {
    hint: `check the token endpoint ${system} advertises; the grant is kept and the refresh is tried again later`,
  });
}

/** The upstream's `error` (and description), cleaned for a log line and stripped of anything we sent. */
function errorOf(body: unknown, status: number, secrets: readonly string[]): string {
  if (typeof body !== 'object' || body === null) return `HTTP ${status}`;
  const { error, error_description: description } = body as Record<string, unknown>;
  if (typeof error !== 'string') return `HTTP ${status}`;
  const text = typeof description === 'string' ? `${error}: ${description}` : error;
  return untrusted(text, secrets);
}

/**
 * The grant after a successful refresh. RFC 6749 §6: a new refresh token replaces the old one
 * (the upstream may already have retired it); without one the old one stays valid and is kept.
 * A response without `expires_in` leaves the expiry unknown, not the old one. `stored.sealed`
 * is the old seal: the caller seals the new material.
 */
export function refreshedGrant(grant: OpenedGrant, tokens: UpstreamTokenSet, now: number): OpenedGrant {
  const { expiresAt: _previous, ...stored } = grant.stored;
  const refreshToken = tokens.refreshToken ?? grant.material.refreshToken;
  return {
    stored: {
      ...stored,
      ...(tokens.expiresInMs === undefined ? {} : { expiresAt: now + tokens.expiresInMs }),
      ...(tokens.scope === undefined ? {} : { scope: tokens.scope }),
      refreshedAt: now,
    },
    material: { ...grant.material, accessToken: tokens.accessToken, ...(refreshToken === undefined ? {} : { refreshToken }) },
  };
}
