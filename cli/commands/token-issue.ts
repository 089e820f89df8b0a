import { Option } from 'commander';
import type * as action from '../actions/token-issue.js';
import { dirOption, jsonOption, projectDir } from '../command-options.js';
import { defineCommand, type Flags } from '../command-spec.js';

/** `mcp-gateway token issue`: a bearer token for one server's endpoint, signed with the project's key. */
export const runTokenIssue: typeof action.runTokenIssue = async (...args) => (await import('../actions/token-issue.js')).runTokenIssue(...args);

const DEFAULT_TTL = '15m';

export const tokenCommand = defineCommand({
  name: 'token',
  group: 'Admin',
  description: 'Issue bearer tokens without a browser login',
  subcommands: [
    defineCommand({
      name: 'issue',
      description: "Print a bearer token that NAME's endpoint accepts, for CI smoke checks",
      options: [
        dirOption(),
        new Option('--user <login>', 'the login the token is issued to (must be an allowed user)').makeOptionMandatory(),
        new Option('--server <name>', 'the server whose endpoint the token is for (its audience)').makeOptionMandatory(),
        new Option('--ttl <duration>', 'lifetime, e.g. 90s, 15m, 1h').default(DEFAULT_TTL),
        jsonOption('{ token, tokenType, user, server, audience, expiresIn, expiresAt }'),
      ],
      notes: 'Only the token goes to stdout (what it is for goes to stderr), so a script can capture it.',
      examples: ['TOKEN=$(mcp-gateway token issue --user alice --server time --ttl 5m)', 'curl -H "Authorization: Bearer $TOKEN" ...'],
      // commander has refused the call unless --user and --server were given; --ttl has a default.
      action: (_, flags: Required<Flags<action.TokenIssueOptions>>, { output }) => runTokenIssue({ ...flags, dir: projectDir(flags) }, output),
    }),
  ],
});
