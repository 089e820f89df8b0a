import type { Request, Response } from 'express';
import type { AuthContext } from '../auth-context.js';
import { sendAdminMessage, sendLoggedIn } from '../pages/admin-page-html.js';
import type { UserFacts } from '../policy/user-policy.js';
import type { UserIdentity } from '../tokens/grants.js';
import { beginPageLogin } from '../upstream/page-login.js';
import { isAdminUser, openAdminSession } from './admin-page-session.js';

/** GET /admin/login: a page login (page-login.ts) for the admin page. */
export async function beginAdminLogin(ctx: AuthContext, req: Request, res: Response): Promise<void> {
  await beginPageLogin(ctx, req, res, { page: 'admin' });
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
