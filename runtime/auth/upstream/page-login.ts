import type { Request, Response } from 'express';
import type { AuthContext } from '../auth-context.js';
import { randomToken } from '../crypto-helpers.js';
import { sendAdminMessage } from '../pages/admin-page-html.js';
import { escapeHtml, sendPage } from '../pages/html.js';
import { upstreamConnectPath } from '../upstream-oauth/upstream-oauth.js';
import { bindLoginToBrowser, startedInThisBrowser } from './login-browser.js';

/** Which of the gateway's own pages a login is for. */
export type PagePurpose = { page: 'admin' } | { page: 'connect'; server: string };

/** A page login the provider has not answered yet; `browserHash` binds it to the browser that started it. */
export interface PageLogin {
  purpose: PagePurpose;
  browserHash: string;
}

/**
 * Logins for the gateway's own pages rather than for an MCP client: the admin page, and the page
 * where a user connects a remote server with `oauth` again (the link of a URL-mode elicitation).
 * They share the provider's one callback (a GitHub app has one callback URL) with the logins of
 * MCP clients: their upstream `state` (or the local login's `txn`) starts with a prefix that
 * randomToken never produces, so /callback tells them apart without a store read
 * (login-endpoints.ts). Bound to the browser that started them by the same cookie as a client's
 * login (login-browser.ts).
 */
const PREFIX = 'page.';
const TTL_MS = 10 * 60_000;

export function isPageLogin(id: string): boolean {
  return id.startsWith(PREFIX);
}

const key = (id: string): string => `page-login:${id}`;

/** To the provider (and back to /callback, or the local login form), for `purpose`. */
export async function beginPageLogin(ctx: AuthContext, req: Request, res: Response, purpose: PagePurpose): Promise<PageLogin> {
  const id = `${PREFIX}${randomToken(32)}`;
  const login: PageLogin = { purpose, browserHash: bindLoginToBrowser(ctx, req, res) };
  await ctx.store.set(key(id), login, { ttlMs: TTL_MS });
  const url = await ctx.upstream.begin(id, { clientName: purpose.page === 'admin' ? 'the admin page' : `connecting ${purpose.server}` });
  res.set('Cache-Control', 'no-store').redirect(302, url);
  return login;
}

/**
 * The page login `id` names, if it waits for this browser; `take` uses it up. Otherwise the page
 * saying why has been sent, and the login is left for its own browser.
 */
export async function pageLoginOfThisBrowser(
  ctx: AuthContext,
  req: Request,
  res: Response,
  id: string,
  provider: string,
  take: boolean,
): Promise<PageLogin | undefined> {
  const waiting = id.length > 100 ? undefined : await ctx.store.get<PageLogin>(key(id));
  if (waiting === undefined) return void sendPageMessage(res, undefined, 400, 'Login expired', 'This login expired or was already used.');
  if (!startedInThisBrowser(ctx, req, waiting)) {
    ctx.audit(waiting.purpose.page === 'admin' ? 'admin_denied' : 'login_denied', {
      via: 'page',
      provider,
      reason: 'login started in another browser',
      ip: req.ip,
    });
    return void sendPageMessage(res, waiting.purpose, 400, 'Login failed', 'This login was started in another browser.');
  }
  if (take && (await ctx.store.take(key(id))) === undefined) {
    return void sendPageMessage(res, waiting.purpose, 400, 'Login expired', 'This login expired or was already used.');
  }
  return waiting;
}

/** A page of the login's own kind, with the way to start again (the admin page's style for the admin page). */
export function sendPageMessage(res: Response, purpose: PagePurpose | undefined, status: number, title: string, message: string): void {
  if (purpose?.page === 'admin') {
    sendAdminMessage(res, status, title, message, '<p><a class="button" href="/admin/login">Log in again</a></p>');
    return;
  }
  const again =
    purpose === undefined
      ? '<p class="muted">Open the page you came from again: the admin page, or the link your MCP client showed.</p>'
      : `<p><a class="button" href="${escapeHtml(upstreamConnectPath(purpose.server))}">Connect ${escapeHtml(purpose.server)} again</a></p>`;
  sendPage(res, status, title, `<p>${escapeHtml(message)}</p>${again}`);
}
