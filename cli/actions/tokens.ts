import { GatewayError } from '../../runtime/errors.js';
import type { RevokeFilter } from '../../runtime/auth/admin/admin-types.js';
import { adminSessionArgs, withAdminSession, type AdminSessionDeps } from '../admin-session.js';
import { grantTable, plural } from './clients.js';

export interface TokensOptions {
  dir: string;
  url?: string | undefined;
  /** A login (case-insensitive) or a token subject. */
  user?: string | undefined;
  client?: string | undefined;
  json?: boolean | undefined;
}

export interface TokensRevokeOptions extends TokensOptions {
  family?: string | undefined;
}

type Deps = Partial<AdminSessionDeps>;

function filterOf(options: TokensRevokeOptions): RevokeFilter {
  return {
    user: options.user,
    client: options.client,
    family: options.family,
  };
}

/** `mcp-gateway tokens list`: the grants (token families) by user and client, active and revoked. */
export async function runTokensList(options: TokensOptions, deps: Deps = {}): Promise<void> {
  const { output, sessionOptions, sessionDeps } = adminSessionArgs(options, deps);
  const { family: _none, ...filter } = filterOf(options);
  const grants = await withAdminSession(sessionOptions, sessionDeps, ({ admin }) => admin.listGrants(filter));
  if (options.json) {
    output.stdout(`${JSON.stringify({ grants }, null, 2)}\n`);
    return;
  }
  output.stdout(grants.length === 0 ? 'No grants.\n' : grantTable(grants));
}

/**
 * `mcp-gateway tokens revoke`: every grant of a user, a client or one grant; their access tokens
 * are refused on the next request and their refresh tokens fail. A bare `tokens revoke` is a
 * usage error rather than "everything": a forgotten flag must not log every user out.
 */
export async function runTokensRevoke(options: TokensRevokeOptions, deps: Deps = {}): Promise<void> {
  const filter = filterOf(options);
  if (Object.values(filter).every((value) => value === undefined)) {
    throw new GatewayError('ERR_USAGE', 'tokens revoke needs --user LOGIN, --client ID or --family ID', {
      hint: 'see `mcp-gateway tokens list` for what there is to revoke',
    });
  }
  const { output, sessionOptions, sessionDeps } = adminSessionArgs(options, deps);
  const report = await withAdminSession(sessionOptions, sessionDeps, ({ admin }) => admin.revokeGrants(filter));
  if (options.json) {
    output.stdout(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const already = report.alreadyRevoked > 0 ? `; ${report.alreadyRevoked} more ${report.alreadyRevoked === 1 ? 'was' : 'were'} revoked already` : '';
  output.stdout(`revoked ${plural(report.revoked.length, 'grant')}${already}\n`);
}
