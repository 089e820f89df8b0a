import type { ConnectionSummary } from '../../runtime/auth/admin/admin-types.js';
import { GatewayError } from '../../runtime/errors.js';
import { adminSessionArgs, withAdminSession, type AdminSessionDeps } from '../admin-session.js';
import { formatTable, printable } from '../text-table.js';
import { plural } from './clients.js';

export interface ConnectionsOptions {
  dir: string;
  url?: string | undefined;
  /** A login (case-insensitive) or a token subject. */
  user?: string | undefined;
  server?: string | undefined;
  json?: boolean | undefined;
}

type Deps = Partial<AdminSessionDeps>;

/** `mcp-gateway connections list`: users' grants at remote servers with their own OAuth, without tokens. */
export async function runConnectionsList(options: ConnectionsOptions, deps: Deps = {}): Promise<void> {
  const { output, sessionOptions, sessionDeps } = adminSessionArgs(options, deps);
  const connections = await withAdminSession(sessionOptions, sessionDeps, ({ admin }) => admin.listConnections({ user: options.user, server: options.server }));
  if (options.json) {
    output.stdout(`${JSON.stringify({ connections }, null, 2)}\n`);
    return;
  }
  output.stdout(connections.length === 0 ? 'No connections.\n' : connectionTable(connections));
}

/**
 * `mcp-gateway connections revoke --user LOGIN [--server NAME]`: ends a user's upstream grants,
 * revoked at the upstream (RFC 7009) when it can and forgotten here in any case; the user's next
 * request to that server asks them to authorize it again. A user is required: a forgotten flag
 * must not disconnect everyone.
 */
export async function runConnectionsRevoke(options: ConnectionsOptions, deps: Deps = {}): Promise<void> {
  const user = options.user;
  if (user === undefined || user.trim() === '') {
    throw new GatewayError('ERR_USAGE', 'connections revoke needs --user LOGIN', { hint: 'see `mcp-gateway connections list` for what there is to revoke' });
  }
  const { output, sessionOptions, sessionDeps } = adminSessionArgs(options, deps);
  const report = await withAdminSession(sessionOptions, sessionDeps, ({ admin }) => admin.revokeConnections({ user, server: options.server }));
  if (options.json) {
    output.stdout(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const lines = [`revoked ${plural(report.revoked.length, 'connection')}`];
  for (const entry of report.revoked) {
    const upstream = {
      revoked: 'revoked at the upstream',
      'no-endpoint': 'the upstream has no revocation endpoint: forgotten here',
      failed: 'the upstream did not confirm: forgotten here',
      skipped: 'forgotten here',
    }[entry.upstream];
    lines.push(
      `  ${printable(entry.server)} of ${printable(entry.user)}: ${upstream}${entry.failures.length > 0 ? ` (${entry.failures.map(printable).join('; ')})` : ''}`,
    );
  }
  output.stdout(`${lines.join('\n')}\n`);
}

function connectionTable(connections: readonly ConnectionSummary[]): string {
  return formatTable(
    ['USER', 'LOGIN', 'SERVER', 'ISSUER', 'SCOPE', 'GRANTED', 'EXPIRES', 'REFRESHABLE'],
    connections.map((c) => [
      printable(c.user),
      printable(c.logins.join(',') || '-'),
      printable(c.server),
      printable(c.issuer),
      printable(c.scope ?? '-'),
      c.grantedAt.slice(0, 19).replace('T', ' '),
      c.expiresAt === null ? '-' : c.expiresAt.slice(0, 19).replace('T', ' '),
      c.refreshable ? 'yes' : 'no',
    ]),
  );
}
