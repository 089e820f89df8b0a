import type { Request, Response } from 'express';
import { isGatewayError } from '../../errors.js';
import type { AuthContext } from '../auth-context.js';
import { redirectToClient } from './authorization-response.js';
import { finishLogin } from '../upstream/finish-login.js';
import { escapeHtml, sendErrorPage, sendPage } from '../pages/html.js';
import { param } from './request-params.js';
import type { GitHubLogin } from '../upstream/github-login.js';
import type { LocalLogin } from '../upstream/local-login.js';
import type { OidcLogin } from '../upstream/oidc-login.js';
import type { UserFacts } from '../policy/user-policy.js';
import type { PendingAuthorization, UpstreamCredential, UserIdentity } from '../tokens/grants.js';
import { startedInThisBrowser } from '../upstream/login-browser.js';
import { githubSubject, localSubject, oidcSubject } from '../upstream/user-subject.js';
import { adminLoginFailed, finishAdminLogin } from '../admin/admin-login.js';
import { isPageLogin, type PageLogin, pageLoginOfThisBrowser } from '../upstream/page-login.js';
import { connectLoginFailed, finishConnectLogin } from './upstream-connect-endpoints.js';

function safeParam(source: unknown, name: string): string | undefined {
  try {
    return param(source, name);
  } catch {
    return undefined;
  }
}

const EXPIRED = 'This login expired or was already used. Start the connection again from your MCP client.';
const OTHER_BROWSER =
  "This login was started in another browser, or this browser did not keep the gateway's login cookie. Start the connection again from your MCP client, in this browser.";

/**
 * The pending authorization `id` names, if the browser that started it is the one asking
 * (login-browser.ts); otherwise the error page is sent and the pending authorization is left for
 * its own browser. Taken (single use) only after that check, so a stranger presenting someone
 * else's `state` cannot burn it either.
 */
async function pendingOfThisBrowser(
  ctx: AuthContext,
  req: Request,
  res: Response,
  id: string,
  provider: string,
  take: boolean,
): Promise<PendingAuthorization | undefined> {
  const waiting = await ctx.grants.peekPending(id);
  if (!waiting) return void sendErrorPage(res, 400, 'Login expired', EXPIRED);
  if (!startedInThisBrowser(ctx, req, waiting)) {
    ctx.audit('login_denied', { provider, clientId: waiting.clientId, reason: 'login started in another browser', ip: req.ip });
    return void sendErrorPage(res, 400, 'Login failed', OTHER_BROWSER);
  }
  if (!take) return waiting;
  const pending = await ctx.grants.takePending(id);
  if (!pending) sendErrorPage(res, 400, 'Login expired', EXPIRED);
  return pending;
}

/** GET /callback: GitHub's redirect after login. `state` is the pending authorization's id, redeemed once, by the browser that started it. */
export function githubCallbackEndpoint(ctx: AuthContext, login: GitHubLogin) {
  return async function githubCallback(req: Request, res: Response): Promise<void> {
    const state = safeParam(req.query, 'state');
    if (state === undefined) return sendErrorPage(res, 400, 'Login failed', 'GitHub did not return a state parameter.');
    if (isPageLogin(state)) return pageGithubCallback(ctx, login, req, res, state);
    const pending = await pendingOfThisBrowser(ctx, req, res, state, 'github', true);
    if (!pending) return;
    const upstreamError = safeParam(req.query, 'error');
    const code = safeParam(req.query, 'code');
    if (upstreamError !== undefined || code === undefined) {
      ctx.audit('login_denied', { provider: 'github', clientId: pending.clientId, reason: upstreamError ?? 'no code' });
      return redirectToClient(ctx, res, pending, { error: 'access_denied', error_description: 'the GitHub login was cancelled or refused' });
    }
    let who: GitHubUser;
    try {
      who = await githubUser(ctx, login, code, pending.clientId);
    } catch (err) {
      return upstreamFailed(ctx, res, pending, 'github', err);
    }
    await finishLogin(ctx, res, pending, who.identity, who.facts, who.upstream);
  };
}

interface GitHubUser {
  identity: UserIdentity;
  facts: UserFacts;
  upstream?: UpstreamCredential | undefined;
}

/**
 * Who GitHub says logged in; with org/team rules and `memberships` (the allowlist is checked),
 * the memberships too; with `sealFor` (a client's login) GitHub's token, sealed for that client.
 */
