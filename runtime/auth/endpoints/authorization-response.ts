import type { Response } from 'express';
import type { AuthContext } from '../auth-context.js';
import type { PendingAuthorization } from '../tokens/grants.js';
import type { OAuthErrorCode } from '../oauth-error.js';

/**
 * Sends the browser back to the client's (already validated) redirect URI. Every authorization
 * response, errors included, carries `iss` (RFC 9207 §2) so clients can detect mix-up attacks.
 */
export function redirectToClient(
  ctx: AuthContext,
  res: Response,
  target: Pick<PendingAuthorization, 'redirectUri' | 'state'>,
  params: { code: string } | { error: OAuthErrorCode; error_description: string },
): void {
  const url = new URL(target.redirectUri);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  if (target.state !== undefined) url.searchParams.set('state', target.state);
  url.searchParams.set('iss', ctx.urls.issuer);
  res.set('Cache-Control', 'no-store').redirect(302, url.href);
}
