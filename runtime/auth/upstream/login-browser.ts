import type { Request, Response } from 'express';
import type { AuthContext } from '../auth-context.js';
import { cookieMatches, readBrowserCookie, setBrowserCookie } from '../browser-cookie.js';
import { randomToken, sha256Base64url } from '../crypto-helpers.js';
import { PENDING_AUTHORIZATION_TTL_MS, type PendingAuthorization } from '../tokens/grants.js';

/** What randomToken(32) makes; anything else in the cookie is replaced, never trusted. */
const BROWSER_ID = /^[A-Za-z0-9_-]{43}$/;

/**
 * Login CSRF (RFC 6749 §10.12; OAuth 2.0 Security BCP, RFC 9700 §4.7): the upstream `state` says
 * which pending authorization a callback belongs to, not which browser. Without this binding an
 * attacker starts a login, completes it at GitHub as themselves, and sends the victim the
 * callback URL: the victim's client ends up connected to the attacker's account (or, the other
 * way round, the attacker's browser completes the victim's state). So /authorize gives the
 * browser a random id in a cookie and keeps its hash with the pending authorization; the
 * callback and the local login form need the same cookie back.
 *
 * One id per browser, reused while it lives, not one per login: a client that opens two logins
 * at once (Claude connecting two servers) must not have the second overwrite the first. Reusing
 * a cookie the browser sent is safe over https because `__Host-` keeps other hosts from setting
 * it; plain http is loopback only.
 *
 * Returns the hash to store as `browserHash`.
 */
export function bindLoginToBrowser(ctx: AuthContext, req: Request, res: Response): string {
  const sent = readBrowserCookie(ctx, req, 'login');
  const id = sent !== undefined && BROWSER_ID.test(sent) ? sent : randomToken(32);
  // As long as the pending authorization waits; every new /authorize renews it.
  setBrowserCookie(ctx, res, 'login', id, PENDING_AUTHORIZATION_TTL_MS);
  return sha256Base64url(id);
}

/**
 * Did this request come from the browser that started `started` (a pending authorization, a page
 * login, a connect trip)? False for one without a binding.
 */
export function startedInThisBrowser(ctx: AuthContext, req: Request, started: Pick<PendingAuthorization, 'browserHash'>): boolean {
  return cookieMatches(readBrowserCookie(ctx, req, 'login'), started.browserHash);
}
