import type { UserIdentity } from '../grants.js';

/**
 * The identity provider users log in with. `begin` returns where to send the browser for the
 * pending authorization `pendingId`, which comes back to the gateway (as GitHub's `state`, or the
 * local login form's hidden field) and is redeemed exactly once.
 */
export interface UpstreamLogin {
  readonly kind: 'github' | 'local' | 'oidc';
  begin(pendingId: string, context: { clientName: string }): Promise<string>;
}

export function identityFromLogin(login: string, uid?: number): UserIdentity {
  return uid === undefined ? { sub: login.toLowerCase(), login } : { sub: login.toLowerCase(), login, uid };
}
