/**
 * The environment a stdio MCP server starts with: an allowlist of the gateway's own variables
 * (what npx, uvx and TLS need to work on this host) plus the server's configured env. Never the
 * whole parent env: the gateway holds its signing keys, GitHub client secret and Redis URL in
 * its environment, and a third-party MCP server has no business seeing them.
 */
const INHERITED_NAMES = new Set([
  'PATH',
  'HOME',
  'USER',
  'LANG',
  'TZ',
  'TMPDIR',
  'NODE_EXTRA_CA_CERTS',
  'SSL_CERT_FILE',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
]);

function isInherited(name: string): boolean {
  return INHERITED_NAMES.has(name) || name.startsWith('LC_');
}

export function buildChildEnv(parentEnv: NodeJS.ProcessEnv, configured: Readonly<Record<string, string>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(parentEnv)) {
    if (value !== undefined && isInherited(name)) env[name] = value;
  }
  return Object.assign(env, configured);
}
