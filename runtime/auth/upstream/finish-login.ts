import type { Response } from 'express';
import type { AuthContext } from '../auth-context.js';
import { redirectToClient } from '../endpoints/authorization-response.js';
import { setConsentCookie } from '../consent/consent-cookie.js';
import type { PendingAuthorization, UpstreamCredential, UserIdentity } from '../tokens/grants.js';
import type { UserFacts } from '../policy/user-policy.js';
import { consentPageBody } from '../pages/consent-page.js';
import { sendPage } from '../pages/html.js';
import { groupsOfUser } from '../../access/access-groups.js';
import { isGatewayError } from '../../errors.js';

/**
 * After the upstream login: enforce the allowlist, then either issue the code (this user already
 * approved this client, redirect URI, server and scopes) or show the consent page. The gateway logs in to GitHub
 * with one static client for every MCP client, so GitHub's own consent cannot stand in for ours.
 */
export async function finishLogin(
  ctx: AuthContext,
  res: Response,
  pending: PendingAuthorization,
  identity: UserIdentity,
  facts: UserFacts,
  upstream?: UpstreamCredential,
): Promise<void> {
  const allowedBy = ctx.policy.match(facts);
  if (allowedBy === undefined) {
    const why = ctx.policy.needsMembership
      ? 'not on the allowlist and not a member of an allowed organization or team (an organization that restricts OAuth apps hides its membership until it approves this app)'
      : 'not on the allowlist';
    ctx.audit('login_denied', { login: identity.login, sub: identity.sub, clientId: pending.clientId, reason: why });
    return redirectToClient(ctx, res, pending, { error: 'access_denied', error_description: `${identity.login} is not allowed to use this gateway` });
  }
  const groups = groupsOfUser(facts, ctx.accessGroups);
  const user: UserIdentity = { ...identity, allowedBy, ...(groups.length > 0 ? { groups } : {}) };
  const client = await ctx.clients.get(pending.clientId);
  if (!client) {
    return redirectToClient(ctx, res, pending, { error: 'access_denied', error_description: 'the application was removed during login' });
  }
  ctx.audit('login_succeeded', { login: user.login, sub: user.sub, clientId: pending.clientId, resource: pending.resource, allowedBy });
  // Only an approval of this very redirect URI, server and scopes skips the page (consents.ts).
  if (await ctx.consents.isRemembered(user.sub, client, pending)) {
    return issueCodeAndRedirect(ctx, res, pending, user, upstream);
  }
  const { id, cookie, csrf } = await ctx.consents.openPrompt(pending, user, client, upstream);
  setConsentCookie(ctx, res, cookie);
  const redirectOrigin = new URL(pending.redirectUri);
  // A private-use scheme (cursor://...) has the opaque origin "null": CSP names it by its scheme.
  const formTarget = redirectOrigin.protocol === 'https:' || redirectOrigin.protocol === 'http:' ? redirectOrigin.origin : redirectOrigin.protocol;
  const page = {
    consentId: id,
    csrf,
    clientName: client.clientName ?? 'An unnamed application',
    clientId: client.clientId,
    redirectUri: pending.redirectUri,
    resource: pending.resource,
    serverName: ctx.urls.serverForResource(pending.resource) ?? pending.resource,
    login: user.login,
    ...(pending.scope === undefined ? {} : { scope: pending.scope }),
  };
  sendPage(res, 200, 'Allow access?', consentPageBody(page), [formTarget]);
}

/**
 * The end of every approved authorization: the code for the MCP client. For a remote server with
 * its own OAuth (servers.NAME.oauth) whose upstream this user has no usable grant at yet, the
 * browser first goes on to that server's consent (the same trip, runtime/auth/upstream-oauth/);
 * its callback comes back here through issueCode.
 */
export async function issueCodeAndRedirect(
  ctx: AuthContext,
  res: Response,
  pending: PendingAuthorization,
  user: UserIdentity,
  upstream?: UpstreamCredential,
): Promise<void> {
  const server = ctx.urls.serverForResource(pending.resource);
  if (ctx.upstreamOAuth.covers(server)) {
    let target: URL;
    try {
      if ((await ctx.upstreamOAuth.usableToken(user.sub, server)) !== undefined) return issueCode(ctx, res, pending, user, upstream);
      target = await ctx.upstreamOAuth.start({ server, pending, user, ...(upstream === undefined ? {} : { upstream }) });
    } catch (err) {
      if (!isGatewayError(err)) throw err;
      ctx.logger.warn({ event: 'upstream_authorization_unavailable', server, code: err.code, err: err.message });
      return redirectToClient(ctx, res, pending, {
        error: 'temporarily_unavailable',
        error_description: `${server}'s own sign-in cannot be reached now: ${err.message}`,
      });
    }
    ctx.audit('upstream_authorization_started', { login: user.login, sub: user.sub, clientId: pending.clientId, resource: pending.resource });
    res.set('Cache-Control', 'no-store').redirect(302, target.href);
    return;
  }
  return issueCode(ctx, res, pending, user, upstream);
}

/** The authorization code, and the browser back to the client with it. */
export async function issueCode(
  ctx: AuthContext,
  res: Response,
  pending: PendingAuthorization,
  user: UserIdentity,
  upstream?: UpstreamCredential,
): Promise<void> {
  const code = await ctx.grants.issueCode({ ...pending, user, ...(upstream ? { upstream } : {}) });
  ctx.audit('code_issued', { login: user.login, sub: user.sub, clientId: pending.clientId, resource: pending.resource });
  redirectToClient(ctx, res, pending, { code });
}
