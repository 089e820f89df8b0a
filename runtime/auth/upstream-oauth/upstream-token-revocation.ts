import { isGatewayError } from '../../errors.js';
import type { GrantMaterial } from './upstream-grant-record.js';
import { upstreamSystem } from './upstream-token-refresh.js';
import { endpointText, postForm, type UpstreamPost } from './token-endpoint-post.js';

/** What the upstream said to `revoke`; the grant is forgotten in every case. */
export type UpstreamRevocationOutcome = 'revoked' | 'no-endpoint' | 'failed';

export interface UpstreamRevocationReport {
  outcome: UpstreamRevocationOutcome;
  /** One line per token the upstream did not confirm as revoked (no token values). */
  failures: string[];
}

/**
 * RFC 7009 at the grant's revocation endpoint: the refresh token first (§2.1: revoking it SHOULD
 * end the whole grant, so it matters most), then the access token for upstreams that do not
 * cascade. 200 is success, for unknown tokens too (§2.2). Never throws: a revocation that fails
 * is reported, and the caller deletes the grant anyway.
 */
export async function revokeAtUpstream(post: UpstreamPost, material: GrantMaterial, server: string): Promise<UpstreamRevocationReport> {
  if (material.revocationEndpoint === undefined) return { outcome: 'no-endpoint', failures: [] };
  const url = new URL(material.revocationEndpoint);
  const system = upstreamSystem(server);
  const tokens: Array<[string, string]> = [];
  if (material.refreshToken !== undefined) tokens.push([material.refreshToken, 'refresh_token']);
  tokens.push([material.accessToken, 'access_token']);
  const failures: string[] = [];
  for (const [token, hint] of tokens) {
    try {
      const { status, body } = await postForm(post, url, { token, token_type_hint: hint }, material, system);
      // RFC 7009 §2.2.1: a server that cannot revoke access tokens (self-contained JWTs) says
      // unsupported_token_type; with the refresh token revoked the grant is over, and the access token dies at expiry.
      const unsupported = status === 400 && (body as { error?: unknown } | undefined)?.error === 'unsupported_token_type';
      if (unsupported && hint === 'access_token' && tokens.length > 1 && failures.length === 0) continue;
      if (status !== 200) failures.push(`${system} answered HTTP ${status} to revoking the ${hint} at ${endpointText(url)}`);
    } catch (err) {
      if (!isGatewayError(err)) throw err;
      failures.push(`${hint}: ${err.message}`);
    }
  }
  return { outcome: failures.length === 0 ? 'revoked' : 'failed', failures };
}
