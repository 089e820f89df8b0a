import { isGatewayError } from '../../errors.js';
import type { AuthContext } from '../auth-context.js';
import { OAuthError } from '../oauth-error.js';
import type { RefreshGrant } from '../tokens/token-families.js';
import { admittingRule } from './user-policy.js';
import { upgradeLoginSubject } from '../upstream/user-subject.js';
import { groupsOfUser } from '../../access/access-groups.js';
import type { UserIdentity } from '../tokens/grants.js';

/** Claude refreshes often and GitHub rate-limits: a membership verdict is reused this long. */
const MEMBERSHIP_FRESH_MS = 5 * 60_000;
/** While GitHub is unreachable, the last good verdict stands this long before refreshes are refused. */
const MEMBERSHIP_STALE_MS = 24 * 3_600_000;

/**
 * The allowlist is re-checked on every refresh (issue: a removed user gets no new tokens). Rules
 * about the user alone (`user:`, `email:`, `domain:`) are checked against the current config;
 * org and team rules ask GitHub again with the user's own token, kept sealed with the grant.
 * Returns the grant to continue with (its subject, login, rule and check time updated); throws
 * `invalid_grant` when the user is no longer allowed.
 *
 * A grant from before subjects were ids (its subject is a login, user-subject.ts) moves to the
 * id it was issued to, so nobody is logged out by the change; one that cannot be tied to an id
 * fails with a re-login rather than carrying a login-keyed subject on into new tokens.
 */
export async function recheckOnRefresh(ctx: AuthContext, original: RefreshGrant): Promise<RefreshGrant> {
  const user = upgradeLoginSubject(original.user, ctx.config.provider);
  if (user === undefined) {
    throw new OAuthError('invalid_grant', 'this grant was issued before users were identified by their account id and cannot be moved to one; log in again');
  }
  const grant = user === original.user ? original : { ...original, user };
  const rule = admittingRule(grant.user);
  const viaMembership = rule.startsWith('org:') || rule.startsWith('team:');
  if (!viaMembership) {
    if (!ctx.stillAllowed(grant.user)) throw new OAuthError('invalid_grant', `${grant.user.login} is no longer allowed to use this gateway`);
    return refreshAccessGroups(ctx, grant);
  }
  const github = ctx.upstream.kind === 'github' ? ctx.upstream.github : undefined;
  const now = ctx.now();
  const checkedAt = grant.upstream?.checkedAt ?? 0;
  if (now - checkedAt < MEMBERSHIP_FRESH_MS && ctx.policy.hasRule(rule)) return grant;
  const token = grant.upstream && github ? ctx.sealedBox.open(grant.upstream.sealed, grant.clientId) : undefined;
  if (!token || !github) throw new OAuthError('invalid_grant', 'membership can no longer be checked for this grant; log in again');
  try {
    const current = await github.fetchUser(token);
    if (grant.user.uid !== undefined && current.id !== grant.user.uid) throw new OAuthError('invalid_grant', 'the GitHub account changed; log in again');
    const [orgs, teams] = await Promise.all([github.fetchOrgs(token), github.fetchTeams(token)]);
    // The login GitHub knows the account by today: a renamed user is matched (and shown) by the new one.
    const allowedBy = ctx.policy.match({ login: current.login, orgs, teams });
    if (allowedBy === undefined) throw new OAuthError('invalid_grant', `${current.login} is no longer a member of an allowed organization or team`);
    const groups = groupsOfUser({ orgs, teams }, ctx.accessGroups);
    return {
      ...grant,
      user: withGroups({ ...grant.user, login: current.login, allowedBy }, groups),
      upstream: { sealed: grant.upstream!.sealed, checkedAt: now },
    };
  } catch (err) {
    if (err instanceof OAuthError) throw err;
    if (!isGatewayError(err)) throw err;
    if (err.code === 'ERR_UPSTREAM_UNREACHABLE' && now - checkedAt < MEMBERSHIP_STALE_MS && ctx.policy.hasRule(rule)) {
      ctx.logger.warn({ event: 'membership_recheck_deferred', login: grant.user.login, sub: grant.user.sub, reason: err.message });
      return grant;
    }
    if (err.code === 'ERR_UPSTREAM_UNREACHABLE')
      throw new OAuthError('temporarily_unavailable', 'GitHub cannot be reached to confirm membership; try again later', 503);
    // The GitHub token was revoked, or the app lost access: membership is unknowable, so no.
    throw new OAuthError('invalid_grant', 'GitHub no longer confirms this login; log in again');
  }
}

/**
 * A user admitted by a rule about themselves whose tool access depends on org or team rules
 * (servers' `access`): their memberships are asked again, as often as for org-admitted users, so
 * leaving a team takes its tools away at the next refresh. The allowlist already admitted the
 * user, so a failure here never refuses the refresh: while GitHub is unreachable the recorded
 * groups stand for the stale window, after that (or when GitHub no longer answers for the token)
 * they are dropped and the user keeps only what needs no group.
 */
async function refreshAccessGroups(ctx: AuthContext, grant: RefreshGrant): Promise<RefreshGrant> {
  const needsMembership = [...ctx.accessGroups].some((group) => group.startsWith('org:') || group.startsWith('team:'));
  const github = ctx.upstream.kind === 'github' ? ctx.upstream.github : undefined;
  if (!needsMembership || !github || !grant.upstream) return grant;
  const now = ctx.now();
  const { checkedAt } = grant.upstream;
  if (now - checkedAt < MEMBERSHIP_FRESH_MS) return grant;
  const token = ctx.sealedBox.open(grant.upstream.sealed, grant.clientId);
  try {
    if (!token) throw new OAuthError('invalid_grant', 'the sealed GitHub token cannot be opened');
    const [orgs, teams] = await Promise.all([github.fetchOrgs(token), github.fetchTeams(token)]);
    const emailGroups = (grant.user.groups ?? []).filter((group) => group.startsWith('domain:'));
    const groups = [...groupsOfUser({ orgs, teams }, ctx.accessGroups), ...emailGroups].sort();
    return { ...grant, user: withGroups(grant.user, groups), upstream: { sealed: grant.upstream.sealed, checkedAt: now } };
  } catch (err) {
    const unreachable = isGatewayError(err) && err.code === 'ERR_UPSTREAM_UNREACHABLE';
    if (unreachable && now - checkedAt < MEMBERSHIP_STALE_MS) return grant;
    ctx.logger.warn({ event: 'access_groups_dropped', login: grant.user.login, sub: grant.user.sub, reason: err instanceof Error ? err.message : String(err) });
    return { ...grant, user: withGroups(grant.user, []) };
  }
}

function withGroups(user: UserIdentity, groups: string[]): UserIdentity {
  const { groups: _old, ...rest } = user;
  return groups.length > 0 ? { ...rest, groups } : rest;
}
