import type { ServiceSecrets } from '../deploy-secrets.js';
import { checkStackName, hashedKey } from './stack-names.js';

/** Where the runtimes look for a Docker secret (runtime/entrypoints/runtime-env.ts, secretReader). */
export const SECRETS_MOUNT = '/run/secrets';

/** One variable of one service (secrets/<service>.env in the compose target), as a Docker secret. */
export interface StackSecret {
  /** Its key in stack.yaml (`<service>-<what>-<content hash>`); the swarm object is `<project>_<key>`. */
  key: string;
  service: string;
  /** The contract's variable, e.g. MCPGW_SIGNING_KEYS. */
  variable: string;
  /** The raw value's file, relative to the deploy folder (written 0600). */
  file: string;
  /** The file name under /run/secrets: the variable in lowercase, where secretReader looks. */
  target: string;
  value: string;
}

/** Shorter words for the longest variables: a swarm secret's whole name, project prefix included, is at most 64 characters. */
const SHORT_NAMES: Readonly<Record<string, string>> = {
  MCPGW_GITHUB_CLIENT_SECRET: 'github-secret',
  MCPGW_OIDC_CLIENT_SECRET: 'oidc-secret',
  MCPGW_UPSTREAM_HEADERS: 'headers',
  MCPGW_UPSTREAM_OAUTH_SECRETS: 'oauth-secrets',
};

/**
 * Every secret of every service, one Docker secret each: a bridge's header values are its own
 * object, never mounted into another service, and the Redis password is two (redis's and
 * auth's), so removing one service's reference never touches another's.
 */
export function stackSecrets(project: string, secrets: ServiceSecrets): StackSecret[] {
  const result: StackSecret[] = [];
  for (const [service, entries] of secrets) {
    for (const [variable, value] of entries) {
      const target = variable.toLowerCase();
      const what = SHORT_NAMES[variable] ?? target.replace(/^mcpgw_/, '').replaceAll('_', '-');
      const key = hashedKey(`${service}-${what}`, value);
      checkStackName('secret', project, key, service.startsWith('bridge-') ? `the server name ${service.slice('bridge-'.length)}` : 'deploy.project');
      result.push({ key, service, variable, file: `secrets/${service}/${target}`, target, value });
    }
  }
  return result;
}
