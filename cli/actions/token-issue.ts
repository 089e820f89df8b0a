import { signAccessToken } from '../../runtime/auth/tokens/access-token.js';
import { policyFor } from '../../runtime/auth/auth-context.js';
import { admittingRule } from '../../runtime/auth/policy/user-policy.js';
import { gatewayUrls } from '../../runtime/auth/gateway-urls.js';
import { cliSubject } from '../../runtime/auth/upstream/user-subject.js';
import { loadKeySet } from '../../runtime/auth/tokens/signing-keys.js';
import { parseDuration, DURATION_HINT } from '../../runtime/config/duration.js';
import { loadConfig } from '../../runtime/config/load-config.js';
import { projectPaths } from '../../runtime/config/project-paths.js';
import { GatewayError } from '../../runtime/errors.js';
import { processOutput, type CliOutput } from '../output.js';

export interface TokenIssueOptions {
  dir: string;
  user: string;
  server: string;
  ttl: string;
  /** Print `{ token, tokenType, user, server, audience, expiresIn, expiresAt }` instead of the bare token. */
  json?: boolean | undefined;
}

/** The client id tokens minted by the CLI carry, so logs tell them from OAuth-issued ones. */
export const CLI_CLIENT_ID = 'mcp-gateway-cli';
const MAX_TTL_MS = 24 * 3_600_000;

/**
 * `mcp-gateway token issue`: signs an access token for one user and one server with the
 * project's key, without an OAuth flow (CI smoke checks). The token is the last line on stdout.
 */
export async function runTokenIssue(options: TokenIssueOptions, out: CliOutput = processOutput): Promise<void> {
  const ttlMs = parseDuration(options.ttl);
  if (ttlMs === undefined) throw new GatewayError('ERR_USAGE', `--ttl ${options.ttl} is not a duration`, { hint: DURATION_HINT });
  if (ttlMs > MAX_TTL_MS)
    throw new GatewayError('ERR_USAGE', `--ttl ${options.ttl} is longer than 24h`, {
      hint: 'tokens for smoke checks should be short-lived; use e.g. --ttl 15m',
    });
  const paths = projectPaths(options.dir);
  const config = await loadConfig(paths.dir);
  const urls = gatewayUrls(config);
  if (!urls.serverNames.includes(options.server)) {
    throw new GatewayError('ERR_SERVER_UNKNOWN', `no server named ${options.server}`, {
      hint:
        urls.serverNames.length > 0
          ? `configured servers: ${urls.serverNames.join(', ')}`
          : `add one with \`mcp-gateway add-server NAME --dir ${options.dir}\``,
    });
  }
  // The token carries no rule of its own, so /verify will admit it by the login's `user:` rule.
  if (!policyFor(config).hasRule(admittingRule({ login: options.user }))) {
    throw new GatewayError('ERR_USER_NOT_ALLOWED', `${options.user} is not on the allowlist, so the gateway would refuse the token`, {
      hint: `allowed users: ${config.allowedUsers.join(', ')}; add the login to allowedUsers in mcp-gateway.yaml`,
    });
  }
  const keys = await loadKeySet(paths.signingKeys);
  // The CLI cannot know which account holds the login: `cli:<login>`, never a provider's subject (user-subject.ts).
  const { token, expiresIn } = await signAccessToken(
    { sub: cliSubject(options.user), login: options.user, clientId: CLI_CLIENT_ID, audience: urls.resourceFor(options.server) },
    { keys, issuer: urls.issuer, ttlMs, now: Date.now() },
  );
  out.stderr(`token for ${options.user} on ${urls.resourceFor(options.server)}, expires in ${expiresIn} s\n`);
  if (!options.json) {
    out.stdout(`${token}\n`);
    return;
  }
  const issued = {
    token,
    tokenType: 'Bearer',
    user: options.user,
    server: options.server,
    audience: urls.resourceFor(options.server),
    expiresIn,
    expiresAt: new Date(Date.now() + expiresIn * 1000).toISOString(),
  };
  out.stdout(`${JSON.stringify(issued, null, 2)}\n`);
}
