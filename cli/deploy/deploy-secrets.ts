import { randomBytes } from 'node:crypto';
import type { ProjectPaths } from '../../runtime/config/project-paths.js';
import type { GatewayConfig } from '../../runtime/config/schema.js';
import { readSecret, requireSecret, writeSecret } from '../../runtime/config/secrets.js';
import { readServerHeaders } from '../../runtime/config/server-headers.js';
import { loadOrCreateStateKey } from '../../runtime/config/state-key.js';
import { loadOrCreateAdminToken } from '../../runtime/config/admin-token.js';
import { loadOrCreateSessionKey } from '../../runtime/config/session-key.js';
import { GatewayError } from '../../runtime/errors.js';
import { githubSecretHint, requireGitHubClientId } from '../../runtime/config/github-client-id.js';
import type { DeployPlan } from './deploy-plan.js';
import { readUpstreamClientSecrets } from '../../runtime/config/server-oauth-secret.js';

/** `secrets/<service>.env` contents before formatting: variable name -> value, per service. */
export type ServiceSecrets = Map<string, Array<[name: string, value: string]>>;

/**
 * Reads what each service needs from the project's `.secrets/` (the contract's variables):
 * auth gets the signing keys, the state key, the Redis password, the admin API's token and the
 * login provider's client secret; redis its password; bridges of remote servers their header
 * values. The state key, the Redis password and the admin token are created (0600) the first
 * time, so they stay the same across renders.
 */
export async function collectServiceSecrets(config: GatewayConfig, paths: ProjectPaths, plan: DeployPlan): Promise<ServiceSecrets> {
  const signingKeys = await requireSecret(
    paths.signingKeys,
    'the token signing key file',
    'run `mcp-gateway init` in the project (with --force to keep the config), or `mcp-gateway keys rotate`',
  );
  const stateKey = Buffer.from(await loadOrCreateStateKey(paths.stateKey)).toString('base64url');
  const redisPassword = await loadOrCreateRedisPassword(paths.redisPassword);
  const adminToken = await loadOrCreateAdminToken(paths.adminToken);

  const auth: Array<[string, string]> = [
    ['MCPGW_SIGNING_KEYS', compactJson(signingKeys, paths.signingKeys)],
    ['MCPGW_STATE_KEY', stateKey],
    ['MCPGW_REDIS_PASSWORD', redisPassword],
    ['MCPGW_ADMIN_TOKEN', adminToken],
  ];
  if (config.provider.type === 'github') {
    requireGitHubClientId(config.provider, paths.dir);
    auth.push(['MCPGW_GITHUB_CLIENT_SECRET', await requireSecret(paths.githubClientSecret, 'the GitHub client secret', githubSecretHint(paths.dir))]);
  }
  if (config.provider.type === 'oidc') {
    const secret = await readSecret(paths.oidcClientSecret);
    if (secret !== undefined && secret !== '') auth.push(['MCPGW_OIDC_CLIENT_SECRET', secret]);
  }

  // Secrets of clients the operator registered at remote servers' own authorization servers (add-server --client-secret-env).
  const upstreamClientSecrets = await readUpstreamClientSecrets(config, paths);
  if (upstreamClientSecrets.size > 0) auth.push(['MCPGW_UPSTREAM_OAUTH_SECRETS', JSON.stringify(Object.fromEntries(upstreamClientSecrets))]);

  const secrets: ServiceSecrets = new Map([
    ['redis', [['REDIS_PASSWORD', redisPassword]]],
    ['auth', auth],
  ]);
  // The built-in router runs in every swarm and Kubernetes deployment (behind Traefik or an Ingress there).
  if (plan.router === 'builtin' || plan.target !== 'compose') secrets.set('router', [['MCPGW_SESSION_KEY', await loadOrCreateSessionKey(paths.sessionKey)]]);
  for (const bridge of plan.bridges) {
    const headers = await readServerHeaders(paths, bridge.server, bridge.upstreamHeaders);
    secrets.set(bridge.service, Object.keys(headers).length > 0 ? [['MCPGW_UPSTREAM_HEADERS', JSON.stringify(headers)]] : []);
  }
  return secrets;
}

/** Generated once into `.secrets/redis-password` (0600) and reused, so Redis and auth keep agreeing. */
export async function loadOrCreateRedisPassword(path: string): Promise<string> {
  const existing = await readSecret(path);
  if (existing !== undefined && existing !== '') return existing;
  const password = randomBytes(32).toString('hex');
  await writeSecret(path, `${password}\n`);
  return password;
}

function compactJson(text: string, path: string): string {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    throw new GatewayError('ERR_KEYS_INVALID', `${path} is not valid JSON`, {
      hint: 'restore it from a backup, or run `mcp-gateway init --force` to write a new key (issued tokens stop working)',
    });
  }
}

/**
 * One env file as compose reads it (docs.docker.com/compose/env-file): `KEY='value'`, single
 * quotes so nothing in the value is interpolated or unescaped. JSON values spell `'` as
 * `\u0027` (the same JSON); a plain secret with a quote, a line break or a trailing backslash
 * cannot be written this way and is refused rather than mangled.
 */
/** Secrets whose values are JSON, where a quote can be spelled `\\u0027`. */
const JSON_SECRETS = new Set(['MCPGW_SIGNING_KEYS', 'MCPGW_UPSTREAM_HEADERS', 'MCPGW_UPSTREAM_OAUTH_SECRETS']);

export function formatEnvFile(service: string, entries: ReadonlyArray<readonly [string, string]>): string {
  const lines = [`# Secrets of the ${service} service, written by \`mcp-gateway render\` (mode 0600). Values are single-quoted and literal.`];
  for (const [name, raw] of entries) {
    const value = JSON_SECRETS.has(name) ? raw.replace(/'/g, '\\u0027') : raw;
    if (/['\r\n]|\\$/.test(value)) {
      throw new GatewayError(
        'ERR_SECRET_UNSAFE',
        `the value of ${name} for ${service} contains a quote, a line break or a trailing backslash, which an env file cannot carry literally`,
        {
          hint: 'use a secret without those characters (the .secrets/ file it comes from), then render again',
        },
      );
    }
    lines.push(`${name}='${value}'`);
  }
  return `${lines.join('\n')}\n`;
}
