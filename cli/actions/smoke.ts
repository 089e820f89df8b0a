import { describeFetchError } from '../admin/admin-http-client.js';
import { signAccessToken } from '../../runtime/auth/tokens/access-token.js';
import { policyFor } from '../../runtime/auth/auth-context.js';
import { admittingRule } from '../../runtime/auth/policy/user-policy.js';
import { gatewayUrls } from '../../runtime/auth/gateway-urls.js';
import { cliSubject } from '../../runtime/auth/upstream/user-subject.js';
import { loadKeySet } from '../../runtime/auth/tokens/signing-keys.js';
import { DURATION_HINT, parseDuration } from '../../runtime/config/duration.js';
import { loadConfig } from '../../runtime/config/load-config.js';
import { projectPaths } from '../../runtime/config/project-paths.js';
import type { GatewayConfig } from '../../runtime/config/schema.js';
import { dockerDeployment, type DockerDeployment } from '../deploy/docker-deployment.js';
import { GatewayError } from '../../runtime/errors.js';
import { withAdminSession } from '../admin-session.js';
import { dirArg } from '../dir-arg.js';
import { processOutput, type CliOutput } from '../output.js';
import { checkAuthorizationServer, smokeServer, type ServerSmokeReport, type SmokeCheck, type SmokeTarget } from '../smoke-checks.js';
import { printable } from '../text-table.js';

export interface SmokeOptions {
  dir: string;
  /** Where the gateway is reached when not at its public URL (a Docker router on 127.0.0.1, a tunnel). */
  url?: string | undefined;
  /** Who the tokens are for; default: the first allowed user. */
  user?: string | undefined;
  /** Per request; default 30s. */
  timeout?: string | undefined;
  json?: boolean | undefined;
}

export interface SmokeDeps {
  output: CliOutput;
  fetch: typeof fetch;
}

/** The `smoke --json` document. */
export interface SmokeReport {
  ok: boolean;
  /** Where the gateway was reached. */
  gateway: string;
  issuer: string;
  user: string;
  servers: ServerSmokeReport[];
  /** Servers that failed a check. */
  failed: string[];
  /** Whether the tokens smoke minted were revoked at the end (through the admin API). */
  tokensRevoked: boolean;
}

/** The client id smoke tokens carry, so the audit log tells them from real clients. */
export const SMOKE_CLIENT_ID = 'mcp-gateway-smoke';
/** Long enough for a slow server's first start, short enough not to matter if revocation fails. */
const TOKEN_TTL_MS = 5 * 60_000;

/**
 * `mcp-gateway smoke`: what a CI job runs after a deploy. For every server, the checks of
 * smoke-checks.ts with a token minted from the project's signing key (like `token issue`),
 * which is revoked at the end. Exits 1 naming each server that failed.
 */
