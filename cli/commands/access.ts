import { Option } from 'commander';
import type * as action from '../actions/access-check.js';
import { collect, dirOption, projectDir } from '../command-options.js';
import { defineCommand, type Flags } from '../command-spec.js';

/** `mcp-gateway access check`: what the per-tool access policy decides for a user, and which rule decides it. */
export const runAccessCheck: typeof action.runAccessCheck = async (...args) => (await import('../actions/access-check.js')).runAccessCheck(...args);

export const accessCommand = defineCommand({
  name: 'access',
  group: 'Servers',
  description: 'Ask the per-tool access policy (servers.NAME.tools / access) what it decides',
  subcommands: [
    defineCommand({
      name: 'check',
      description: 'Print whether a user may call a tool on a server, and the rule that decided (exit 0 allowed, 1 denied)',
      options: [
        dirOption(),
        new Option('--user <login>', 'the login (GitHub login, local user, or the OpenID Connect email / username)').makeOptionMandatory(),
        new Option('--org <org>', 'a GitHub organization the user is a member of (repeatable)').argParser(collect),
        new Option('--team <org/team>', 'a GitHub team the user is a member of, as org/team-slug (repeatable)').argParser(collect),
        new Option('--email <address>', "the user's verified email address (OpenID Connect emailDomains rules)"),
        new Option('--server <name>', 'the configured server').makeOptionMandatory(),
        new Option('--tool <name>', 'the tool name, as a client would send it').makeOptionMandatory(),
        new Option('--json', 'print one JSON document { allowed, loginAllowed, rule, ... } and nothing else on stdout'),
      ],
      notes: `Reads mcp-gateway.yaml only; no server is started, so a tool the server does not have is still "allowed"
if the rules allow its name. The answer is the one a running gateway gives for the same memberships; a real
login records only the organizations and teams the rules name. Names compare case- and Unicode-insensitively.`,
      examples: [
        'mcp-gateway access check --user alice --server fs --tool write_file',
        'mcp-gateway access check --user bob --team acme/readers --server fs --tool read_file --json',
      ],
      action: (_, flags: Flags<action.AccessCheckOptions>, { output }) =>
        runAccessCheck({ ...(flags as action.AccessCheckOptions), dir: projectDir(flags) }, { output }),
    }),
  ],
});
