import { Option } from 'commander';
import type * as action from '../actions/connections.js';
import { ADMIN_API_NOTE, adminUrlOption } from '../admin-options.js';
import { dirOption, projectDir } from '../command-options.js';
import { defineCommand, type Flags } from '../command-spec.js';

/** `mcp-gateway connections list`: users' grants at remote servers with their own OAuth. */
export const runConnectionsList: typeof action.runConnectionsList = async (...args) => (await import('../actions/connections.js')).runConnectionsList(...args);

/** `mcp-gateway connections revoke`: ends a user's upstream grants. */
export const runConnectionsRevoke: typeof action.runConnectionsRevoke = async (...args) =>
  (await import('../actions/connections.js')).runConnectionsRevoke(...args);

const userOption = (what: string): Option => new Option('--user <login>', `${what} (login, case-insensitive, or subject such as github:12345)`);
const serverOption = (): Option => new Option('--server <name>', 'only this remote server');

export const connectionsCommand = defineCommand({
  name: 'connections',
  group: 'Admin',
  description: "List and revoke users' grants at remote servers with their own OAuth (add-server --oauth)",
  subcommands: [
    defineCommand({
      name: 'list',
      description: 'List the upstream grants the gateway holds: user, server, issuer, scope, expiry; never a token',
      options: [
        dirOption(),
        adminUrlOption(),
        userOption("only this user's connections"),
        serverOption(),
        new Option(
          '--json',
          'print one JSON document { connections: [{ user, logins, server, issuer, scope, grantedAt, expiresAt, refreshedAt, refreshable }] }',
        ),
      ],
      notes: ADMIN_API_NOTE,
      examples: ['mcp-gateway connections list', 'mcp-gateway connections list --user alice --json'],
      action: (_, flags: Flags<action.ConnectionsOptions>, { output }) =>
        runConnectionsList({ ...flags, dir: projectDir(flags), json: flags.json === true }, { output }),
    }),
    defineCommand({
      name: 'revoke',
      description: "End a user's upstream grants: revoked at the upstream when it supports RFC 7009, forgotten here in any case",
      options: [
        dirOption(),
        adminUrlOption(),
        userOption('whose connections (required)'),
        serverOption(),
        new Option('--json', 'print one JSON document { revoked: [{ user, server, upstream, failures }] }'),
      ],
      notes: `The user's next request to that server is refused with a challenge: their MCP client authorizes
again, which sends them through the upstream's consent once more.

${ADMIN_API_NOTE}`,
      examples: ['mcp-gateway connections revoke --user alice', 'mcp-gateway connections revoke --user alice --server linear'],
      action: (_, flags: Flags<action.ConnectionsOptions>, { output }) =>
        runConnectionsRevoke({ ...flags, dir: projectDir(flags), json: flags.json === true }, { output }),
    }),
  ],
});
