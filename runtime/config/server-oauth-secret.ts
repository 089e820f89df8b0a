import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProjectPaths } from './project-paths.js';
import { type GatewayConfig, upstreamOAuthOf } from './schema.js';
import { readSecret, writeSecret } from './secrets.js';

/**
 * The secret of a client the operator registered at a remote server's own authorization server
 * (`servers.NAME.oauth.clientId`, `add-server --client-secret-env VAR`): one line in
 * `.secrets/servers/NAME.oauth-client-secret` (0600), never in the YAML.
 */
export function serverOAuthSecretPath(paths: ProjectPaths, name: string): string {
  return join(paths.secretsDir, 'servers', `${name}.oauth-client-secret`);
}

export async function writeServerOAuthSecret(paths: ProjectPaths, name: string, secret: string): Promise<void> {
  await writeSecret(serverOAuthSecretPath(paths, name), `${secret}\n`);
}

export async function removeServerOAuthSecret(paths: ProjectPaths, name: string): Promise<void> {
  await rm(serverOAuthSecretPath(paths, name), { force: true });
}

/** The client secret, or undefined for a public client (none was given). */
export async function readServerOAuthSecret(paths: ProjectPaths, name: string): Promise<string | undefined> {
  const text = await readSecret(serverOAuthSecretPath(paths, name));
  const secret = text?.trim();
  return secret === undefined || secret === '' ? undefined : secret;
}

/** Every pre-registered client's secret by server (servers.NAME.oauth.clientId with a secret file). */
export async function readUpstreamClientSecrets(config: GatewayConfig, paths: ProjectPaths): Promise<Map<string, string>> {
  const secrets = new Map<string, string>();
  for (const [name, server] of Object.entries(config.servers)) {
    if (!('url' in server) || upstreamOAuthOf(server)?.clientId === undefined) continue;
    const secret = await readServerOAuthSecret(paths, name);
    if (secret !== undefined) secrets.set(name, secret);
  }
  return secrets;
}
