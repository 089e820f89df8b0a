import { readFile, rm } from 'node:fs/promises';
import { relative } from 'node:path';
import { checkConfig } from '../../runtime/config/load-config.js';
import { withProjectLock } from '../../runtime/config/project-lock.js';
import type { ProjectPaths } from '../../runtime/config/project-paths.js';
import type { GatewayConfig } from '../../runtime/config/schema.js';
import { writeSecret } from '../../runtime/config/secrets.js';
import { editConfig } from '../../runtime/config/edit-config.js';

export interface GitHubCredentials {
  clientId: string;
  clientSecret: string;
  /** github.com or the Enterprise Server base URL (`provider.url`). */
  githubUrl: string;
  /** A GitHub App's private key and webhook secret (the manifest flow returns them; an OAuth app has none). */
  privateKey?: string;
  webhookSecret?: string | null;
}

/**
 * Stores a registered app: the secrets in `.secrets/` (0600), then the client id and GitHub URL in
 * mcp-gateway.yaml, last, because the config is what makes the project use them. The new config
 * is validated before anything is written, and if a write fails the secrets already replaced are
 * put back, so a failure never leaves a config and a secret of two different apps.
 * Returns the project-relative paths written.
 */
export async function saveGitHubCredentials(paths: ProjectPaths, config: GatewayConfig, credentials: GitHubCredentials): Promise<string[]> {
  if (config.provider.type !== 'github') throw new TypeError('the config has no GitHub provider');
  // The browser flow takes minutes: the config is read again under the lock, so a server added
  // meanwhile is kept.
  return withProjectLock(paths.dir, () => writeCredentials(paths, credentials));
}

async function writeCredentials(paths: ProjectPaths, credentials: GitHubCredentials): Promise<string[]> {
  const secrets: Array<[path: string, value: string]> = [[paths.githubClientSecret, credentials.clientSecret]];
  if (credentials.privateKey !== undefined) secrets.push([paths.githubAppPrivateKey, credentials.privateKey]);
  if (credentials.webhookSecret) secrets.push([paths.githubWebhookSecret, credentials.webhookSecret]);

  const previous = new Map<string, string | undefined>();
  for (const [path] of secrets) previous.set(path, await readIfPresent(path));
  try {
    await editConfig(paths.dir, async (document, current) => {
      if (current.provider.type !== 'github') throw new TypeError('the config has no GitHub provider');
      document.setIn(['provider', 'clientId'], credentials.clientId);
      document.setIn(['provider', 'url'], credentials.githubUrl);
      checkConfig(document.toJS(), 'the configuration to write', paths.dir);
      for (const [path, value] of secrets) await writeSecret(path, value.endsWith('\n') ? value : `${value}\n`);
    });
  } catch (err) {
    for (const [path, old] of previous) {
      await (old === undefined ? rm(path, { force: true }) : writeSecret(path, old)).catch(() => undefined);
    }
    throw err;
  }
  return [...secrets.map(([path]) => relative(paths.dir, path)), relative(paths.dir, paths.configFile)];
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
