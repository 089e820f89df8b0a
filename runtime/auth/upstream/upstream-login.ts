/**
 * The identity provider users log in with. `begin` returns where to send the browser for the
 * pending authorization `pendingId`, which comes back to the gateway (as GitHub's `state`, or the
 * local login form's hidden field) and is redeemed exactly once, by the browser that started it
 * (runtime/auth/login-browser.ts).
 */
export interface UpstreamLogin {
  readonly kind: 'github' | 'local' | 'oidc';
  begin(pendingId: string, context: { clientName: string }): Promise<string>;
}