export async function runSmoke(options: SmokeOptions, deps: Partial<SmokeDeps> = {}): Promise<SmokeReport> {
  const output = deps.output ?? processOutput;
  const fetchImpl = deps.fetch ?? fetch;
  const paths = projectPaths(options.dir);
  const config = await loadConfig(paths.dir);
  const urls = gatewayUrls(config);
  if (urls.serverNames.length === 0) {
    throw new GatewayError('ERR_USAGE', 'no servers configured, so there is nothing to check', {
      hint: `add one with \`mcp-gateway add-server NAME${dirArg(paths.dir)}\``,
    });
  }
  const timeoutMs = timeoutOption(options.timeout);
  const user = smokeUser(config, options.user);
  const base = (options.url ?? urls.issuer).replace(/\/+$/, '');
  assertUrl(base);
  const reachAt = (url: string): string => (url.startsWith(`${urls.issuer}/`) || url === urls.issuer ? `${base}${url.slice(urls.issuer.length)}` : url);
  const target: SmokeTarget = { urls, reachAt, timeoutMs, fetch: fetchImpl };

  const docker = await dockerDeployment(config, paths);
  await expectGatewayAnswers(target, base, docker);
  const keys = await loadKeySet(paths.signingKeys);
  const issued: Array<{ jti: string; expiresAt: number }> = [];
  let asCheck: Promise<SmokeCheck> | undefined;
  const asMetadata = (issuer: string): Promise<SmokeCheck> => (asCheck ??= checkAuthorizationServer(target, issuer));

  const servers: ServerSmokeReport[] = [];
  for (const server of urls.serverNames) {
    const serverConfig = config.servers[server]!;
    const scopes = 'scopes' in serverConfig && serverConfig.scopes ? serverConfig.scopes : [];
    const now = Date.now();
    const { token, jti, expiresIn } = await signAccessToken(
      {
        sub: cliSubject(user),
        login: user,
        clientId: SMOKE_CLIENT_ID,
        audience: urls.resourceFor(server),
        ...(scopes.length > 0 ? { scope: scopes.join(' ') } : {}),
      },
      { keys, issuer: urls.issuer, ttlMs: TOKEN_TTL_MS, now },
    );
    issued.push({ jti, expiresAt: Math.floor(now / 1000) * 1000 + expiresIn * 1000 });
    servers.push(await smokeServer(target, server, token, asMetadata, { upstreamOAuth: 'url' in serverConfig && serverConfig.oauth !== undefined }));
  }

  const tokensRevoked = await revokeTokens(options, output, issued);
  const failed = servers.filter((s) => !s.ok).map((s) => s.server);
  const report: SmokeReport = { ok: failed.length === 0, gateway: base, issuer: urls.issuer, user, servers, failed, tokensRevoked };
  output.stdout(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  if (failed.length > 0) {
    throw new GatewayError('ERR_SMOKE_FAILED', `smoke check failed for ${failed.join(', ')}`, {
      hint: 'the report lists the checks that failed; `mcp-gateway doctor` checks each server command, and the gateway log says why a request failed',
      reported: true,
    });
  }
  return report;
}

/** One request before the checks, so "nothing listens there" is one clear line instead of a failure per check. */
async function expectGatewayAnswers(target: SmokeTarget, base: string, docker: DockerDeployment | undefined): Promise<void> {
  try {
    const res = await target.fetch(target.reachAt(`${target.urls.issuer}/.well-known/oauth-authorization-server`), {
      redirect: 'manual',
      signal: AbortSignal.timeout(target.timeoutMs),
    });
    await res.arrayBuffer();
  } catch (err) {
    throw new GatewayError(
      'ERR_GATEWAY_UNREACHABLE',
      `no ${docker ? `router of the Docker deployment (${docker.reason})` : 'gateway'} answers at ${base}: ${describeFetchError(err)}`,
      {
        hint: docker?.reachHint ?? 'start it (`mcp-gateway serve`, or `mcp-gateway up` for Docker), or pass --url with the address the gateway is reached at',
        cause: err,
      },
    );
  }
}

async function revokeTokens(options: SmokeOptions, output: CliOutput, issued: ReadonlyArray<{ jti: string; expiresAt: number }>): Promise<boolean> {
  const quiet: CliOutput = { stdout: () => {}, stderr: () => {} };
  try {
    await withAdminSession({ dir: options.dir, url: options.url }, { output: quiet }, async ({ admin }) => {
      for (const token of issued) await admin.revokeAccessToken(token.jti, token.expiresAt);
    });
    return true;
  } catch (err) {
    output.stderr(
      `warning: could not revoke the smoke tokens (${err instanceof Error ? err.message : String(err)}); they expire within ${TOKEN_TTL_MS / 60_000} minutes\n`,
    );
    return false;
  }
}

function smokeUser(config: GatewayConfig, user: string | undefined): string {
  const chosen = user ?? (config.provider.type === 'local' ? config.provider.user : config.allowedUsers[0]);
  if (chosen === undefined) {
    throw new GatewayError('ERR_USAGE', 'smoke needs --user LOGIN: allowedUsers is empty (users are admitted by organization, team or domain)', {
      hint: 'name an allowed login, and add it to allowedUsers: tokens minted by the CLI carry no organization or team membership',
    });
  }
  if (!policyFor(config).hasRule(admittingRule({ login: chosen }))) {
    throw new GatewayError('ERR_USER_NOT_ALLOWED', `${chosen} is not on the allowlist, so the gateway would refuse the smoke tokens`, {
      hint: `allowed users: ${config.allowedUsers.join(', ') || '(none)'}; add the login to allowedUsers in mcp-gateway.yaml`,
    });
  }
  return chosen;
}

function timeoutOption(text: string | undefined): number {
  if (text === undefined) return 30_000;
  const ms = parseDuration(text);
  if (ms === undefined) throw new GatewayError('ERR_USAGE', `--timeout ${text} is not a duration`, { hint: DURATION_HINT });
  return ms;
}

function assertUrl(url: string): void {
  try {
    new URL(url);
  } catch {
    throw new GatewayError('ERR_USAGE', `--url ${url} is not a URL`, { hint: 'e.g. --url http://127.0.0.1:8080' });
  }
}

function formatReport(report: SmokeReport): string {
  const width = Math.max(...report.servers.map((s) => s.server.length));
  const lines = [`smoke check of ${report.gateway} (issuer ${report.issuer}) as ${report.user}`];
  for (const s of report.servers) {
    const tools = s.tools === null ? '' : `  ${s.tools} tool${s.tools === 1 ? '' : 's'}`;
    lines.push(`  ${s.ok ? 'ok  ' : 'FAIL'}  ${s.server.padEnd(width)}  ${s.endpoint}${tools}`);
    for (const c of s.checks) if (!c.ok) lines.push(`        ${c.check}: ${printable(c.detail, 500)}`);
  }
  lines.push(report.tokensRevoked ? 'The smoke tokens are revoked.' : 'The smoke tokens could not be revoked; they expire within 5 minutes.');
  lines.push(
    report.ok ? (report.servers.length === 1 ? 'The server passed.' : `All ${report.servers.length} servers passed.`) : `Failed: ${report.failed.join(', ')}`,
  );
  return `${lines.join('\n')}\n`;
}
