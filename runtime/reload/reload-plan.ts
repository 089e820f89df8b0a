import { isDeepStrictEqual } from 'node:util';
import type { GatewayConfig } from '../config/schema.js';
import { accessNeedsMembership } from '../access/access-groups.js';

/** What applying a new config to a running gateway means, worked out before anything changes. */
export interface ReloadPlan {
  /** Settings a running gateway cannot take over (its address, its store, its login provider): non-empty means refuse. */
  needsRestart: string[];
  added: string[];
  removed: string[];
  /** Servers whose entry changed: their service is replaced, so their sessions end; the others are untouched. */
  changed: string[];
  /** The allowlist (users, orgs, teams, email domains) changed. */
  allowlistChanged: boolean;
}

/** Top-level keys a running gateway takes over; any other key that changed needs a restart. */
const LIVE_KEYS = new Set<keyof GatewayConfig>([
  'servers',
  'allowedUsers',
  'allowedOrigins',
  'sandbox',
  'shutdownGrace',
  'version',
  'rateLimit',
  'audit',
  'admins',
]);

/** The provider's allowlist part; the rest (type, client id, URLs) shapes the upstream login built at start. */
function allowlistOf(provider: GatewayConfig['provider']): unknown {
  if (provider.type === 'github') return { orgs: provider.orgs, teams: provider.teams };
  if (provider.type === 'oidc') return { emailDomains: provider.emailDomains };
  return {};
}

function loginShapeOf(provider: GatewayConfig['provider']): unknown {
  // Org and team rules make the GitHub login ask for read:org, so going from none to some is a new login shape.
  if (provider.type === 'github') return { ...provider, orgs: undefined, teams: undefined, membership: provider.orgs.length + provider.teams.length > 0 };
  if (provider.type === 'oidc') return { ...provider, emailDomains: undefined };
  return provider;
}

export function planReload(current: GatewayConfig, next: GatewayConfig): ReloadPlan {
  const needsRestart: string[] = [];
  for (const key of new Set([...Object.keys(current), ...Object.keys(next)]) as Set<keyof GatewayConfig>) {
    if (LIVE_KEYS.has(key) || key === 'provider') continue;
    if (!isDeepStrictEqual(current[key], next[key])) needsRestart.push(key);
  }
  if (!isDeepStrictEqual(loginShapeOf(current.provider), loginShapeOf(next.provider))) needsRestart.push('provider');
  // Org and team rules in servers' access make the GitHub login ask for read:org too (create-upstream-login.ts).
  if (next.provider.type === 'github' && accessNeedsMembership(current) !== accessNeedsMembership(next)) {
    needsRestart.push('servers.*.access org/team rules (the GitHub login asks for read:org with them)');
  }
  // Origins are bound into every bridge's origin policy at creation: a change replaces all of them.
  // So are the top-level rate limit and audit settings, through every server's tool gate.
  const everyServer =
    !isDeepStrictEqual(current.allowedOrigins, next.allowedOrigins) ||
    current.sandbox !== next.sandbox ||
    !isDeepStrictEqual(current.rateLimit, next.rateLimit) ||
    !isDeepStrictEqual(current.audit, next.audit);
  const before = Object.keys(current.servers);
  const after = Object.keys(next.servers);
  const added = after.filter((name) => !Object.hasOwn(current.servers, name));
  const removed = before.filter((name) => !Object.hasOwn(next.servers, name));
  const changed = after.filter(
    (name) => Object.hasOwn(current.servers, name) && (everyServer || !isDeepStrictEqual(current.servers[name], next.servers[name])),
  );
  const allowlistChanged =
    !isDeepStrictEqual(current.allowedUsers, next.allowedUsers) || !isDeepStrictEqual(allowlistOf(current.provider), allowlistOf(next.provider));
  return { needsRestart, added, removed, changed, allowlistChanged };
}
