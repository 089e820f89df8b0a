import { groupsOfUser } from '../../runtime/access/access-groups.js';
import { createToolPolicy, groupsNamedBy } from '../../runtime/access/tool-policy.js';
import { policyFor } from '../../runtime/auth/auth-context.js';
import { loadConfig } from '../../runtime/config/load-config.js';
import type { GatewayConfig, MemberServerConfig } from '../../runtime/config/schema.js';
import { splitMemberName } from '../../runtime/aggregate/member-names.js';
import { GatewayError } from '../../runtime/errors.js';
import { processOutput, type CliOutput } from '../output.js';

export interface AccessCheckOptions {
  dir: string;
  user: string;
  org?: string[] | undefined;
  team?: string[] | undefined;
  email?: string | undefined;
  server: string;
  tool: string;
  json?: boolean | undefined;
}

/** The `access check --json` document. */
export interface AccessCheckResult {
  allowed: boolean;
  /** Whether the allowlist lets the user log in at all; false makes `allowed` false whatever the tool rules say. */
  loginAllowed: boolean;
  /** The allowlist rule that admits the user (`user:alice`, `team:acme/platform`), if any. */
  admittedBy: string | null;
  /** The config that decided about the tool (`servers.fs.tools.deny[0] "write_*"`, ...). */
  rule: string;
  user: string;
  server: string;
  tool: string;
  /** The memberships the rules name that were given (what a login would record). */
  groups: string[];
}

/**
 * The policy's answer for one user, server and tool, from the config alone: the allowlist first
 * (a user who cannot log in can call nothing), then the server's `tools.deny` and `access`,
 * exactly as the bridge decides (runtime/access/tool-policy.ts). Exit 1 when denied, so CI can
 * assert a policy: `mcp-gateway access check ... || exit 1`.
 */
export async function runAccessCheck(options: AccessCheckOptions, deps: { output?: CliOutput } = {}): Promise<AccessCheckResult> {
  const output = deps.output ?? processOutput;
  const config = await loadConfig(options.dir);
  const server = Object.hasOwn(config.servers, options.server) ? config.servers[options.server] : undefined;
  if (server === undefined) {
    const known = Object.keys(config.servers);
    throw new GatewayError('ERR_SERVER_UNKNOWN', `no server named ${options.server}`, {
      hint: known.length > 0 ? `configured servers: ${known.join(', ')}` : 'add one with mcp-gateway add-server',
    });
  }
  const teams = (options.team ?? []).map((team) => {
    const [org = '', slug = '', ...rest] = team.split('/');
    if (org === '' || slug === '' || rest.length > 0)
      throw new GatewayError('ERR_USAGE', `--team ${team} is not org/team-slug`, { hint: 'e.g. --team acme/readers' });
    return { org, slug };
  });
  const facts = {
    login: options.user,
    orgs: options.org ?? [],
    teams,
    ...(options.email === undefined ? {} : { email: options.email, emailVerified: true }),
  };
  const admittedBy = policyFor(config).match(facts) ?? null;
  // On an aggregate, `<member>__<tool>` is decided by the member's rules, as the gateway decides it.
  const target =
    'aggregate' in server ? memberTarget(config, options.server, server.aggregate, options.tool) : { name: options.server, server, tool: options.tool };
  const groups = groupsOfUser(facts, new Set(groupsNamedBy(target.server.access)));
  const decision = createToolPolicy(target.name, target.server).decide({ sub: '', login: options.user.toLowerCase(), groups }, target.tool);
  const result: AccessCheckResult = {
    allowed: admittedBy !== null && decision.allowed,
    loginAllowed: admittedBy !== null,
    admittedBy,
    rule: decision.rule,
    user: options.user,
    server: options.server,
    tool: options.tool,
    groups,
  };
  if (options.json) output.stdout(`${JSON.stringify(result, null, 2)}\n`);
  else output.stdout(formatResult(result));
  if (!result.allowed) {
    throw new GatewayError('ERR_ACCESS_DENIED', `${options.user} may not call ${JSON.stringify(options.tool)} on ${options.server}`, {
      hint: result.loginAllowed
        ? `the deciding rule: ${result.rule}`
        : 'the allowlist (allowedUsers, provider.orgs/teams/emailDomains) does not admit this user',
      reported: true,
    });
  }
  return result;
}

function formatResult(result: AccessCheckResult): string {
  const verdict = result.allowed ? 'allowed' : 'denied';
  const lines = [`${verdict}: ${result.user} ${result.allowed ? 'may' : 'may not'} call ${JSON.stringify(result.tool)} on ${result.server}`];
  lines.push(
    result.loginAllowed
      ? `login: admitted by ${result.admittedBy}`
      : 'login: not admitted by the allowlist (allowedUsers, provider.orgs/teams/emailDomains): cannot log in at all',
  );
  lines.push(`rule: ${result.rule}`);
  if (result.groups.length > 0) lines.push(`groups the rules name: ${result.groups.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

function memberTarget(
  config: GatewayConfig,
  aggregate: string,
  members: readonly string[],
  tool: string,
): { name: string; server: MemberServerConfig; tool: string } {
  const split = splitMemberName(tool);
  if (split === undefined || !members.includes(split.member)) {
    throw new GatewayError('ERR_USAGE', `${aggregate} is an aggregate: name the tool as <server>__<tool>, e.g. ${members[0]}__${tool}`, {
      hint: `its members: ${members.join(', ')}`,
    });
  }
  return { name: split.member, server: config.servers[split.member] as MemberServerConfig, tool: split.name };
}
