import type { Request, Response } from 'express';
import type { AuthContext } from '../auth-context.js';
import { redirectToClient } from './authorization-response.js';
import { clearConsentCookie, consentCookieName, readCookie } from '../consent/consent-cookie.js';
import { issueCodeAndRedirect } from '../upstream/finish-login.js';
import { sendErrorPage } from '../pages/html.js';
import { param } from './request-params.js';

/** POST /consent: the consent form's answer. Needs the prompt id, its CSRF token and the browser's consent cookie. */
export function consentEndpoint(ctx: AuthContext) {
  return async function consent(req: Request, res: Response): Promise<void> {
    if (!req.is('application/x-www-form-urlencoded')) return sendErrorPage(res, 415, 'Invalid consent', 'The consent form must be posted as a form.');
    let id: string | undefined, csrf: string | undefined, decision: string | undefined;
    try {
      id = param(req.body, 'consent_id');
      csrf = param(req.body, 'csrf_token');
      decision = param(req.body, 'decision');
    } catch {
      return sendErrorPage(res, 400, 'Invalid consent', 'The consent form was malformed.');
    }
    const cookie = readCookie(req, consentCookieName(ctx));
    if (id === undefined || csrf === undefined || cookie === undefined || (decision !== 'approve' && decision !== 'deny')) {
      return sendErrorPage(res, 400, 'Invalid consent', 'The consent form was incomplete, or cookies are blocked for this site.');
    }
    const prompt = await ctx.consents.answerPrompt(id, cookie, csrf);
    if (prompt === 'unknown') return sendErrorPage(res, 400, 'Consent expired', 'This consent request expired or was already answered.');
    if (prompt === 'forged') {
      ctx.audit('access_denied', { reason: 'consent form with a wrong cookie or CSRF token', ip: req.ip });
      return sendErrorPage(res, 403, 'Consent refused', 'This consent form does not belong to this browser session.');
    }
    clearConsentCookie(ctx, res);
    if (decision === 'deny') {
      ctx.audit('consent_denied', { login: prompt.user.login, sub: prompt.user.sub, clientId: prompt.pending.clientId });
      return redirectToClient(ctx, res, prompt.pending, { error: 'access_denied', error_description: 'the user denied access' });
    }
    await ctx.consents.remember(prompt, ctx.now());
    ctx.audit('consent_granted', { login: prompt.user.login, sub: prompt.user.sub, clientId: prompt.pending.clientId, resource: prompt.pending.resource });
    await issueCodeAndRedirect(ctx, res, prompt.pending, prompt.user, prompt.upstream);
  };
}
