import type { Request, Response } from 'express';
import type { AuthContext } from '../auth-context.js';
import { cookieMatches, readBrowserCookie } from '../browser-cookie.js';
import { randomToken } from '../crypto-helpers.js';
import { sendAdminMessage, sendLoggedIn } from '../pages/admin-page-html.js';
import type { UserFacts } from '../policy/user-policy.js';
import type { UserIdentity } from '../tokens/grants.js';
import { bindLoginToBrowser } from '../upstream/login-browser.js';
import { isAdminUser, openAdminSession } from './admin-page-session.js';

/**
 * The admin page's own login through the gateway's provider. It shares the provider's one
 * callback (a GitHub app has one callback URL) with the logins of MCP clients: its upstream
 * `state` (or the local login's `txn`) starts with a prefix that randomToken never produces, so
 * /callback tells the two apart without a store read (login-endpoints.ts). Bound to the browser
 * that started it by the same cookie as a client's login (login-browser.ts).
 */
const PREFIX = 'admin.';
const TTL_MS = 10 * 60_000;

interface AdminLoginStart {
  browserHash: string;
}

export function isAdminLogin(id: string): boolean {
  return id.startsWith(PREFIX);
}

const key = (id: string): string => `admin-login:${id}`;

/** GET /admin/login: to the provider, and back to /callback (or the local login form). */
export async function beginAdminLogin(ctx: AuthContext, req: Request, res: Response): Promise<void> {
  const id = `${PREFIX}${randomToken(32)}`;
  const start: AdminLoginStart = { browserHash: bindLoginToBrowser(ctx, req, res) };
  await ctx.store.set(key(id), start, { ttlMs: TTL_MS });
  const url = await ctx.upstream.begin(id, { clientName: 'the admin page' });
  res.set('Cache-Control', 'no-store').redirect(302, url);
}

/**
 * Whether admin login `id` waits for this browser; `take` uses it up. Otherwise the page saying
 * why has been sent, and the login is left for its own browser.
 */
export async function adminLoginOfThisBrowser(ctx: AuthContext, req: Request, res: Response, id: string, provider: string, take: boolean): Promise<boolean> {
  const expired = (): false => {
    sendAdminMessage(res, 400, 'Login expired', 'This login expired or was already used.', AGAIN);
    return false;
  };
  if (id.length > 100) return expired();
  const waiting = await ctx.store.get<AdminLoginStart>(key(id));
  if (waiting === undefined) return expired();
  if (!cookieMatches(readBrowserCookie(ctx, req, 'login'), waiting.browserHash)) {
    ctx.audit('admin_denied', { via: 'page', provider, reason: 'login started in another browser', ip: req.ip });
    sendAdminMessage(res, 400, 'Login failed', 'This login was started in another browser.', AGAIN);
    return false;
  }
  if (take && (await ctx.store.take(key(id))) === undefined) return expired();
  return true;
}

/** The provider said who this is: an admin gets a session, anyone else a 403. */
export async function finishAdminLogin(ctx: AuthContext, req: Request, res: Response, identity: UserIdentity, facts: UserFacts): Promise<void> {
  if (!isAdminUser(ctx, facts)) {
    ctx.audit('admin_denied', { via: 'page', reason: 'not an admin', login: identity.login, sub: identity.sub, ip: req.ip });
    return sendAdminMessage(res, 403, 'Not an admin', `${identity.login} is not an admin of this gateway (admins: in its config).`);
  }
  await openAdminSession(ctx, res, { sub: identity.sub, login: identity.login, facts });
  ctx.audit('admin_login', { via: 'page', login: identity.login, sub: identity.sub, ip: req.ip });
  sendLoggedIn(res);
}

/** The provider refused or could not be reached. */
export function adminLoginFailed(ctx: AuthContext, req: Request, res: Response, provider: string, reason: string): void {
  ctx.audit('admin_denied', { via: 'page', provider, reason, ip: req.ip });
  sendAdminMessage(res, 400, 'Login failed', 'The login was cancelled, refused, or the identity provider could not be reached.', AGAIN);
}

const AGAIN = '<p><a class="button" href="/admin/login">Log in again</a></p>';
