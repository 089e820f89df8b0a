import { GatewayError } from '../../runtime/errors.js';
import { withAdminSession, type AdminSessionDeps } from '../admin-session.js';
import { processOutput } from '../output.js';
import { grantTable, plural } from './clients.js';

export interface TokensOptions {
  dir: string;
  url?: string;
  /** A login (case-insensitive) or a token subject. */
  user?: string;
  client?: string;
  json?: boolean;
}

export interface TokensRevokeOptions extends TokensOptions {
  family?: string;
}

type Deps = Partial<AdminSessionDeps>;

function sessionArgs(options: TokensOptions, deps: Deps) {
  const output = deps.output ?? processOutput;
  return {
    output,
    sessionOptions: { dir: options.dir, ...(options.url === undefined ? {} : { url: options.url }) },
    sessionDeps: { output, ...(deps.fetch ? { fetch: deps.fetch } : {}) },
  };
}

function filterOf(options: TokensRevokeOptions): { user?: string; client?: string; family?: string } {
  return {
    ...(options.user === undefined ? {} : { user: options.user }),
    ...(options.client === undefined ? {} : { client: options.client }),
    ...(options.family === undefined ? {} : { family: options.family }),
  };
}

/** `mcp-gateway tokens list`: the grants (token families) by user and client, active and revoked. */
export async function runTokensList(options: TokensOptions, deps: Deps = {}): Promise<void> {
  const { output, sessionOptions, sessionDeps } = sessionArgs(options, deps);
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
  if (Object.keys(filter).length === 0) {
    throw new GatewayError('ERR_USAGE', 'tokens revoke needs --user LOGIN, --client ID or --family ID', {
      hint: 'see `mcp-gateway tokens list` for what there is to revoke',
    });
  }
  const { output, sessionOptions, sessionDeps } = sessionArgs(options, deps);
  const report = await withAdminSession(sessionOptions, sessionDeps, ({ admin }) => admin.revokeGrants(filter));
  if (options.json) {
    output.stdout(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const already = report.alreadyRevoked > 0 ? `; ${report.alreadyRevoked} more ${report.alreadyRevoked === 1 ? 'was' : 'were'} revoked already` : '';
  output.stdout(`revoked ${plural(report.revoked.length, 'grant')}${already}\n`);
}
