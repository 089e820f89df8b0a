import type { GatewayConfig } from '../../config/schema.js';
import { sha256Base64url } from '../crypto-helpers.js';
import type { UserIdentity } from '../tokens/grants.js';

/**
 * The user's subject: the token `sub`, the X-User-Sub header (bridges bind sessions to it), the
 * key of remembered consents and of the grant index. It names the provider's immutable account
 * id, never a login: GitHub lets users rename themselves and hands a freed login to whoever
 * claims it next, so a login-keyed subject gave the new holder the old user's sessions and
 * consents. Each provider has its own prefix, so ids cannot collide across providers. The login
 * stays beside it (claim `login`, X-User-Login) for people, audit lines and the allowlist.
 */

/** GitHub's numeric user id (`id` of `GET /user`), which survives renames and is never reassigned. */
export function githubSubject(id: number): string {
  return `github:${id}`;
}

/**
 * OIDC Core §5.7: `sub` is unique only within its issuer, so both go in. Hashed: fixed length and
 * header-safe whatever characters the provider puts in its `sub` (up to 255 of them).
 */
export function oidcSubject(issuer: string, sub: string): string {
  return `oidc:${sha256Base64url(JSON.stringify([issuer, sub]))}`;
}

/** The local provider has one user, the one the operator configured (`provider.user`). */
export function localSubject(user: string): string {
  return `local:${user.toLowerCase()}`;
}

/**
 * Tokens minted by `mcp-gateway token issue` and `smoke`: the CLI knows only a login, not who
 * holds it at the provider, so these get a namespace of their own and never share a session or
 * a consent with a real account.
 */
export function cliSubject(login: string): string {
  return `cli:${login.toLowerCase()}`;
}

/**
 * Before subjects were ids, a GitHub or local subject was the login lowercased. Logins have no
 * `:` (GitHub's rule, and the config's for the local user) while every subject issued since has
 * a `provider:` prefix, so the two can never be confused. (Old OpenID Connect subjects,
 * `oidc:<sub>`, were already the provider's immutable id and keep working as they are.)
 */
export function isLoginSubject(sub: string): boolean {
  return !sub.includes(':');
}

/**
 * A grant issued to a login-keyed subject, moved to the id the login belonged to when the grant
 * was issued: GitHub grants recorded GitHub's numeric id (`uid`) from `GET /user` at that login,
 * and the local provider's only user is the configured one. Anything else cannot be tied to an
 * account: undefined, and the caller asks the user to log in again.
 */
export function upgradeLoginSubject(user: UserIdentity, provider: GatewayConfig['provider']): UserIdentity | undefined {
  if (!isLoginSubject(user.sub)) return user;
  if (provider.type === 'github' && user.uid !== undefined) return { ...user, sub: githubSubject(user.uid) };
  // A `uid` means GitHub issued it: a GitHub account is not the local user, even under the same name.
  if (provider.type === 'local' && user.uid === undefined && user.sub === provider.user.toLowerCase()) return { ...user, sub: localSubject(provider.user) };
  return undefined;
}
