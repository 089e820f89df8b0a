import type { ClientDetail, GrantSummary } from '../../runtime/auth/admin/admin-types.js';
import { DURATION_HINT, parseDuration } from '../../runtime/config/duration.js';
import { GatewayError } from '../../runtime/errors.js';
import { adminSessionArgs, withAdminSession, type AdminSessionDeps } from '../admin-session.js';
import { formatTable, printable, shortTime } from '../text-table.js';

export interface ClientsOptions {
  dir: string;
  /** The gateway's admin API is reached here instead of its public URL. */
  url?: string | undefined;
  /** One JSON document on stdout, nothing else. */
  json?: boolean | undefined;
}

export interface ClientsPruneOptions extends ClientsOptions {
  unusedFor?: string | undefined;
  idleFor?: string | undefined;
  dryRun?: boolean | undefined;
}

type Deps = Partial<AdminSessionDeps>;

/** `mcp-gateway clients list`: the clients registered by dynamic registration (RFC 7591). */
export async function runClientsList(options: ClientsOptions, deps: Deps = {}): Promise<void> {
  const { output, sessionOptions, sessionDeps } = adminSessionArgs(options, deps);
  const clients = await withAdminSession(sessionOptions, sessionDeps, ({ admin }) => admin.listClients());
  if (options.json) {
    output.stdout(`${JSON.stringify({ clients }, null, 2)}\n`);
    return;
  }
  if (clients.length === 0) {
    output.stdout('No registered clients.\n');
    return;
  }
  output.stdout(
    formatTable(
      ['CLIENT ID', 'NAME', 'REGISTERED', 'LAST USED', 'GRANTS', 'REDIRECT URIS'],
      clients.map((c) => [
        c.clientId,
        c.clientName ?? '-',
        shortTime(c.registeredAt),
        shortTime(c.lastUsedAt),
        String(c.activeGrants),
        c.redirectUris.join(' '),
      ]),
    ),
  );
}

/** `mcp-gateway clients show ID`: one client with its grants. */
export async function runClientsShow(options: ClientsOptions & { clientId: string }, deps: Deps = {}): Promise<void> {
  const { output, sessionOptions, sessionDeps } = adminSessionArgs(options, deps);
  const client = await withAdminSession(sessionOptions, sessionDeps, ({ admin }) => admin.showClient(options.clientId));
  if (options.json) {
    output.stdout(`${JSON.stringify({ client }, null, 2)}\n`);
    return;
  }
  output.stdout(describeClient(client));
}

/** `mcp-gateway clients remove ID`: revokes every grant of the client, then forgets it (RFC 7592 DELETE by the operator). */
export async function runClientsRemove(options: ClientsOptions & { clientId: string }, deps: Deps = {}): Promise<void> {
  const { output, sessionOptions, sessionDeps } = adminSessionArgs(options, deps);
  const removed = await withAdminSession(sessionOptions, sessionDeps, ({ admin }) => admin.removeClient(options.clientId));
  if (options.json) {
    output.stdout(`${JSON.stringify({ removed }, null, 2)}\n`);
    return;
  }
  output.stdout(
    `removed client ${removed.clientId}${removed.clientName ? ` (${printable(removed.clientName)})` : ''}; revoked ${plural(removed.revokedGrants, 'grant')}\n`,
  );
}

/** `mcp-gateway clients prune`: clients never used, or idle, for longer than given (default: the config's reaping lifetimes). */
export async function runClientsPrune(options: ClientsPruneOptions, deps: Deps = {}): Promise<void> {
  const { output, sessionOptions, sessionDeps } = adminSessionArgs(options, deps);
  const unusedForMs = durationOption('--unused-for', options.unusedFor);
  const idleForMs = durationOption('--idle-for', options.idleFor);
  const report = await withAdminSession(sessionOptions, sessionDeps, ({ admin }) =>
    admin.pruneClients({
      unusedForMs,
      idleForMs,
      dryRun: options.dryRun === true,
    }),
  );
  if (options.json) {
    output.stdout(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const verb = report.dryRun ? 'would remove' : 'removed';
  if (report.clients.length === 0) {
    output.stdout(`Nothing to prune: no client unused for ${formatMs(report.unusedForMs)} or idle for ${formatMs(report.idleForMs)}.\n`);
    return;
  }
  const lines = report.clients.map(
    (c) =>
      `${verb} ${c.clientId}${c.clientName ? ` (${printable(c.clientName)})` : ''}: ${c.reason === 'unused' ? `never used, registered ${shortTime(c.registeredAt)}` : `last used ${shortTime(c.lastUsedAt)}`}${report.dryRun ? '' : `; revoked ${plural(c.revokedGrants, 'grant')}`}`,
  );
  lines.push(`${report.dryRun ? 'Dry run: nothing was removed' : `${plural(report.clients.length, 'client')} removed`}.`);
  output.stdout(`${lines.join('\n')}\n`);
}

function describeClient(c: ClientDetail): string {
  const lines = [
    `client ${c.clientId}`,
    `  name            ${printable(c.clientName ?? '-')}`,
    ...(c.clientUri ? [`  uri             ${printable(c.clientUri)}`] : []),
    `  redirect URIs   ${printable(c.redirectUris.join(' '), 2_000)}`,
    `  authentication  ${c.tokenEndpointAuthMethod}`,
    `  grant types     ${c.grantTypes.join(' ')}`,
    ...(c.scope ? [`  scope           ${printable(c.scope)}`] : []),
    `  registered      ${shortTime(c.registeredAt)}`,
    `  last used       ${shortTime(c.lastUsedAt)}`,
    `  active grants   ${c.activeGrants}`,
    '',
  ];
  return `${lines.join('\n')}\n${c.grants.length === 0 ? 'No grants.\n' : grantTable(c.grants)}`;
}

/** The table of `tokens list` and `clients show`. */
export function grantTable(grants: readonly GrantSummary[]): string {
  return formatTable(
    ['GRANT', 'USER', 'CLIENT', 'RESOURCE', 'CREATED', 'LAST REFRESHED', 'STATUS'],
    grants.map((g) => [
      g.familyId,
      g.user ?? g.sub ?? '-',
      g.clientId ?? '-',
      g.resource ?? '-',
      shortTime(g.createdAt),
      shortTime(g.lastRefreshedAt),
      g.revoked ? `revoked ${shortTime(g.revokedAt)}` : 'active',
    ]),
  );
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function durationOption(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined) throw new GatewayError('ERR_USAGE', `${flag} ${text} is not a duration`, { hint: DURATION_HINT });
  return ms;
}

function formatMs(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
  ] as const)
    if (ms % size === 0) return `${ms / size}${unit}`;
  return `${Math.round(ms / 1000)}s`;
}