async function githubUser(ctx: AuthContext, login: GitHubLogin, code: string, sealFor?: string, memberships = sealFor !== undefined): Promise<GitHubUser> {
  const githubToken = await login.github.exchangeCode({ code, redirectUri: login.callbackUrl });
  const user = await login.github.fetchUser(githubToken);
  // The numeric id is the user; the login is only what they are called today (user-subject.ts).
  const identity: UserIdentity = { sub: githubSubject(user.id), login: user.login, uid: user.id };
  if (!memberships || !login.needsMembership) return { identity, facts: { login: user.login } };
  const [orgs, teams] = await Promise.all([login.github.fetchOrgs(githubToken), login.github.fetchTeams(githubToken)]);
  if (sealFor === undefined) return { identity, facts: { login: user.login, orgs, teams } };
  // Kept sealed (key outside the store) so a refresh can ask GitHub whether the user is still a member.
  return { identity, facts: { login: user.login, orgs, teams }, upstream: { sealed: ctx.sealedBox.seal(githubToken, sealFor), checkedAt: ctx.now() } };
}

/** A login for one of the gateway's own pages (page-login.ts), answered: the admin page's or a connect page's. */
function finishPageLogin(ctx: AuthContext, req: Request, res: Response, login: PageLogin, identity: UserIdentity, facts: UserFacts): Promise<void> {
  const { purpose } = login;
  return purpose.page === 'admin'
    ? finishAdminLogin(ctx, req, res, identity, facts)
    : finishConnectLogin(ctx, req, res, purpose.server, login, identity, facts);
}

function pageLoginFailed(ctx: AuthContext, req: Request, res: Response, login: PageLogin, provider: string, reason: string): void {
  const { purpose } = login;
  if (purpose.page === 'admin') adminLoginFailed(ctx, req, res, provider, reason);
  else connectLoginFailed(ctx, req, res, purpose.server, provider, reason);
}

/** A page login back from GitHub: admins are named by login, so only a connect page (the allowlist) asks for memberships. */
async function pageGithubCallback(ctx: AuthContext, gh: GitHubLogin, req: Request, res: Response, state: string): Promise<void> {
  const login = await pageLoginOfThisBrowser(ctx, req, res, state, 'github', true);
  if (login === undefined) return;
  const upstreamError = safeParam(req.query, 'error');
  const code = safeParam(req.query, 'code');
  if (upstreamError !== undefined || code === undefined) return pageLoginFailed(ctx, req, res, login, 'github', upstreamError ?? 'no code');
  let who: GitHubUser;
  try {
    who = await githubUser(ctx, gh, code, undefined, login.purpose.page === 'connect');
  } catch (err) {
    if (!isGatewayError(err)) throw err;
    return pageLoginFailed(ctx, req, res, login, 'github', err.code);
  }
  await finishPageLogin(ctx, req, res, login, who.identity, who.facts);
}

/** GET /callback for an OpenID Connect provider: RFC 9207 `iss` and `error` checked, code exchanged with our PKCE verifier, id_token validated. */
export function oidcCallbackEndpoint(ctx: AuthContext, login: OidcLogin) {
  return async function oidcCallback(req: Request, res: Response): Promise<void> {
    const state = safeParam(req.query, 'state');
    if (state === undefined) return sendErrorPage(res, 400, 'Login failed', 'The identity provider did not return a state parameter.');
    const forPage = isPageLogin(state);
    const page = forPage ? await pageLoginOfThisBrowser(ctx, req, res, state, 'oidc', true) : undefined;
    const pending = forPage ? undefined : await pendingOfThisBrowser(ctx, req, res, state, 'oidc', true);
    if (page === undefined && pending === undefined) return;
    const secrets = await login.takeState(state);
    if (!secrets)
      return page !== undefined ? pageLoginFailed(ctx, req, res, page, 'oidc', 'login state expired') : sendErrorPage(res, 400, 'Login expired', EXPIRED);
    try {
      const { identity, facts } = await oidcUser(login, req, secrets);
      if (page !== undefined) await finishPageLogin(ctx, req, res, page, identity, facts);
      else await finishLogin(ctx, res, pending!, identity, facts);
    } catch (err) {
      if (pending !== undefined) return upstreamFailed(ctx, res, pending, 'oidc', err);
      if (!isGatewayError(err)) throw err;
      return pageLoginFailed(ctx, req, res, page!, 'oidc', err.code);
    }
  };
}

