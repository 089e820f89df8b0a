import type { GitHubLogin } from './github-login.js';
import type { LocalLogin } from './local-login.js';
import type { OidcLogin } from './oidc-login.js';

/**
 * The identity provider users log in with. `begin` returns where to send the browser for the
 * pending authorization `pendingId`, which comes back to the gateway (as GitHub's `state`, or the
 * local login form's hidden field) and is redeemed exactly once, by the browser that started it
 * (runtime/auth/upstream/login-browser.ts).
 */
export interface UpstreamLoginBase {
  begin(pendingId: string, context: { clientName: string }): Promise<string>;
}

/** One of the three, told apart by `kind`: callers narrow with a switch, never cast down. */
export type UpstreamLogin = GitHubLogin | LocalLogin | OidcLogin;
