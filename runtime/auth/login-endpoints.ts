import type { Request, Response } from 'express';
import { isGatewayError } from '../errors.js';
import type { AuthContext } from './auth-context.js';
import { redirectToClient } from './authorization-response.js';
import { finishLogin } from './finish-login.js';
import { escapeHtml, sendErrorPage, sendPage } from './pages/html.js';
import { param } from './request-params.js';
import type { GitHubLogin } from './upstream/github-login.js';
import type { LocalLogin } from './upstream/local-login.js';
import { identityFromLogin } from './upstream/upstream-login.js';

function safeParam(source: unknown, name: string): string | undefined {
  try {
    return param(source, name);
  } catch {
    return undefined;
  }
}

const EXPIRED = 'This login expired or was already used. Start the connection again from your MCP client.';

/** GET /callback: GitHub's redirect after login. `state` is the pending authorization's id, redeemed once. */
export function githubCallbackEndpoint(ctx: AuthContext, login: GitHubLogin) {
  return async function githubCallback(req: Request, res: Response): Promise<void> {
    const state = safeParam(req.query, 'state');
    if (state === undefined) return sendErrorPage(res, 400, 'Login failed', 'GitHub did not return a state parameter.');
    const pending = await ctx.grants.takePending(state);
    if (!pending) return sendErrorPage(res, 400, 'Login expired', EXPIRED);
    const upstreamError = safeParam(req.query, 'error');
    const code = safeParam(req.query, 'code');
    if (upstreamError !== undefined || code === undefined) {
      ctx.logger.info({ event: 'upstream_login_failed', provider: 'github', error: upstreamError ?? 'no code' });
      return redirectToClient(ctx, res, pending, { error: 'access_denied', error_description: 'the GitHub login was cancelled or refused' });
    }
    let user;
    try {
      const githubToken = await login.github.exchangeCode({ code, redirectUri: login.callbackUrl });
      user = await login.github.fetchUser(githubToken);
    } catch (err) {
      if (!isGatewayError(err)) throw err;
      ctx.logger.warn({ event: 'upstream_login_failed', provider: 'github', code: err.code, reason: err.message, hint: err.hint });
      const unreachable = err.code === 'ERR_UPSTREAM_UNREACHABLE';
      return redirectToClient(ctx, res, pending, {
        error: unreachable ? 'temporarily_unavailable' : 'access_denied',
        error_description: unreachable ? 'GitHub could not be reached; try again' : 'the GitHub login could not be completed',
      });
    }
    await finishLogin(ctx, res, pending, identityFromLogin(user.login, user.id));
  };
}

/** GET /login/local: the one-time-code form. The pending authorization stays until the right code is typed. */
export function localLoginPage(ctx: AuthContext, login: LocalLogin) {
  return async function showLocalLogin(req: Request, res: Response): Promise<void> {
    const txn = safeParam(req.query, 'txn');
    if (txn === undefined || !(await ctx.grants.peekPending(txn))) return sendErrorPage(res, 400, 'Login expired', EXPIRED);
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
    const result = await login.check(txn, code.slice(0, 64));
    if (result === 'wrong') return sendPage(res, 401, 'Log in to this gateway', localLoginFormHtml(txn, login.user, true));
    const pending = result === 'ok' ? await ctx.grants.takePending(txn) : undefined;
    if (!pending) {
      if (result === 'expired') await ctx.grants.takePending(txn);
      return sendErrorPage(res, 400, 'Login expired', EXPIRED);
    }
    await finishLogin(ctx, res, pending, identityFromLogin(login.user));
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
