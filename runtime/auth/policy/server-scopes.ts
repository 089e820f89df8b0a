import type { AuthContext } from '../auth-context.js';
import { OAuthError } from '../oauth-error.js';

/** The scopes configured for the server a resource URL names ([] when none are). */
export function scopesForResource(ctx: AuthContext, resource: string): string[] {
  const server = ctx.urls.serverForResource(resource);
  const config = server === undefined ? undefined : ctx.config.servers[server];
  return config && 'scopes' in config && config.scopes ? config.scopes : [];
}

/**
 * What an authorization request is granted (RFC 6749 §3.3: the server may grant fewer scopes
 * than asked). Scopes the server does not define are dropped; asking only for unknown ones is
 * `invalid_scope`; asking for none grants the server's scopes, which the consent page shows.
 * Servers without scopes grant none.
 */
export function grantedScope(ctx: AuthContext, resource: string, requested: string | undefined): string | undefined {
  const defined = scopesForResource(ctx, resource);
  if (defined.length === 0) return undefined;
  const asked = (requested ?? '').split(' ').filter((s) => s !== '');
  if (asked.length === 0) return defined.join(' ');
  const granted = [...new Set(asked.filter((s) => defined.includes(s)))];
  if (granted.length === 0) throw new OAuthError('invalid_scope', `none of the requested scopes exist for this server; it defines: ${defined.join(' ')}`);
  return granted.join(' ');
}
