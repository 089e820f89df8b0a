import { resolve, join } from 'node:path';

export const CONFIG_FILE_NAME = 'mcp-gateway.yaml';

/** Where everything of one gateway lives: the YAML, the secrets (0700 dir, 0600 files), the embedded state. */
export interface ProjectPaths {
  dir: string;
  configFile: string;
  secretsDir: string;
  githubClientSecret: string;
  /** The GitHub App's private key and webhook secret, stored by `github register` (unused by the gateway so far). */
  githubAppPrivateKey: string;
  githubWebhookSecret: string;
  signingKeys: string;
  redisPassword: string;
  oidcClientSecret: string;
  stateKey: string;
  /** Bearer secret of the admin API (`mcp-gateway clients`, `tokens`, `smoke`). */
  adminToken: string;
  /** The built-in router's key for session ids (runtime/config/session-key.ts). */
  sessionKey: string;
  stateDir: string;
  gitignore: string;
}

export function projectPaths(dir: string): ProjectPaths {
  const root = resolve(dir);
  const secretsDir = join(root, '.secrets');
  return {
    dir: root,
    configFile: join(root, CONFIG_FILE_NAME),
    secretsDir,
    githubClientSecret: join(secretsDir, 'github-client-secret'),
    githubAppPrivateKey: join(secretsDir, 'github-app.pem'),
    githubWebhookSecret: join(secretsDir, 'github-webhook-secret'),
    signingKeys: join(secretsDir, 'signing-keys.json'),
    redisPassword: join(secretsDir, 'redis-password'),
    oidcClientSecret: join(secretsDir, 'oidc-client-secret'),
    stateKey: join(secretsDir, 'state-key'),
    adminToken: join(secretsDir, 'admin-token'),
    sessionKey: join(secretsDir, 'session-key'),
    stateDir: join(root, '.mcp-gateway'),
    gitignore: join(root, '.gitignore'),
  };
}
