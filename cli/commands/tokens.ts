import { Option } from 'commander';
import type * as action from '../actions/tokens.js';
import { ADMIN_API_NOTE, adminUrlOption } from '../admin-options.js';
import { dirOption, projectDir } from '../command-options.js';
import { defineCommand, type Flags } from '../command-spec.js';

/** `mcp-gateway tokens list`: the grants (token families) by user and client, active and revoked. */
export const runTokensList: typeof action.runTokensList = async (...args) => (await import('../actions/tokens.js')).runTokensList(...args);

/** `mcp-gateway tokens revoke`: every grant of a user, a client, or one grant. */
export const runTokensRevoke: typeof action.runTokensRevoke = async (...args) => (await import('../actions/tokens.js')).runTokensRevoke(...args);

export const tokensCommand = defineCommand({
  name: 'tokens',
  group: 'Admin',
  description: "List and revoke grants: a login's refresh-token family and every access token issued from it",
  subcommands: [
    defineCommand({
      name: 'list',
      description: 'List grants (active and revoked) with user, client, resource, creation and last refresh',
      options: [
        dirOption(),
        adminUrlOption(),
        new Option('--user <login>', "only this user's grants (login, case-insensitive, or subject such as github:12345)"),
        new Option('--client <id>', "only this client's grants"),
        new Option('--json', 'print one JSON document { grants: [{ familyId, clientId, user, resource, createdAt, lastRefreshedAt, revoked, ... }] }'),
      ],
      notes: ADMIN_API_NOTE,
      examples: ['mcp-gateway tokens list --user alice', 'mcp-gateway tokens list --json | jq ".grants[] | select(.revoked | not)"'],
      action: (_, flags: Flags<action.TokensOptions>, { output }) => runTokensList({ ...flags, dir: projectDir(flags), json: flags.json === true }, { output }),
    }),
    defineCommand({
      name: 'revoke',
      description: 'Revoke grants by user, client or grant id: their access tokens are refused at once, their refresh tokens fail',
      options: [
        dirOption(),
        adminUrlOption(),
        new Option(
          '--user <login>',
          'every grant of this user (login, or subject such as github:12345: a renamed GitHub login may since belong to someone else)',
        ),
        new Option('--client <id>', 'every grant of this client (the client stays registered; see clients remove)'),
        new Option('--family <id>', 'one grant (the GRANT column of tokens list)'),
        new Option('--json', 'print one JSON document { revoked: [grant ids], alreadyRevoked }'),
      ],
      notes: `At least one of --user, --client, --family; several narrow each other. Tokens minted by \`token issue\`
belong to no grant: they expire on their own (--ttl, at most 24h), or end when the user leaves allowedUsers.

${ADMIN_API_NOTE}`,
      examples: ['mcp-gateway tokens revoke --user alice', 'mcp-gateway tokens revoke --client 3q2-x7Yb...', 'mcp-gateway tokens revoke --family Zk1...'],
      action: (_, flags: Flags<action.TokensRevokeOptions>, { output }) =>
        runTokensRevoke({ ...flags, dir: projectDir(flags), json: flags.json === true }, { output }),
    }),
  ],
});
