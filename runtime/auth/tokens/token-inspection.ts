import { TokenRejectedError, verifyAccessToken, type VerifiedAccessToken } from './access-token.js';
import type { AuthContext } from '../auth-context.js';
import type { RefreshGrant } from './token-families.js';

/** Shape-only check that a string could be one of our JWTs (three base64url parts). */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export type InspectedToken =
  | { kind: 'access'; token: VerifiedAccessToken; active: boolean }
  | { kind: 'refresh'; clientId: string; familyId: string; grant?: RefreshGrant; active: boolean }
  | { kind: 'unknown' };

/**
 * Finds out what a token presented to /revoke or /introspect is: one of our access tokens
 * (signature and issuer checked; any of our audiences), one of our refresh tokens, or nothing.
 * `active` applies every rule /verify and the token endpoint apply: expiry, revocation, allowlist.
 */
export async function inspectToken(ctx: AuthContext, token: string): Promise<InspectedToken> {
  if (token.length > 4096) return { kind: 'unknown' };
  if (JWT_SHAPE.test(token)) {
    const audiences = ctx.urls.serverNames.map(ctx.urls.resourceFor);
    if (audiences.length === 0) return { kind: 'unknown' };
    try {
      const verified = await verifyAccessToken(token, { keys: ctx.keys, issuer: ctx.urls.issuer, audience: audiences, now: ctx.now() });
      const active = ctx.stillAllowed(verified) && !(await ctx.families.isAccessTokenRevoked(verified.jti, verified.familyId));
      return { kind: 'access', token: verified, active };
    } catch (err) {
      if (err instanceof TokenRejectedError) return { kind: 'unknown' };
      throw err;
    }
  }
  const refresh = await ctx.families.findRefreshToken(token);
  if (!refresh) return { kind: 'unknown' };
  const active = refresh.grant !== undefined && ctx.stillAllowed(refresh.grant.user) && !(await ctx.families.isRevoked(refresh.familyId));
  return { kind: 'refresh', ...refresh, active };
}
