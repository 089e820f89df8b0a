import type { GitHubProviderConfig } from './schema.js';
import { GatewayError } from '../errors.js';

/**
 * `init` may write a GitHub provider before any GitHub app exists (the app is created next, by
 * `mcp-gateway github register`). Everything that would log users in stops here with the fix,
 * instead of sending them to GitHub with no client id.
 */
export function requireGitHubClientId(provider: GitHubProviderConfig, dir?: string): string {
  if (provider.clientId !== undefined && provider.clientId !== '') return provider.clientId;
  const flag = dirFlag(dir);
  throw new GatewayError('ERR_CONFIG_INVALID', 'provider.clientId is not set: no GitHub app is registered for this gateway yet', {
    hint: `run \`mcp-gateway github register${flag}\` to create one (or \`mcp-gateway github register${flag} --manual\` for an OAuth app you create yourself)`,
  });
}

/** What to run when the client id is set but `.secrets/github-client-secret` is missing. */
export function githubSecretHint(dir?: string): string {
  const flag = dirFlag(dir);
  return `run \`mcp-gateway github register${flag} --manual --force\` with the app's client id and secret (or \`mcp-gateway github register${flag} --force\` for a new GitHub App)`;
}

function dirFlag(dir: string | undefined): string {
  if (dir === undefined) return '';
  return ` --dir ${/^[\w@%+=:,./-]+$/.test(dir) ? dir : `'${dir.replace(/'/g, `'\\''`)}'`}`;
}