async function oidcUser(
  login: OidcLogin,
  req: Request,
  secrets: { codeVerifier: string; nonce: string },
): Promise<{ identity: UserIdentity; facts: UserFacts }> {
  const code = await login.oidc.readCallback(new URLSearchParams(req.url.split('?')[1] ?? ''));
  const { claims } = await login.oidc.exchangeCode({ code, redirectUri: login.callbackUrl, codeVerifier: secrets.codeVerifier, nonce: secrets.nonce });
  // OIDC Core §5.7: only iss + sub identify a user; email and preferred_username can change hands.
  const display = claims.email ?? claims.preferred_username ?? claims.sub;
  const email = {
    ...(claims.email === undefined ? {} : { email: claims.email }),
    ...(claims.email_verified === undefined ? {} : { emailVerified: claims.email_verified }),
  };
  return { identity: { sub: oidcSubject(login.oidc.issuer, claims.sub), login: display, ...email }, facts: { login: claims.sub, ...email } };
}

function upstreamFailed(ctx: AuthContext, res: Response, pending: PendingAuthorization, provider: string, err: unknown): void {
  if (!isGatewayError(err)) throw err;
  ctx.logger.warn({ event: 'upstream_login_failed', provider, code: err.code, reason: err.message, hint: err.hint });
  ctx.audit('login_denied', { provider, clientId: pending.clientId, reason: err.code });
  const unreachable = err.code === 'ERR_UPSTREAM_UNREACHABLE';
  redirectToClient(ctx, res, pending, {
    error: unreachable ? 'temporarily_unavailable' : 'access_denied',
    error_description: unreachable ? 'the identity provider could not be reached; try again' : 'the login could not be completed',
  });
}

/** GET /login/local: the one-time-code form. The pending authorization stays until the right code is typed. */
export function localLoginPage(ctx: AuthContext, login: LocalLogin) {
  return async function showLocalLogin(req: Request, res: Response): Promise<void> {
    const txn = safeParam(req.query, 'txn');
    if (txn === undefined) return sendErrorPage(res, 400, 'Login expired', EXPIRED);
    const waits = isPageLogin(txn)
      ? (await pageLoginOfThisBrowser(ctx, req, res, txn, 'local', false)) !== undefined
      : (await pendingOfThisBrowser(ctx, req, res, txn, 'local', false)) !== undefined;
    if (!waits) return;
    sendPage(res, 200, 'Log in to this gateway', localLoginFormHtml(txn, login.user, false));
  };
}

/** POST /login/local: checks the code printed in the gateway's terminal, then continues as after any upstream login. */
export function localLoginSubmit(ctx: AuthContext, login: LocalLogin) {
  return async function localLoginSubmitHandler(req: Request, res: Response): Promise<void> {
    const txn = safeParam(req.body, 'txn');
    const code = safeParam(req.body, 'code');
    if (txn === undefined || code === undefined || !req.is('application/x-www-form-urlencoded')) {
      return sendErrorPage(res, 400, 'Login failed', 'The login form was incomplete.');
    }
    const page = isPageLogin(txn);
    // Before the code is checked, so a stranger's guesses do not use up the attempts either.
    const waiting = page ? await pageLoginOfThisBrowser(ctx, req, res, txn, 'local', false) : await pendingOfThisBrowser(ctx, req, res, txn, 'local', false);
    if (waiting === undefined) return;
    const result = await login.check(txn, code.slice(0, 64));
    if (result === 'wrong') return sendPage(res, 401, 'Log in to this gateway', localLoginFormHtml(txn, login.user, true));
    if (page) {
      if (result !== 'ok') return pageLoginFailed(ctx, req, res, waiting as PageLogin, 'local', 'one-time code expired or tried too often');
      const taken = await pageLoginOfThisBrowser(ctx, req, res, txn, 'local', true);
      if (taken === undefined) return;
      return finishPageLogin(ctx, req, res, taken, { sub: localSubject(login.user), login: login.user }, { login: login.user });
    }
    const pending = result === 'ok' ? await ctx.grants.takePending(txn) : undefined;
    if (!pending) {
      if (result === 'expired') await ctx.grants.takePending(txn);
      return sendErrorPage(res, 400, 'Login expired', EXPIRED);
    }
    await finishLogin(ctx, res, pending, { sub: localSubject(login.user), login: login.user }, { login: login.user });
  };
}

function localLoginFormHtml(txn: string, user: string, wrong: boolean): string {
  return (
    `<p>Enter the one-time code printed in the gateway's terminal to log in as <strong>${escapeHtml(user)}</strong>.</p>` +
    (wrong ? `<p><strong>That code is not right.</strong> Check the newest code in the terminal.</p>` : '') +
    `<form method="post" action="/login/local"><input type="hidden" name="txn" value="${escapeHtml(txn)}">` +
    `<p><input name="code" autocomplete="one-time-code" autofocus required maxlength="16" placeholder="XXXX-XXXX"></p>` +
    `<button class="primary" type="submit">Log in</button></form>`
  );
}
